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
import JobRemote
import JobStore

extension WaitRequest: LockedHandler {
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage {
        state.wait(self, connection: connection)
    }
}

extension WaitEventRequest: LockedHandler {
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage {
        state.waitEvent(since: generation, timeout: timeout, connection: connection)
    }
}

/// `wait` and the wait for any change that `receive --wait` uses.
extension RegistryState {
    /// Returns once the generation moves past `since`, or at the timeout.
    func waitEvent(since: UInt64, timeout: Double?, connection: Int32) -> WaitEventReply {
        let deadline = timeout.map { Monitor.now() + $0 }
        while generation == since, !stopping {
            if let deadline, Monitor.now() >= deadline { break }
            if Self.peerClosed(connection) { break }
            monitor.wait(until: min(deadline ?? .infinity, Monitor.now() + 1))
        }
        return WaitEventReply(generation: generation)
    }

    /// The reply to a wait, or `AnsweredWait` when the thread that read a job's end has sent it
    /// already (`answerWaits`).
    func wait(_ options: WaitRequest, connection: Int32) -> any TaggedMessage {
        let selection = options.selection
        let result = select(selection)
        var targets = result.jobs.map(\.id)
        if selection.isEmpty {
            targets = result.jobs.filter { !$0.state.isFinished }.map(\.id)
        }
        let deadline = options.timeout.map { Monitor.now() + max(0, $0) }
        var response = WaitReply()
        response.problems = result.errors
        let waiting = PendingWait(targets: targets, any: options.any, problems: result.errors)
        defer { waits[connection] = nil }
        while true {
            if let answered = waiting.answered { return answered }
            if let met = metReply(waiting) { return met }
            if let deadline, Monitor.now() >= deadline {
                // The jobs waited for, so that a client waiting in slices waits for these.
                response.timedOut = true
                response.jobs = targets.compactMap { jobs[$0] }.map(record)
                return response
            }
            if Self.peerClosed(connection) || stopping { return response }
            if waits[connection] == nil { log.debug("a wait for \(describe(targets)) is held") }
            waits[connection] = waiting
            monitor.wait(until: min(deadline ?? .infinity, Monitor.now() + 1))
        }
    }

    /// The reply to a wait whose condition is met now, or nil. Only unfinished targets are
    /// looked at again on each change. Lock held.
    private func metReply(_ waiting: PendingWait) -> WaitReply? {
        waiting.pending.removeAll(where: isFinished)
        let targets = waiting.targets
        guard waiting.any ? waiting.pending.count < targets.count || targets.isEmpty : waiting.pending.isEmpty
        else { return nil }
        var reply = WaitReply()
        reply.problems = waiting.problems
        let present = targets.compactMap { jobs[$0] }.map(record)
        reply.jobs = waiting.any ? present.filter(\.state.isFinished) : present
        return reply
    }

    /// Answers, from the thread that read a job's end, the waits that end met, before that end
    /// is stored: the client goes on without waiting for the commit nor for its own thread to
    /// be woken. Nothing is lost should the agent die before the commit: the monitor keeps the
    /// end until it is stored, and the next agent stores the same end. A reply is written
    /// without blocking; what the socket does not take at once is written by the wait's own
    /// thread, which finds the wait answered when it wakes. Lock held.
    func answerWaits() {
        for (connection, waiting) in waits where waiting.answered == nil {
            guard let reply = metReply(waiting),
                let frame = try? FrameChannel.frame({ Frame.writeReply(reply, verb: Verb.wait.rawValue, to: &$0) })
            else { continue }
            let sent = frame.withUnsafeBytes {
                send(connection, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            }
            guard sent >= 0 || errno == EAGAIN || errno == EWOULDBLOCK else { continue }
            waiting.answered = AnsweredWait(rest: Array(frame[max(0, sent)...]))
        }
    }

    /// The Ids a wait is for, as the log names them.
    private func describe(_ targets: [Int]) -> String {
        targets.isEmpty ? "no job" : targets.map { "Job\($0)" }.joined(separator: ", ")
    }

    /// Whether a job (parent or child) has finished, or is gone. Lock held.
    private func isFinished(_ id: Int) -> Bool { table.isFinished(id) }

    static func peerClosed(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN) | 0x2000, revents: 0)
        guard poll(&entry, 1, 0) > 0 else { return false }
        if entry.revents & (Int16(POLLHUP | POLLERR) | 0x2000) != 0 { return true }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0
    }
}

/// A wait that is blocked, as `answerWaits` needs it. Lock held for every use.
final class PendingWait {
    let targets: [Int]
    let any: Bool
    let problems: [String]
    /// The targets not finished when last looked at.
    var pending: [Int]
    /// Set once its reply has been written, or begun.
    var answered: AnsweredWait?

    init(targets: [Int], any: Bool, problems: [String]) {
        self.targets = targets
        self.any = any
        self.problems = problems
        pending = targets
    }
}

/// A wait's reply that the thread of a job's end wrote: what is left of its frame is written by
/// the wait's own thread (`Agent.serve`), nothing else.
struct AnsweredWait: TaggedMessage {
    var rest: [UInt8] = []
    init() {}
    init(rest: [UInt8]) { self.rest = rest }
    mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {}
}
