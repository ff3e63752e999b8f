//===----------------------------------------------------------------------===//
//
// This source file is part of the job open source project
//
// Copyright (c) 2026 the job project authors
// Licensed under Apache License v2.0
//
// See LICENSE.txt for license information
//
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import JobTestSupport
import Testing

/// What a new user tripped over (issue 22), each from the user's side.
@Suite("what a new user trips over")
struct NewUserTests {
    @Test("an option of the verb after a script is refused (exit 2), saying where options go; after -- it is passed on")
    func optionsAfterTheCommand() throws {
        let home = try TestHome()
        for words in [
            ["start", "echo hi", "--name", "late"], ["start", "echo hi", "--name=late"],
            ["invoke", "--computer", "localhost", "echo hi", "--throttle-limit", "2"],
        ] {
            let refused = try home.job(words)
            #expect(refused.status == 2, "\(words): \(refused.stderr)")
            #expect(refused.stderr.contains("before the command"), "\(refused.stderr)")
        }
        #expect(try home.job("get", "--format", "json").stdout == "[]\n")
        // After --, or behind a program's name (its own arguments), the words are the command's.
        #expect(try home.job("start", "--quiet", "--", "echo hi", "--name", "late").status == 0)
        #expect(try home.record(1)["command"] as? String == "'echo hi' --name late")
        #expect(try home.job("start", "--quiet", "echo", "--name", "x").status == 0)
        #expect(try home.job("receive", "3", "--wait").stdout == "--name x\n")
    }
}

/// The licence: the text beside the code, a header in every source file, the package's notice.
@Suite("the licence")
struct LicenceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test("Apache-2.0: LICENSE.txt, an SPDX header in every Swift and C file, and the package's copyright file")
    func licence() throws {
        let text = try String(contentsOfFile: Self.root + "/LICENSE.txt", encoding: .utf8)
        #expect(text.contains("Apache License") && text.contains("Version 2.0, January 2004"))
        var missing: [String] = []
        for folder in ["Sources", "Tests", "Benchmarks", "Examples", "Plugins"] {
            let base = Self.root + "/" + folder
            for path in FileManager.default.enumerator(atPath: base)?.compactMap({ $0 as? String }) ?? []
            where [".swift", ".c", ".h"].contains(where: path.hasSuffix) && !path.contains(".build/") {
                let source = try String(contentsOfFile: base + "/" + path, encoding: .utf8)
                if !source.prefix(1200).contains("SPDX-License-Identifier: Apache-2.0") {
                    missing.append(folder + "/" + path)
                }
            }
        }
        #expect(missing.isEmpty, "no licence header: \(missing)")
        let script = try String(contentsOfFile: Self.root + "/scripts/package-deb", encoding: .utf8)
        #expect(script.contains("License: Apache-2.0\n") && !script.contains("License: unspecified"))
    }
}
