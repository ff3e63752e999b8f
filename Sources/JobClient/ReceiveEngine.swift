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

/// One stream of one child as a round hands it to a sink: where this reader starts, and, for a
/// consuming reader, where its claim ends.
package struct OutputSpan: Sendable {
    package var grant: StreamGrant
    package var stream: OutputChunk.Stream
    /// The first byte this reader has not taken.
    package var from: Int64
    /// The end of the part the agent claimed for this reader; nil for a reader that keeps
    /// (nothing is claimed: it reads to the file's end as it is now).
    package var end: Int64?

    package var path: String { stream == .output ? grant.outputPath : grant.errorPath }
    /// The job has finished: a last line without a newline is complete too.
    package var final: Bool { grant.state.isFinished }
}

/// Where the bytes of a `ReceiveEngine` go: a descriptor (raw, prefixed or JSON lines), chunks
/// for the library's `AsyncSequence`, mirror frames for `__attach`.
package protocol OutputSink {
    /// Before a round's request (a consuming reader guards its claims from here).
    mutating func roundBegins()
    /// The round's grants, before any of their bytes. False: the reader is gone.
    mutating func claimed(_ grants: [StreamGrant]) -> Bool
    /// Takes the span's bytes: how far it took them, and whether its reader went away.
    mutating func take(_ span: OutputSpan) -> OutputPump.Result
    /// After the round's claims were ended; also when the round failed (with no grants).
    mutating func roundEnded(_ grants: [StreamGrant])
}

extension OutputSink {
    package mutating func roundBegins() {}
    package mutating func claimed(_ grants: [StreamGrant]) -> Bool { true }
    package mutating func roundEnded(_ grants: [StreamGrant]) {}
}

/// The one receive loop of the package, behind `receive`, `log`, `receive --wait`, a streaming
/// `invoke`, `enter`, the library's `JobOutput` and `__attach`: rounds of claiming what is new
/// in the selected jobs' output, handing it to a sink, and ending each claim where the sink got
/// to (what it did not take is the next reader's); between rounds, a wait for the files to
/// grow (inotify) or the agent to report a change, which notices an agent that stopped
/// answering and follows one that was replaced.
///
/// A consuming reader's position lives in the agent; a reader that keeps (`--keep`, `log`,
/// `__attach`) moves nothing there and remembers its own.
package struct ReceiveEngine {
    let connection: JobClient
    let selection: JobSelection
    let keep: Bool
    let noRecurse: Bool
    var fromStart: Bool
    /// Each stream starts this many lines before its end (`log --tail N`).
    package var tailLines: Int?
    /// The agent's change counter as of the last round.
    package private(set) var generation: UInt64 = 0
    /// The first round's selectors that named nothing.
    package private(set) var problems: [String]?
    /// A sink said its reader went away: nothing more is handed out.
    package private(set) var readerGone = false
    /// With `keep`, where each child (by InstanceId) has been read to.
    private var positions: [String: (output: Int64, error: Int64)] = [:]
    private var firstPositions: (output: Int64, error: Int64)?
    /// With `keep`, the last round's grants, read again while only the files changed.
    private var lastGrants: [StreamGrant]?
    private var agentChanged = true
    private let watcher = OutputWatcher()
    private var events: JobClient?
    private var eventPending = false
    private var answerDue = 0.0

    package init(connection: JobClient, selection: JobSelection, keep: Bool, fromStart: Bool, noRecurse: Bool = false) {
        self.connection = connection
        self.selection = selection
        self.keep = keep
        self.fromStart = fromStart
        self.noRecurse = noRecurse
    }

    /// A reader that keeps starts each child it has not read yet at these positions
    /// (`__attach`, whose one child goes on from where the other side has its bytes).
    package mutating func start(output: Int64, error: Int64) {
        firstPositions = (output, error)
    }

    /// Arms the wait for output before the first look at the files' sizes, so that a write
    /// between that look and the first wait still wakes it.
    package func follow() {
        watcher.watch(folder: connection.home.jobsPath)
    }

    /// What one round claimed and where the sink took it to.
    package struct Round {
        package var grants: [StreamGrant]
        /// Each claim at its start (for a reader that ends its claims later, as it hands out).
        package var claims: [ReadAdvance] = []
        /// Each claim where the sink took it to.
        package var reached: [ReadAdvance] = []
    }

    /// One round into `sink`, its claims ended where the sink got to.
    package mutating func round(into sink: inout some OutputSink) throws(JobError) -> [StreamGrant] {
        sink.roundBegins()
        let round: Round
        do throws(JobError) {
            round = try claim(into: &sink)
            if !keep { try connection.advance(round.reached) }
        } catch {
            sink.roundEnded([])
            throw error
        }
        sink.roundEnded(round.grants)
        return round.grants
    }

    /// One round into `sink`, its claims left open: the caller ends them (`settle`).
    package mutating func claim(into sink: inout some OutputSink) throws(JobError) -> Round {
        var round = Round(grants: try grants())
        if !readerGone && !sink.claimed(round.grants) { readerGone = true }
        for grant in round.grants {
            let claimed = grant.outputEnd >= 0
            var output = grant.outputOffset
            var error = grant.errorOffset
            // A reader that keeps follows its own positions only: another reader consuming the
            // same job moves the agent's, and going by those would skip what it took.
            if keep, let known = positions[grant.instanceId] ?? firstPositions {
                (output, error) = known
            } else if let tailLines {
                output = max(output, OutputPump.startOfLastLines(tailLines, path: grant.outputPath))
                error = max(error, OutputPump.startOfLastLines(tailLines, path: grant.errorPath))
            }
            if claimed { round.claims.append(ReadAdvance(instanceId: grant.instanceId, output: output, error: error)) }
            // Once the reader is gone, nothing more is taken: the rest of every claim is read next.
            for stream in [OutputChunk.Stream.output, .error] where !readerGone {
                let end = claimed ? (stream == .output ? grant.outputEnd : grant.errorEnd) : nil
                let span = OutputSpan(grant: grant, stream: stream, from: stream == .output ? output : error, end: end)
                let taken = sink.take(span)
                if stream == .output { output = taken.position } else { error = taken.position }
                readerGone = taken.readerGone
            }
            if keep { positions[grant.instanceId] = (output, error) }
            if claimed {
                round.reached.append(ReadAdvance(instanceId: grant.instanceId, output: output, error: error))
            }
        }
        return round
    }

    /// Ends claims (each where its reader got to), so that other readers get their turn.
    package func settle(_ advances: [ReadAdvance]) throws(JobError) {
        try connection.advance(advances)
    }

    /// The grants of a round: asked of the agent, or, for a reader that keeps while only the
    /// files grew, the last round's (nothing it says about them has changed).
    private mutating func grants() throws(JobError) -> [StreamGrant] {
        if keep, !agentChanged, let lastGrants { return lastGrants }
        var request = ReceiveRequest(selection)
        request.keep = keep
        request.fromStart = fromStart
        request.noRecurse = noRecurse
        let reply = try connection.send(request)
        if problems == nil { problems = reply.problems }
        fromStart = false
        generation = reply.generation
        agentChanged = false
        lastGrants = reply.streams
        return reply.streams
    }

    /// What ended a wait between rounds.
    package enum Wake {
        /// The agent reported a change (or a new agent took over).
        case changed
        /// An output file grew.
        case output
        /// `interrupt` became readable.
        case interrupted
        /// The caller's `until` came.
        case timer
    }

    /// Waits for the grants' files to grow, the agent to report a change after this round,
    /// `interrupt` to become readable, or the monotonic time `until`. An agent that does not
    /// answer within its slice and the client's patience is a failure (stopped or stuck).
    package mutating func awaitChange(_ grants: [StreamGrant], interrupt: Int32 = -1, until: Double? = nil)
        throws(JobError) -> Wake
    {
        watcher.watch(grants)
        do throws(JobError) {
            if events == nil { events = try connection.connection() }
            let events = events!
            if !eventPending {
                // The agent answers within a slice even when nothing changed: an answer that
                // does not come in time means the agent is stopped or stuck.
                try events.post(WaitEventRequest(after: generation, timeout: JobClient.waitSlice))
                eventPending = true
                answerDue = JobClient.monotonicNow() + JobClient.waitSlice + JobClient.patience
            }
            let wakeAt = min(answerDue, until ?? .infinity)
            let wake = watcher.waitForChange(
                orReadable: events.socketFD, interrupt: interrupt, timeout: max(0, wakeAt - JobClient.monotonicNow()))
            switch wake {
            case .socket:
                generation = try events.collect(WaitEventRequest.self).generation
                eventPending = false
                agentChanged = true
                return .changed
            case .output:
                return .output
            case .interrupted:
                return .interrupted
            case .timedOut:
                if JobClient.monotonicNow() >= answerDue { throw events.unresponsive() }
                return .timer
            }
        } catch  where error.agentWentAway || events == nil {
            // The agent went away (its jobs run on): the stream goes on with the next one,
            // whose changes are counted from 0.
            events = nil
            eventPending = false
            generation = 0
            agentChanged = true
            return .changed
        }
    }

    /// How a stream ended.
    package enum End {
        /// Every selected job finished and its output went to the sink, or the reader went away.
        case finished([StreamGrant])
        /// `interrupt` became readable.
        case interrupted([StreamGrant])
    }

    /// Rounds into `sink` until every selected job has finished (or the reader went away).
    package mutating func stream(into sink: inout some OutputSink, interrupt: Int32 = -1) throws(JobError) -> End {
        follow()
        var grants = try round(into: &sink)
        // The fault suite stops the reader here, between its first look at the files and its
        // first wait, and writes output meanwhile: that output must wake the wait.
        if ProcessEnvironment.variable("JOB_TEST_FAULT") == "stream-after-first-round" { raise(SIGSTOP) }
        while !readerGone && !grants.allSatisfy(\.state.isFinished) {
            if try awaitChange(grants, interrupt: interrupt) == .interrupted { return .interrupted(grants) }
            grants = try round(into: &sink)
        }
        return .finished(grants)
    }
}
