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

/// A JOB_HOME that others could have prepared: the agent refuses it, or makes it private, and
/// never writes through a link it did not make. These tests give files to another user, so
/// they run as root (CI does).
@Suite("a JOB_HOME others could have prepared", .timeLimit(.minutes(10)))
struct PrivateHomeTests {
    let home: TestHome
    let other: uid_t = 4321

    init() throws {
        home = try TestHome()
        try FileManager.default.createDirectory(atPath: home.path, withIntermediateDirectories: true)
        chmod(home.path, 0o700)
        guard getuid() == 0 else { throw TestFailure("these tests must run as root to give files to another user") }
    }

    @Test("a home others can write is refused, with what to do; nothing is made in it")
    func writableByOthers() throws {
        chmod(home.path, 0o777)
        let result = try home.job("get")
        #expect(result.status == 1)
        #expect(result.stderr.contains("can be written by other users (mode 777)"))
        #expect(result.stderr.contains("chmod 700"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: home.path).filter { $0 != "start.lock" }.isEmpty)
    }

    @Test("a home others can only read is made private")
    func readableByOthers() throws {
        chmod(home.path, 0o755)
        #expect(try home.job("get").status == 0)
        var info = stat()
        stat(home.path, &info)
        #expect(info.st_mode & 0o777 == 0o700)
    }

    @Test(
        "planted links are refused and nothing is written through them",
        arguments: ["agent.lock", "agent.log", "jobs.sqlite", "jobs"])
    func plantedLink(_ name: String) throws {
        let target = home.scratch + "/target"
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: target))
        #expect(symlink(target, home.path + "/" + name) == 0)
        let result = try home.job("get")
        #expect(result.status == 1)
        #expect(result.stderr.contains("symbolic link"))
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "precious\n")
    }

    @Test("a store another user made is refused; one of ours that others can read is made private")
    func foreignStore() throws {
        let store = home.path + "/jobs.sqlite"
        #expect(FileManager.default.createFile(atPath: store, contents: nil))
        chmod(store, 0o644)
        #expect(chown(store, other, other) == 0)
        let refused = try home.job("get")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("belongs to uid \(other)"))
        #expect(chown(store, 0, 0) == 0)
        #expect(try home.job("start", "--quiet", "true").status == 0)
        var info = stat()
        stat(store, &info)
        #expect(info.st_mode & 0o777 == 0o600)
    }

    @Test("a socket folder another user made first is refused")
    func foreignSocketFolder() throws {
        let runtime = home.scratch + "/runtime"
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        chmod(runtime, 0o777)
        #expect(chown(runtime, other, other) == 0)
        // A home whose path is too long for a socket puts its socket in XDG_RUNTIME_DIR.
        let long = home.path + "/" + String(repeating: "d", count: 100)
        let result = try home.job(["get"], environment: ["JOB_HOME": long, "XDG_RUNTIME_DIR": runtime])
        #expect(result.status == 1)
        #expect(result.stderr.contains(runtime))
        #expect(try FileManager.default.contentsOfDirectory(atPath: runtime).isEmpty)
    }
}
