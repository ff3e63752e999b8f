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
import JobProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// The `job` command's output: stdout's bytes to descriptor 1 and stderr's to 2, raw, with
/// `NAME: ` before each line, or as JSON lines (both streams to 1). Only what a descriptor
/// accepted counts as taken.
package struct DescriptorSink: OutputSink {
    /// nil: lines are prefixed when the jobs span several computers.
    let prefix: Bool?
    let json: Bool
    /// A consuming reader: Ctrl-C, SIGTERM and SIGHUP during a round only stop the writing, so
    /// that what was claimed and not written is handed back before the signal ends the process.
    let consuming: Bool
    /// `log --stdout` / `--stderr`: only that stream is written.
    package var only: OutputChunk.Stream?
    /// `receive --group`: each child's stdout is kept here, in order, instead of written.
    package var collected: [(grant: StreamGrant, bytes: [UInt8])]?
    private var prefixed = false
    private var byComputer = false
    /// An array's tasks are told apart by their index (`3: line`), other Slurm jobs by their id.
    private var byTask = false
    private var taskBase: String?

    package init(prefix: Bool?, json: Bool, consuming: Bool) {
        self.prefix = prefix
        self.json = json
        self.consuming = consuming
    }

    package mutating func roundBegins() {
        if consuming { cjob_catch_interrupts() }
    }

    package mutating func roundEnded(_ grants: [StreamGrant]) {
        if consuming { cjob_release_interrupts() }
    }

    package mutating func claimed(_ grants: [StreamGrant]) -> Bool {
        // Lines are tagged with the computer when the jobs span several (the pdsh way), else
        // with the job's name.
        byComputer = Set(grants.map(\.computer)).count > 1
        let tasks = grants.compactMap(\.schedulerJobId)
        byTask = tasks.count == grants.count && tasks.count > 1
        let bases = Set(tasks.map { $0.prefix { $0 != "_" } })
        taskBase = bases.count == 1 && tasks.allSatisfy { $0.contains("_") } ? bases.first.map(String.init) : nil
        prefixed = prefix ?? (byComputer || byTask)
        return true
    }

    package mutating func take(_ span: OutputSpan) -> OutputPump.Result {
        let grant = span.grant
        if span.stream == .output, collected != nil {
            let read = OutputPump.read(path: span.path, from: span.from, end: span.end)
            if let index = collected!.firstIndex(where: { $0.grant.instanceId == grant.instanceId }) {
                collected![index].bytes += read.bytes
                collected![index].grant = grant
            } else {
                collected!.append((grant, read.bytes))
            }
            return OutputPump.Result(position: read.position, readerGone: false)
        }
        if let only, only != span.stream { return OutputPump.Result(position: span.from, readerGone: false) }
        let style: OutputStyle =
            json
            ? .json(id: grant.id, computer: grant.computer, stream: span.stream.rawValue)
            : prefixed ? .prefixed(label(grant)) : .raw
        return OutputPump.copy(
            path: span.path, from: span.from, to: span.stream == .output || json ? 1 : 2, style: style,
            final: span.final, end: span.end)
    }
}

extension DescriptorSink {
    /// How a line is tagged: by task (its index in one array, else its Slurm id), by computer
    /// where the jobs span several, else by the job's name.
    fileprivate func label(_ grant: StreamGrant) -> String {
        if byTask, let id = grant.schedulerJobId {
            if let taskBase, id.hasPrefix(taskBase + "_") { return String(id.dropFirst(taskBase.count + 1)) }
            return id
        }
        return byComputer ? grant.computer : grant.name
    }
}

/// The library's chunks: each span's bytes in pieces of at most 64 KiB, kept until handed out.
struct ChunkSink: OutputSink {
    /// Chunks read and not yet handed out, each with where its stream is read to after it.
    var pending: [(chunk: OutputChunk, instanceId: String, position: Int64)] = []

    mutating func take(_ span: OutputSpan) -> OutputPump.Result {
        var position = span.from
        for piece in Self.read(span.path, from: span.from, upTo: span.end) {
            position += Int64(piece.count)
            let grant = span.grant
            let chunk = OutputChunk(
                jobId: grant.id, name: grant.name, computer: grant.computer, stream: span.stream, bytes: piece)
            pending.append((chunk, grant.instanceId, position))
        }
        return OutputPump.Result(position: position, readerGone: false)
    }

    /// The bytes of `path` from `offset` to `end` (or to its end now), in pieces of 64 KiB.
    static func read(_ path: String, from offset: Int64, upTo end: Int64?) -> [[UInt8]] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var info = stat()
        let size = fstat(fd, &info) == 0 ? Int64(info.st_size) : 0
        let limit = min(size, end ?? .max)
        var pieces: [[UInt8]] = []
        var position = offset
        while position < limit {
            var buffer = [UInt8](repeating: 0, count: Int(min(1 << 16, limit - position)))
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(position)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            pieces.append(Array(buffer[..<count]))
            position += Int64(count)
        }
        return pieces
    }
}

/// `__attach`'s stdout, read by the local agent over ssh: the child's status when it changes,
/// then its new output, as `MirrorFrame`s; the bytes go from the files to the pipe by
/// sendfile, with no copy here.
package struct MirrorFrameSink: OutputSink {
    let instanceId: String
    /// The last status sent, so that a frame goes only when it changes.
    private var lastStatus: [UInt8] = []
    /// When the last frame went (a heartbeat is due `MirrorFrame.heartbeatSeconds` after).
    package private(set) var lastSent = JobClient.monotonicNow()
    private var buffer: [UInt8] = []

    package init(instanceId: String) {
        self.instanceId = instanceId
    }

    package mutating func claimed(_ grants: [StreamGrant]) -> Bool {
        guard let grant = grants.first else { return true }
        let status = status(of: grant)
        guard status != lastStatus else { return true }
        lastStatus = status
        return send(MirrorFrame.status, status)
    }

    /// The child's state, Reason and end, as a status or end frame carries them.
    package func status(of grant: StreamGrant) -> [UInt8] {
        var status = StreamGrant()
        status.instanceId = instanceId
        status.state = grant.state
        status.reason = grant.reason
        status.exitStatus = grant.exitStatus
        status.signal = grant.signal
        status.timedOut = grant.timedOut
        status.schedulerJobId = grant.schedulerJobId
        return status.encodedFields()
    }

    /// Writes one frame; false when nobody reads it any more.
    package mutating func send(_ kind: UInt8, _ payload: [UInt8]) -> Bool {
        lastSent = JobClient.monotonicNow()
        return FileWriter.writeAll(1, ArraySlice(MirrorFrame.header(kind, length: payload.count) + payload))
    }

    /// Sends what the file has past the span's start, in frames of at most 1 MiB: the header,
    /// then the bytes straight from the file (read and write where the kernel cannot).
    package mutating func take(_ span: OutputSpan) -> OutputPump.Result {
        let kind = span.stream == .output ? MirrorFrame.output : MirrorFrame.error
        var position = span.from
        let fd = open(span.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return OutputPump.Result(position: position, readerGone: false) }
        defer { close(fd) }
        while true {
            var info = stat()
            guard fstat(fd, &info) == 0, Int64(info.st_size) > position else { break }
            let count = Int(min(Int64(info.st_size) - position, 1 << 20))
            guard FileWriter.writeAll(1, ArraySlice(MirrorFrame.header(kind, length: count))) else {
                return OutputPump.Result(position: position, readerGone: true)
            }
            var offset = off_t(position)
            var left = count
            while left > 0 {
                let sent = sendfile(1, fd, &offset, left)
                if sent < 0 && errno == EINTR { continue }
                if sent < 0 && (errno == EINVAL || errno == ENOSYS) {
                    // This file system cannot: the same bytes through a buffer.
                    if buffer.isEmpty { buffer = [UInt8](repeating: 0, count: 1 << 20) }
                    let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, left, offset) }
                    guard got > 0, FileWriter.writeAll(1, buffer[..<got]) else {
                        // A frame cut short: the other side cannot read on from here.
                        return OutputPump.Result(position: position, readerGone: true)
                    }
                    offset += off_t(got)
                    left -= got
                    continue
                }
                guard sent > 0 else { return OutputPump.Result(position: position, readerGone: true) }
                left -= sent
            }
            lastSent = JobClient.monotonicNow()
            position += Int64(count)
        }
        return OutputPump.Result(position: position, readerGone: false)
    }
}
