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
import PackagePlugin

/// Writes `BuildCommit.swift`, the commit `job --version` names, from `git rev-parse` at build
/// time. It runs again when the checkout's HEAD moves (its inputs are `.git/HEAD` and the
/// branch it points at); outside a git checkout the commit is "unknown".
@main
struct BuildCommit: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("BuildCommit.swift")
        let git = root.appendingPathComponent(".git")
        var inputs: [URL] = []
        let head = git.appendingPathComponent("HEAD")
        if let text = try? String(contentsOf: head, encoding: .utf8) {
            inputs.append(head)
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.hasPrefix("ref: ") {
                let branch = git.appendingPathComponent(String(trimmed.dropFirst(5)))
                if FileManager.default.fileExists(atPath: branch.path) { inputs.append(branch) }
            }
            let packed = git.appendingPathComponent("packed-refs")
            if FileManager.default.fileExists(atPath: packed.path) { inputs.append(packed) }
        }
        let script = """
            commit=$(git -C "$1" rev-parse --short=12 HEAD 2>/dev/null) || commit=unknown
            printf '/// The commit this program was built from.\\n' >"$2"
            printf 'let buildCommit = "%s"\\n' "$commit" >>"$2"
            """
        return [
            .buildCommand(
                displayName: "Recording the commit of \(target.name)", executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "sh", root.path, output.path], inputFiles: inputs, outputFiles: [output])
        ]
    }
}
