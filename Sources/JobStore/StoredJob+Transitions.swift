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

/// A child's changes of state, each named. `state` can be set only here (the compiler refuses
/// it elsewhere), so the rules are in one place, which `TransitionTests` drives from every state
/// without processes:
///
///     NotStarted --begin--> Running --launched--> Running, with its pid
///     Running --launchFailed--> Failed
///     NotStarted --neverStarted--> Failed (what it waited for in the queue failed or is gone)
///     Running --suspend--> Suspended --resume--> Running
///     Running --unbegin--> NotStarted (its begin could not be stored: it was not launched)
///     NotStarted --requestStop--> Stopped ("stopped before it started")
///     Running --requestStop--> Stopping
///     Running or Stopping --apply(outcome)--> Completed, Failed or Stopped
///     Running, Stopping or Suspended --hitLimit--> Failed (its timeout or output cap)
///     Running or Suspended --stopDelivered--> Stopping (a durable child's stop sent or pending)
///     any unfinished --follow(remote:)--> Running, Stopping or Suspended (as its computer says)
///     any unfinished --remoteEnded--> Completed, Failed or Stopped (as it ended there)
///     any unfinished --disconnect--> Disconnected (its link to its computer is lost)
///     any unfinished --fail--> Failed (it can never run or be reached: a link that cannot be
///                              made, a session that ended)
///     any finished --renew--> NotStarted (restart: a new run with a new InstanceId)
///     NotStarted --submitted--> NotStarted, with its id in the scheduler
///     any unfinished --follow(scheduler:)--> NotStarted, Running or Suspended (as the
///                              scheduler says; Stopping whenever a stop was asked for)
///     any unfinished --endInSession--> Failed or Stopped (its session ended under it)
extension StoredJob {
    /// To be launched: Running from now, stored so before the launch, so that no job runs
    /// that the store does not know.
    package mutating func begin(at time: Date = Date()) {
        state = .running
        beginTime = time
    }

    /// Back to waiting: its begin could not be stored, so it was not launched.
    package mutating func unbegin() {
        state = .notStarted
        beginTime = nil
    }

    /// Its launch succeeded: its process (0 when only its monitor is known yet) and monitor.
    package mutating func launched(pid: Int, startTime: Int64?, monitorPid: Int) {
        state = .running
        self.pid = pid > 0 ? pid : nil
        pidStart = startTime
        waiterPid = monitorPid > 0 ? monitorPid : nil
    }

    /// Its launch failed, and why.
    package mutating func launchFailed(_ why: String, at time: Date = Date()) {
        state = .failed
        reason = why
        endTime = time
    }

    /// Its process group was stopped (SIGSTOP): Suspended since `time`.
    package mutating func suspend(at time: Date = Date()) {
        state = .suspended
        suspendedAt = time
    }

    /// Its process group goes on (SIGCONT): Running, the time it spent suspended counted.
    package mutating func resume(at time: Date = Date()) {
        state = .running
        suspendedFor += max(0, time.timeIntervalSince(suspendedAt ?? time))
        suspendedAt = nil
    }

    /// It waited in the queue for a job that failed or is gone: it never starts.
    package mutating func neverStarted(_ why: String, at time: Date = Date()) {
        state = .failed
        reason = why
        endTime = time
    }

    /// A stop was asked for. One that had not started is Stopped at once; an unfinished one
    /// is Stopping until its end is seen. Whether its processes are to be signalled.
    package mutating func requestStop(at time: Date = Date()) -> Bool {
        guard !state.isFinished else { return false }
        guard state != .notStarted else {
            state = .stopped
            reason = "stopped before it started"
            endTime = time
            return false
        }
        stopRequested = true
        state = .stopping
        return true
    }

    /// Its end, by the outcome rule (`JobOutcome`): its final state, status and reason.
    package mutating func apply(_ outcome: JobOutcome) {
        state = outcome.state
        exitStatus = outcome.exitStatus
        signal = outcome.signal
        reason = outcome.reason
    }

    /// Its timeout or output cap stopped it: Failed, whatever its end was, and why.
    package mutating func hitLimit(_ why: String) {
        state = .failed
        reason = why
    }

    /// A durable child's stop went to its computer, or waits for the next link: Stopping.
    package mutating func stopDelivered(grace: Double, pending: String? = nil) {
        stopRequested = true
        stopGrace = grace
        state = .stopping
        if let pending { reason = pending }
    }

    /// A linked remote child takes the state its computer reports (Running, Stopping or
    /// Suspended; Stopping whenever a stop was asked for). `relinked`: the first report of a
    /// new link, which ends a Disconnected spell.
    package mutating func follow(remote: JobState, relinked: Bool, at time: Date = Date()) {
        let next: JobState
        switch remote.known {
        case .suspended: next = .suspended
        case .stopping: next = .stopping
        case .running, .notStarted, .blocked, .disconnected, .completed, .failed, .stopped:
            next = stopRequested ? .stopping : .running
        }
        if next == .suspended && state != .suspended { suspend(at: time) }
        state = next
        if relinked {
            disconnectedAt = nil
            reason = nil
        }
    }

    /// A remote child ended on its computer: it ends as it did there (an unfinished state from
    /// there is Failed), Stopped rather than Completed when a stop was asked for.
    package mutating func remoteEnded(
        _ remote: JobState, exitStatus: Int?, signal: Int?, reason: String?, timedOut: Bool, at time: Date = Date()
    ) {
        state = remote.isFinished ? remote : .failed
        self.exitStatus = exitStatus
        self.signal = signal
        self.reason = reason
        self.timedOut = self.timedOut || timedOut
        endTime = time
        disconnectedAt = nil
        if stopRequested && state == .completed { state = .stopped }
    }

    /// A scheduler took it (`sbatch` answered): its id there; it waits there until it runs.
    package mutating func submitted(as id: String, reason why: String?) {
        schedulerJobId = id
        reason = why
    }

    /// A scheduler's child takes the unfinished state the scheduler reports: NotStarted while
    /// it waits there (with the scheduler's reason; again when requeued), Running once it runs
    /// (on `location`), Suspended while held or suspended; Stopping whenever a stop was asked
    /// for (the scheduler has yet to end it). Its end comes by `remoteEnded`.
    package mutating func follow(
        scheduler: JobState, reason why: String?, location: String?, at time: Date = Date()
    ) {
        var next: JobState
        switch scheduler.known {
        case .suspended: next = .suspended
        case .notStarted: next = .notStarted
        case .running, .stopping, .completed, .failed, .stopped, .blocked, .disconnected: next = .running
        }
        if stopRequested { next = .stopping }
        if next == .suspended && state != .suspended { suspend(at: time) }
        if next != .suspended && state == .suspended { resume(at: time) }
        if next == .running && beginTime == nil { beginTime = time }
        state = next
        reason = why
        if let location { self.location = location }
    }

    /// Its link to its computer is lost (since `since`, kept from the first loss): Disconnected.
    package mutating func disconnect(since: Date, reason why: String) {
        if disconnectedAt == nil { disconnectedAt = since }
        state = .disconnected
        reason = why
    }

    /// It can never run or be reached again: Failed, and why.
    package mutating func fail(_ why: String, at time: Date = Date()) {
        state = .failed
        reason = why
        endTime = time
        disconnectedAt = nil
    }

    /// Its session ended under it: the state and Reason the session gives it.
    package mutating func endInSession(_ end: JobState, reason why: String, at time: Date = Date()) {
        state = end.isFinished ? end : .failed
        reason = why
        endTime = time
    }

    /// A new run (restart): NotStarted, with a new InstanceId, everything of the last run
    /// cleared; the old InstanceId goes to its history when its output is kept.
    package mutating func renew(instanceId: String, keepingHistory: Bool, bootId: String?) {
        if keepingHistory { history.append(self.instanceId) }
        self.instanceId = instanceId
        restarts += 1
        state = .notStarted
        stopRequested = false
        reason = nil
        exitStatus = nil
        signal = nil
        pid = nil
        pidStart = nil
        waiterPid = nil
        waiterStart = nil
        beginTime = nil
        endTime = nil
        (outputRead, errorRead, outputSize, errorSize) = (0, 0, 0, 0)
        timedOut = false
        outputCapped = false
        schedulerJobId = nil
        suspendedAt = nil
        suspendedFor = 0
        disconnectedAt = nil
        self.bootId = bootId
    }
}
