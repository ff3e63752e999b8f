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

/// A short program the agent runs and waits for (`scp` to deploy, `sbatch`, `squeue`...): its
/// exit status, stdout and stderr. posix_spawn, so it is safe beside the agent's threads; in a
/// session of its own, so a terminal's signals do not reach it.
enum ChildProgram {
    struct Result {
        /// The exit status; 255 when a signal ended it or it could not be started.
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs `program` with `argv` (argv[0] first) and `environment` (empty: the agent's own),
    /// `input` as its stdin (/dev/null when -1), and reads stdout and stderr to their ends.
    static func run(_ program: String, _ argv: [String], environment: [String] = [], input: Int32 = -1) -> Result {
        var out: [Int32] = [-1, -1]
        var err: [Int32] = [-1, -1]
        guard cjob_pipe_cloexec(&out) == 0 else { return Result(status: 255, output: "", errors: "") }
        guard cjob_pipe_cloexec(&err) == 0 else {
            close(out[0])
            close(out[1])
            return Result(status: 255, output: "", errors: "")
        }
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        let pid = withCStringArray(argv) { argv in
            withCStringArray(environment) { envp in
                cjob_spawn_with_stdio(
                    program, argv, environment.isEmpty ? nil : envp, input >= 0 ? input : null, out[1], err[1], 1)
            }
        }
        let failure = errno
        close(out[1])
        close(err[1])
        close(null)
        var output: [UInt8] = []
        var errors: [UInt8] = []
        var open = [out[0], err[0]]
        var buffer = [UInt8](repeating: 0, count: 8192)
        // Both read as they come, so that neither pipe fills while the other is read.
        while !open.isEmpty {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for entry in fds where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count > 0 {
                    if entry.fd == out[0] { output += buffer[..<count] } else { errors += buffer[..<count] }
                } else {
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        close(out[0])
        close(err[0])
        guard pid > 0 else {
            return Result(
                status: 255, output: "", errors: "cannot run \(program): \(String(cString: strerror(failure)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return Result(
            status: (status & 0x7f) == 0 ? (status >> 8) & 0xff : 255, output: String(decoding: output, as: UTF8.self),
            errors: String(decoding: errors, as: UTF8.self))
    }
}
