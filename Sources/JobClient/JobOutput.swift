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

/// Reads rounds of output for one iterator through a `ReceiveEngine` into chunks; a claim is
/// ended where its chunks were handed out to. The state is behind a mutex, taken by one
/// blocking step at a time on a Dispatch thread.
final class OutputReader: Sendable {
    private let state: Mutex<State>
    /// Written to by a cancelled task, to wake a reader waiting for output.
    private let wake: (read: Int32, write: Int32)

    struct State: ~Copyable {
        let client: JobClient
        let selection: JobSelection
        let keep: Bool
        let follow: Bool
        let fromStart: Bool
        var engine: ReceiveEngine?
        var sink = ChunkSink()
        /// This round's claims and how far each has been handed out.
        var claims: [ReadAdvance] = []
        var finished = false
        var checked = false
    }

    init(client: JobClient, selection: JobSelection, keep: Bool, follow: Bool, fromStart: Bool) {
        state = Mutex(State(client: client, selection: selection, keep: keep, follow: follow, fromStart: fromStart))
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
            if state.engine == nil {
                let engine = ReceiveEngine(
                    connection: try state.client.connection(), selection: state.selection, keep: state.keep,
                    fromStart: state.fromStart)
                if state.follow { engine.follow() }
                state.engine = engine
            }
            while true {
                if !state.sink.pending.isEmpty {
                    let (chunk, instanceId, position) = state.sink.pending.removeFirst()
                    if let index = state.claims.firstIndex(where: { $0.instanceId == instanceId }) {
                        if chunk.stream == .output {
                            state.claims[index].output = position
                        } else {
                            state.claims[index].error = position
                        }
                    }
                    if state.sink.pending.isEmpty { try Self.endRound(&state) }
                    return chunk
                }
                if state.finished { return nil }
                let round = try state.engine!.claim(into: &state.sink)
                state.claims = round.claims
                if !state.checked {
                    state.checked = true
                    if let problems = state.engine!.problems, !problems.isEmpty {
                        try Self.endRound(&state)
                        throw JobError.notFound(problems)
                    }
                }
                if !state.sink.pending.isEmpty { continue }
                try Self.endRound(&state)
                if round.grants.allSatisfy(\.state.isFinished) || !state.follow {
                    state.finished = true
                    return nil
                }
                if try state.engine!.awaitChange(round.grants, interrupt: wake.read) == .interrupted {
                    throw JobError(.cancelled, "reading output was cancelled")
                }
            }
        }
    }

    /// Ends this round's claims where they were handed out to.
    private static func endRound(_ state: inout State) throws(JobError) {
        guard !state.claims.isEmpty, let engine = state.engine else { return }
        let advances = state.claims
        state.claims = []
        state.sink.pending = []
        try engine.settle(advances)
    }
}
