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

/// A fixture script of `scripts/` run as `SCRIPT serve DIR ...` (`test-computers`,
/// `test-slurm`): ready once it prints `ready`, stopped by closing its stdin, after which it
/// ends what it started and exits. Its stderr goes to `DIR.log`.
final class ServedScript: @unchecked Sendable {
    private let process = Process()
    private let control = Pipe()
    private let directory: String
    private var stopped = false

    /// Starts `scripts/NAME serve DIRECTORY ARGUMENTS...` and returns once it is ready; throws
    /// (the test fails, it is not skipped) when it ends first, with its log.
    init(_ name: String, directory: String, arguments: [String] = [], environment: [String: String]? = nil) throws {
        self.directory = directory
        process.executableURL = URL(fileURLWithPath: TestComputers.projectRoot + "/scripts/" + name)
        process.arguments = ["serve", directory] + arguments
        if let environment { process.environment = environment }
        let output = Pipe()
        process.standardOutput = output
        let errors = directory + ".log"
        _ = FileManager.default.createFile(atPath: errors, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
        // The script runs until its stdin ends: closing this pipe is how it is stopped.
        process.standardInput = control
        try process.run()
        let line = output.fileHandleForReading.readLine()
        guard line == "ready" else {
            process.waitUntilExit()
            let log = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            throw TestFailure("\(name) could not set up (\(line ?? "no output")): \(log)")
        }
    }

    /// Ends what the script started, waits for it, and removes its folder and log.
    func stop() {
        guard !stopped else { return }
        stopped = true
        try? control.fileHandleForWriting.close()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.removeItem(atPath: directory + ".log")
    }

    deinit { stop() }
}
