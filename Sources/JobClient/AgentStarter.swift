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
import JobCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// Starts the agent of a home when none answers: under a lock file so that racing clients
/// start exactly one, detached from the caller's terminal and pipes, and waits on a pipe
/// until it listens (no polling).
struct AgentStarter {
    var home: JobHome
    var socketPath: String
    /// The agent's program: given, or found when an agent is to be started (`executable`), so
    /// that a command that finds its agent running looks for nothing.
    var givenExecutable: String?

    var executable: String { givenExecutable ?? JobClient.defaultAgentExecutable() }

    func start() throws(JobError) -> Int32 {
        try makeHome()
        let lock = open(home.startLockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard lock >= 0 else { throw failure("cannot open \(home.startLockPath)") }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 && errno == EINTR {}
        if let fd = try awaitLastAgent() { return fd }
        var ready: [Int32] = [0, 0]
        guard cjob_pipe_cloexec(&ready) == 0 else { throw failure("cannot make a pipe") }
        let argv = ["job-agent", "run", "--home", home.path, "--ready-fd", "3"]
        let executable = self.executable
        let pid = withCStringArray(argv) { cjob_spawn_daemon(executable, $0, ready[1]) }
        close(ready[1])
        defer { close(ready[0]) }
        guard pid > 0 else { throw failure("cannot start the agent \(executable)") }
        // An agent that could not be executed says nothing and exits.
        var message: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        let deadline = JobClient.monotonicNow() + 30
        while true {
            var entry = pollfd(fd: ready[0], events: Int16(POLLIN), revents: 0)
            let left = deadline - JobClient.monotonicNow()
            if left <= 0 || poll(&entry, 1, left.pollMilliseconds()) == 0 {
                throw JobError(
                    .connection,
                    "the agent started (pid \(pid)) but did not say it was ready within 30 s; see \(home.logPath)")
            }
            let n = read(ready[0], &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            message += buffer[..<n]
        }
        var lines = String(decoding: message, as: UTF8.self).split(separator: "\n").map(String.init)
        // After `ok`, what the agent found wrong at its start and did about it.
        let notices = lines.dropFirst().filter { $0.hasPrefix("notice: ") }.map { String($0.dropFirst(8)) }
        var text = lines.first ?? ""
        while text.last?.isWhitespace == true { text.removeLast() }
        if text != "ok" {
            lines = lines.filter { !$0.hasPrefix("notice: ") }
            text = lines.joined(separator: "\n")
        }
        guard text == "ok" else {
            let reason = text.isEmpty ? "it exited before listening (see \(home.logPath))" : text
            throw JobError(.connection, "could not start the agent: \(reason)")
        }
        guard let fd = try JobClient.connect(socketPath) else {
            throw JobError(.connection, "the agent started but does not answer at \(socketPath)")
        }
        if let tell = JobClient.agentNoticeHandler.withLock({ $0 }) { for notice in notices { tell(notice) } }
        return fd
    }

    /// An agent that was killed a moment ago may still hold the agent lock while it exits, and
    /// one started by hand may not listen yet: waits (at most 5 s) until the lock is free or an
    /// agent answers. Returns a connection when one does.
    private func awaitLastAgent() throws(JobError) -> Int32? {
        let fd = open(home.agentLockPath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return try JobClient.connect(socketPath) }
        defer { close(fd) }
        let deadline = JobClient.monotonicNow() + 5
        while true {
            if let connection = try JobClient.connect(socketPath) { return connection }
            if flock(fd, LOCK_SH | LOCK_NB) == 0 {
                flock(fd, LOCK_UN)
                return nil
            }
            if JobClient.monotonicNow() >= deadline { return nil }
            usleep(10_000)
        }
    }

    private func makeHome() throws(JobError) {
        var path = ""
        for component in home.path.split(separator: "/") {
            path += "/" + component
            var info = stat()
            if stat(path, &info) == 0 { continue }
            if mkdir(path, 0o700) != 0 && errno != EEXIST {
                throw JobError(
                    .connection,
                    "cannot create \(path) for JOB_HOME: \(String(cString: strerror(errno))); "
                        + "set JOB_HOME to a folder you can write")
            }
        }
        guard access(home.path, W_OK | X_OK) == 0 else {
            throw JobError(
                .connection, "cannot write in JOB_HOME \(home.path); set JOB_HOME to a folder you can write")
        }
    }

    private func failure(_ what: String) -> JobError {
        JobError(.connection, "\(what): \(String(cString: strerror(errno)))")
    }
}
