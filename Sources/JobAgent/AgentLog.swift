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
import JobCore
import Logging
import Synchronization

/// The agent's log: a swift-log `Logger` whose handler appends to `JOB_HOME/agent.log` (the
/// agent has no terminal), one line per event: time, level, pid, message. The file is capped:
/// past `limit` bytes it becomes `agent.log.1` (the one before that is dropped) and a new one
/// begins, so a long-lived agent never fills the disk with its log.
final class AgentLog: Sendable {
    let logger: Logger

    /// `level`: the least that is written (`JOB_LOG_LEVEL`; info unless set).
    private let file: AgentLogFile

    init(path: String, limit: Int64 = AgentLogFile.defaultLimit, level: Logger.Level = .info) {
        let file = AgentLogFile(path: path, limit: limit)
        self.file = file
        logger = Logger(label: "job.agent") { _ in AgentLogHandler(file: file, logLevel: level) }
    }

    /// Closes the file: what is logged after this is dropped.
    func close() { file.close() }

    /// Something the agent did: a start, an adoption, a restart.
    func write(_ message: String) { logger.info("\(message)") }

    /// A detail of interest when something is looked into (`JOB_LOG_LEVEL=debug`).
    func debug(_ message: @autoclosure () -> String) { logger.debug("\(message())") }

    /// Something that went wrong or was refused, with its reason.
    func warning(_ message: String) { logger.warning("\(message)") }
}

/// The log file, shared by every handler of the agent, written under a lock.
final class AgentLogFile: Sendable {
    static let defaultLimit: Int64 = 1 << 20
    let path: String
    let limit: Int64
    private let state: Mutex<(fd: Int32, size: Int64)>

    init(path: String, limit: Int64) {
        self.path = path
        self.limit = limit
        state = Mutex(Self.open(path))
    }

    private static func open(_ path: String) -> (fd: Int32, size: Int64) {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o600)
        var info = stat()
        let size = fd >= 0 && fstat(fd, &info) == 0 ? Int64(info.st_size) : 0
        return (fd, size)
    }

    func close() {
        state.withLock { file in
            if file.fd >= 0 { Glibc.close(file.fd) }
            file.fd = -1
        }
    }

    func append(_ line: String) {
        state.withLock { file in
            if file.size > 0 && file.size + Int64(line.utf8.count) > limit {
                // agent.log -> agent.log.1 (rename replaces the older one), then a new file.
                guard file.fd >= 0 else { return }
                Glibc.close(file.fd)
                rename(path, path + ".1")
                file = Self.open(path)
            }
            guard file.fd >= 0 else { return }
            let written = line.withCString { Glibc.write(file.fd, $0, strlen($0)) }
            if written > 0 { file.size += Int64(written) }
        }
    }
}

/// A swift-log handler that writes `TIME LEVEL [PID] MESSAGE key=value...` lines to the file.
struct AgentLogHandler: LogHandler {
    let file: AgentLogFile
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        // A line per start is written on the start's path: no dictionary is made, nor the text
        // searched through Foundation, for the usual line without metadata or newlines.
        var pairs = ""
        if !metadata.isEmpty || !(event.metadata ?? [:]).isEmpty {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            pairs = merged.keys.sorted().map { " \($0)=\(merged[$0]!)" }.joined()
        }
        var text = "\(event.message)"
        if text.utf8.contains(0x0A) { text = text.replacingOccurrences(of: "\n", with: " ") }
        file.append("\(Timestamp.format(Date())) \(event.level) [\(Self.pid)] \(text)\(pairs)\n")
    }

    private static let pid = getpid()
}
