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
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A piece of one child job's output, as it was written: bytes, not lines.
public struct OutputChunk: Sendable, Equatable {
    public enum Stream: String, Sendable {
        case output, error
    }
    /// The child job that wrote it.
    public var jobId: Int
    /// The name of the job the user started (the child's parent): `build`, else `Job1`.
    public var name: String
    /// Where the child runs (`localhost` for a local job).
    public var computer: String
    public var stream: Stream
    public var bytes: [UInt8]
}

/// The output of the selected jobs as an `AsyncSequence` of chunks, in the order of the
/// children and, within one child, stdout's new bytes before stderr's.
///
/// Without `keep` it consumes, as `job receive` does: each byte goes to one reader. A chunk
/// counts as read once the sequence has handed it out; a reader that stops early leaves the
/// rest for the next. With `follow` it goes on until every selected job has finished and its
/// output is read; without, it ends once what is there has been read.
public struct JobOutput: AsyncSequence, Sendable {
    public typealias Element = OutputChunk
    public typealias Failure = JobError

    let client: JobClient
    let selection: JobSelection
    let keep: Bool
    let follow: Bool
    let fromStart: Bool

    public func makeAsyncIterator() -> Iterator {
        Iterator(
            reader: OutputReader(client: client, selection: selection, keep: keep, follow: follow, fromStart: fromStart)
        )
    }

    public struct Iterator: AsyncIteratorProtocol {
        public typealias Failure = JobError
        let reader: OutputReader

        public mutating func next() async throws(JobError) -> OutputChunk? {
            try await reader.next()
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(JobError) -> OutputChunk? {
            try await reader.next()
        }
    }
}

extension JobClient {
    /// The output of the selected jobs (their children's, for parents) as chunks; see
    /// ``JobOutput``. `fromStart` reads everything again, from the first byte.
    public func output(of selection: JobSelection, keep: Bool = false, follow: Bool = true, fromStart: Bool = false)
        -> JobOutput
    {
        JobOutput(client: self, selection: selection, keep: keep, follow: follow, fromStart: fromStart)
    }
}

/// Reads rounds of output for one iterator. Its state is behind a mutex, taken by one blocking
/// step at a time on a Dispatch thread.
final class OutputReader: Sendable {
    private let state: Mutex<State>
    /// Written to by a cancelled task, to wake a reader waiting for output.
    private let wake: (read: Int32, write: Int32)

    struct State: ~Copyable {
        let client: JobClient
        let selection: JobSelection
        let keep: Bool
        let follow: Bool
        var fromStart: Bool
        var connection: JobClient?
        var events: JobClient?
        let watcher = OutputWatcher()
        var generation: UInt64 = 0
        var eventPending = false
        /// Chunks read and not yet handed out, each with where its stream is read to after it.
        var pending: [(chunk: OutputChunk, instanceId: String, position: Int64)] = []
        /// This round's claims and how far each has been handed out.
        var claims: [String: ReadAdvance] = [:]
        var claimOrder: [String] = []
        /// With `keep`, where each child has been read to (nothing moves in the agent).
        var positions: [String: (output: Int64, error: Int64)] = [:]
        var finished = false
        var checked = false
    }

    init(client: JobClient, selection: JobSelection, keep: Bool, follow: Bool, fromStart: Bool) {
        let first = State(client: client, selection: selection, keep: keep, follow: follow, fromStart: fromStart)
        // Armed before the first look at the files' sizes, so no write between goes unseen.
        if follow { first.watcher.watch(folder: client.home.jobsPath) }
        state = Mutex(first)
        var fds: [Int32] = [-1, -1]
        _ = cjob_pipe_cloexec(&fds)
        wake = (fds[0], fds[1])
    }

    deinit {
        // Hands back what was claimed and not handed out, so that the next reader gets it.
        state.withLock { state in try? Self.endRound(&state) }
        if wake.read >= 0 {
            close(wake.read)
            close(wake.write)
        }
    }

    func next() async throws(JobError) -> OutputChunk? {
        let wakeUp = wake.write
        return try await JobClient.cancellable("reading output") {
            var byte: UInt8 = 1
            _ = write(wakeUp, &byte, 1)
        } _: { () throws(JobError) in
            try self.step()
        }
    }

    /// The next chunk, reading rounds and waiting for output as needed.
    private func step() throws(JobError) -> OutputChunk? {
        try state.withLock { state throws(JobError) -> OutputChunk? in
            while true {
                if !state.pending.isEmpty {
                    let (chunk, instanceId, position) = state.pending.removeFirst()
                    if var claim = state.claims[instanceId] {
                        if chunk.stream == .output { claim.output = position } else { claim.error = position }
                        state.claims[instanceId] = claim
                    }
                    if state.pending.isEmpty { try Self.endRound(&state) }
                    return chunk
                }
                if state.finished { return nil }
                let grants = try Self.round(&state)
                if !state.pending.isEmpty { continue }
                try Self.endRound(&state)
                if grants.allSatisfy(\.state.isFinished) || !state.follow {
                    state.finished = true
                    return nil
                }
                try waitForOutput(&state, grants)
            }
        }
    }

    /// Claims what is new and reads it into `pending`.
    private static func round(_ state: inout State) throws(JobError) -> [StreamGrant] {
        if state.connection == nil { state.connection = try state.client.connection() }
        var request = ReceiveRequest(state.selection)
        request.keep = state.keep
        request.fromStart = state.fromStart
        state.fromStart = false
        let reply = try state.connection!.send(request)
        if !state.checked {
            state.checked = true
            if !reply.problems.isEmpty { throw JobError.notFound(reply.problems) }
        }
        state.generation = reply.generation
        for grant in reply.streams {
            var output = grant.outputOffset
            var error = grant.errorOffset
            // A reader that keeps follows its own positions only: another reader consuming the
            // same job moves the agent's, and going by those would skip what it took.
            if state.keep, let known = state.positions[grant.instanceId] {
                output = known.output
                error = known.error
            }
            let claimed = grant.outputEnd >= 0
            if claimed {
                state.claims[grant.instanceId] = ReadAdvance(instanceId: grant.instanceId, output: output, error: error)
                state.claimOrder.append(grant.instanceId)
            }
            for stream in [OutputChunk.Stream.output, .error] {
                let path = stream == .output ? grant.outputPath : grant.errorPath
                let start = stream == .output ? output : error
                let end = claimed ? (stream == .output ? grant.outputEnd : grant.errorEnd) : nil
                var position = start
                for piece in Self.read(path, from: start, upTo: end) {
                    position += Int64(piece.count)
                    let chunk = OutputChunk(
                        jobId: grant.id, name: grant.name, computer: grant.computer, stream: stream, bytes: piece)
                    state.pending.append((chunk, grant.instanceId, position))
                }
                if stream == .output { output = position } else { error = position }
            }
            if state.keep { state.positions[grant.instanceId] = (output, error) }
        }
        return reply.streams
    }

    /// Ends this round's claims where they were handed out to.
    private static func endRound(_ state: inout State) throws(JobError) {
        guard !state.claimOrder.isEmpty, let connection = state.connection else { return }
        let advances = state.claimOrder.compactMap { state.claims[$0] }
        state.claims = [:]
        state.claimOrder = []
        state.pending = []
        try connection.advance(advances)
    }

    /// Waits until output grows, the agent reports a change, or the task is cancelled.
    private func waitForOutput(_ state: inout State, _ grants: [StreamGrant]) throws(JobError) {
        if state.events == nil { state.events = try state.client.connection() }
        let events = state.events!
        state.watcher.watch(grants)
        if !state.eventPending {
            try events.post(WaitEventRequest(after: state.generation, timeout: JobClient.waitSlice))
            state.eventPending = true
        }
        let due = JobClient.waitSlice + JobClient.patience
        switch state.watcher.waitForChange(orReadable: events.socketFD, interrupt: wake.read, timeout: due) {
        case .socket:
            state.generation = try events.collect(WaitEventRequest.self).generation
            state.eventPending = false
        case .output:
            break
        case .interrupted:
            throw JobError(.cancelled, "reading output was cancelled")
        case .timedOut:
            throw events.unresponsive()
        }
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
