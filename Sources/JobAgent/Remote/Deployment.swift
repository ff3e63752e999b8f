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

import CJobSupport
import Foundation
import JobCore
import JobProtocol
import Synchronization

/// `invoke --deploy`: before a durable child's first link, this agent's own `job` and
/// `job-agent` are copied to `~/.cache/job/VERSION/` on the computer, over the same shared
/// connection, unless they are there already with the same SHA-256. VERSION is the product's
/// version and the start of the `job` executable's checksum, so two builds never share a
/// folder. The computer must run the same OS on the same architecture (`uname -s`, `uname -m`),
/// else the child fails with both named. Each file is written to a temporary name, checked
/// there with `sha256sum`, and only then renamed into place, so a copy cut short is never run.
enum Deployment {
    /// This agent's executables, their checksums, and the system they run on.
    struct Local: Sendable {
        var files: [(name: String, path: String, checksum: String)]
        var system: String
        var folder: String
    }

    /// Worked out once, at the first deployment.
    static let local: Result<Local, DeployFailure> = {
        guard let me = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            return .failure(DeployFailure("cannot find this agent's executable"))
        }
        let folder = (me as NSString).deletingLastPathComponent
        var files: [(name: String, path: String, checksum: String)] = []
        for name in ["job", "job-agent"] {
            let path = folder + "/" + name
            let summed = capture(tool("sha256sum"), ["sha256sum", path], environment: [])
            let checksum = summed.output.split(separator: " ").first.map(String.init) ?? ""
            guard summed.status == 0, checksum.count == 64 else {
                return .failure(DeployFailure("cannot read \(path) to copy it (sha256sum failed)"))
            }
            files.append((name, path, checksum))
        }
        let system = capture(tool("uname"), ["uname", "-s", "-m"], environment: []).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let version = ProtocolVersion.product + "-" + files[0].checksum.prefix(12)
        return .success(Local(files: files, system: system, folder: ".cache/job/" + version))
    }()

    /// The computers this agent has deployed to (or found up to date), with the program to run there.
    private static let done = Mutex<[String: String]>([:])

    /// Makes sure the computer has this `job`; the program to run there, or why not. `ssh`
    /// is the ssh command line without its remote text.
    static func ensure(computer: String, ssh: [String], program: String, environment: [String]) -> DeployResult {
        if let known = done.withLock({ $0[computer] }) { return .ready(known) }
        let local: Local
        switch Self.local {
        case .success(let found): local = found
        case .failure(let failure): return .failed(failure.description)
        }
        let folder = "\"$HOME\"/" + local.folder
        let probe =
            "d=\(folder); uname -s -m; for f in "
            + local.files.map(\.name).joined(separator: " ")
            + "; do if [ -f \"$d/$f\" ]; then sha256sum \"$d/$f\" | cut -d' ' -f1; else echo none; fi; done"
        let answer = capture(program, ssh + [probe], environment: environment)
        guard answer.status == 0 else {
            return answer.status == 255 ? .unreachable : .failed("cannot look at \(computer) (exit \(answer.status))")
        }
        let lines = answer.output.split(separator: "\n").map(String.init)
        guard lines.count == 1 + local.files.count else {
            return .failed("cannot tell what \(computer) runs: uname and sha256sum answered '\(answer.output)'")
        }
        guard lines[0] == local.system else {
            return .failed(
                "cannot deploy job to \(computer): it runs \(lines[0]), and this job is built for \(local.system); "
                    + "install job there for its system")
        }
        for (offset, file) in local.files.enumerated() where lines[offset + 1] != file.checksum {
            let input = open(file.path, O_RDONLY | O_CLOEXEC)
            guard input >= 0 else { return .failed("cannot read \(file.path): \(String(cString: strerror(errno)))") }
            defer { close(input) }
            let copy =
                "d=\(folder); mkdir -p \"$d\" && t=\"$d/.\(file.name).$$\" && cat >\"$t\" && chmod 755 \"$t\" && "
                + "s=$(sha256sum \"$t\" | cut -d' ' -f1) && if [ \"$s\" = \(file.checksum) ]; then "
                + "mv -f \"$t\" \"$d/\(file.name)\"; else rm -f \"$t\"; echo \"checksum $s\"; exit 3; fi"
            let copied = capture(program, ssh + [copy], environment: environment, input: input)
            guard copied.status == 0 else {
                if copied.status == 255 { return .unreachable }
                return .failed(
                    "copying \(file.name) to \(computer) failed (exit \(copied.status)"
                        + (copied.output.isEmpty ? "" : ": " + copied.output.trimmingCharacters(in: .newlines)) + ")")
            }
        }
        let remote = folder + "/job"
        done.withLock { $0[computer] = remote }
        return .ready(remote)
    }

    /// A tool of the base system, by its usual paths.
    static func tool(_ name: String) -> String {
        for folder in ["/usr/bin", "/bin"] where access(folder + "/" + name, X_OK) == 0 { return folder + "/" + name }
        return "/usr/bin/" + name
    }

    /// Runs a program and returns its exit status and stdout (stderr goes away).
    static func capture(_ program: String, _ argv: [String], environment: [String], input: Int32 = -1) -> (
        status: Int32, output: String
    ) {
        let result = ChildProgram.run(program, argv, environment: environment, input: input)
        return (result.status, result.output)
    }

    /// Waits for a child to end: its exit status, or 255 (as ssh's own failures) when a
    /// signal ended it.
    static func reap(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 255
    }
}

enum DeployResult {
    /// The program to run there.
    case ready(String)
    /// ssh could not reach the computer (a link to try again).
    case unreachable
    /// It cannot be done; why.
    case failed(String)
}

struct DeployFailure: Error, CustomStringConvertible, Sendable {
    var description: String
    init(_ description: String) { self.description = description }
}
