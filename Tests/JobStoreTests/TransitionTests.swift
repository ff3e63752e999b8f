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
import Testing

@testable import JobStore

/// Every named transition of a child, from every state, with and without a stop asked for:
/// the state it leaves the job in. `state` has no other setter outside JobStore (the compiler
/// refuses `job.state = ...` in the agent), so this table is the whole of the rules.
@Suite("a child's state changes only by its named transitions")
struct TransitionTests {
    static func job(in state: JobState, stopRequested: Bool) -> StoredJob {
        var job = StoredJob(
            id: 2, parentId: 1, instanceId: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", type: "", location: "localhost",
            command: "true", workingDirectory: "/", shell: "/bin/sh", state: state)
        job.stopRequested = stopRequested
        return job
    }

    typealias Transition = @Sendable (inout StoredJob) -> Void
    typealias Expected = @Sendable (_ state: JobState, _ stop: Bool) -> JobState

    /// Each transition, and the state it leads to from `state` (`stop`: a stop was asked for).
    static let transitions: [(String, Transition, Expected)] = [
        ("begin", { $0.begin() }, { _, _ in .running }),
        ("unbegin", { $0.unbegin() }, { _, _ in .notStarted }),
        ("launched", { $0.launched(pid: 42, startTime: 7, monitorPid: 41) }, { _, _ in .running }),
        ("launchFailed", { $0.launchFailed("no such folder") }, { _, _ in .failed }),
        ("suspend", { $0.suspend() }, { _, _ in .suspended }),
        ("resume", { $0.resume() }, { _, _ in .running }),
        ("neverStarted", { $0.neverStarted("job 1 failed") }, { _, _ in .failed }),
        (
            "requestStop", { _ = $0.requestStop() },
            { state, _ in state.isFinished ? state : state == .notStarted ? .stopped : .stopping }
        ),
        (
            "apply(exited 0)", { $0.apply(JobOutcome.of(.exited(0), stopRequested: $0.stopRequested, unseen: "")) },
            { _, stop in stop ? .stopped : .completed }
        ),
        (
            "apply(exited 3)", { $0.apply(JobOutcome.of(.exited(3), stopRequested: $0.stopRequested, unseen: "")) },
            // The outcome rule: a job stopped on request is Stopped, however it exited.
            { _, stop in stop ? .stopped : .failed }
        ),
        ("hitLimit", { $0.hitLimit("timed out after 1s") }, { _, _ in .failed }),
        ("stopDelivered", { $0.stopDelivered(grace: 5) }, { _, _ in .stopping }),
        (
            "follow(Running)", { $0.follow(remote: .running, relinked: true) },
            { _, stop in stop ? .stopping : .running }
        ),
        ("follow(Suspended)", { $0.follow(remote: .suspended, relinked: false) }, { _, _ in .suspended }),
        ("follow(Stopping)", { $0.follow(remote: .stopping, relinked: false) }, { _, _ in .stopping }),
        (
            "follow(Completed)", { $0.follow(remote: .completed, relinked: false) },
            { _, stop in stop ? .stopping : .running }
        ),
        (
            "remoteEnded(Completed)",
            { $0.remoteEnded(.completed, exitStatus: 0, signal: nil, reason: nil, timedOut: false) },
            { _, stop in stop ? .stopped : .completed }
        ),
        (
            "remoteEnded(Running)",
            { $0.remoteEnded(.running, exitStatus: nil, signal: nil, reason: "lost", timedOut: false) },
            { _, _ in .failed }
        ),
        ("disconnect", { $0.disconnect(since: Date(), reason: "the link was lost") }, { _, _ in .disconnected }),
        ("fail", { $0.fail("cannot be reached") }, { _, _ in .failed }),
        (
            "endInSession(Stopped)", { $0.endInSession(.stopped, reason: "the session was removed") },
            { _, _ in .stopped }
        ),
        ("endInSession(Running)", { $0.endInSession(.running, reason: "odd") }, { _, _ in .failed }),
        ("renew", { $0.renew(instanceId: "new", keepingHistory: true, bootId: nil) }, { _, _ in .notStarted }),
        ("submitted", { $0.submitted(as: "42", reason: "submitted to Slurm") }, { state, _ in state }),
        (
            "follow(scheduler: NotStarted)",
            { $0.follow(scheduler: .notStarted, reason: "pending in Slurm (Priority)", location: nil) },
            { _, stop in stop ? .stopping : .notStarted }
        ),
        (
            "follow(scheduler: Running)", { $0.follow(scheduler: .running, reason: nil, location: "node1") },
            { _, stop in stop ? .stopping : .running }
        ),
        (
            "follow(scheduler: Suspended)",
            { $0.follow(scheduler: .suspended, reason: "held in Slurm (JobHeldUser)", location: nil) },
            { _, stop in stop ? .stopping : .suspended }
        ),
    ]

    @Test("every transition from every state", arguments: JobState.allCases, [false, true])
    func everyTransition(from state: JobState, stopRequested: Bool) {
        for (name, transition, expected) in Self.transitions {
            var job = Self.job(in: state, stopRequested: stopRequested)
            transition(&job)
            #expect(
                job.state == expected(state, stopRequested), "\(name) from \(state) (stop asked: \(stopRequested))")
        }
    }

    @Test("what each transition records beside the state")
    func recorded() {
        var job = Self.job(in: .running, stopRequested: false)
        let signalled = job.requestStop()
        #expect(signalled && job.stopRequested)
        var waiting = Self.job(in: .notStarted, stopRequested: false)
        let waitingSignalled = waiting.requestStop()
        #expect(!waitingSignalled)
        #expect(waiting.reason == "stopped before it started" && waiting.endTime != nil)
        job.disconnect(since: Date(timeIntervalSince1970: 100), reason: "lost")
        job.disconnect(since: Date(timeIntervalSince1970: 200), reason: "lost again")
        // The first loss is kept: the Disconnected spell began then.
        #expect(job.disconnectedAt == Date(timeIntervalSince1970: 100) && job.reason == "lost again")
        job.follow(remote: .running, relinked: true)
        #expect(job.disconnectedAt == nil && job.reason == nil && job.state == .stopping)
        job.remoteEnded(.failed, exitStatus: 3, signal: nil, reason: "exited with status 3", timedOut: true)
        #expect(job.exitStatus == 3 && job.timedOut && job.endTime != nil)
        let old = job.instanceId
        job.renew(instanceId: "fresh", keepingHistory: true, bootId: "boot")
        #expect(job.instanceId == "fresh" && job.history == [old] && job.restarts == 1)
        #expect(job.exitStatus == nil && !job.timedOut && !job.stopRequested && job.endTime == nil)
        job.stopDelivered(grace: 2, pending: "a stop is pending")
        #expect(job.stopRequested && job.stopGrace == 2 && job.reason == "a stop is pending")
    }
}
