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
import JobStore

/// A durable child (`invoke --durable`): a job in its computer's own agent, mirrored here by a
/// link on a thread of its own (`Remote/Mirror.swift`, `Mirrors`). That agent signals and stops
/// it; this one sends word down the link, and stores a stop that cannot go yet.
struct DurableBackend: JobBackend {
    func launch(_ job: inout StoredJob, _ plan: LaunchPlan, in state: RegistryState) {
        if let scheduler = job.scheduler {
            // Submitted there: it waits as the scheduler says (its link brings the states). Its
            // begin time marks the launch until the scheduler runs it.
            job.begin(at: job.beginTime ?? Date())
            job.follow(
                scheduler: .notStarted, reason: "being submitted to \(scheduler) on \(job.location)", location: nil)
            state.log.write("submitting Job\(job.id) of \(plan.parent.name) to \(scheduler) on \(job.location)")
            state.beginMirror(job.id, fresh: job.schedulerJobId == nil)
            return
        }
        job.begin(at: job.beginTime ?? Date())
        state.log.write("started Job\(job.id) of \(plan.parent.name) on \(job.location) (durable)")
        state.beginMirror(job.id, fresh: true)
    }

    /// Its computer's agent signals it; KILL is that agent's own business, after a stop's grace.
    func signal(_ job: StoredJob, _ signal: Int32, in state: RegistryState) {
        if signal != SIGKILL { state.mirrorSend(job.id, .signal(Int(signal))) }
    }

    /// Its computer's agent stops it, with this grace; without a link, the stop is stored and
    /// the next link delivers it.
    func prepareStop(_ job: inout StoredJob, first: Int32, grace: Double, in state: RegistryState) -> StopStart {
        // Not launched yet (a scheduler's child waits NotStarted once launched: its link stops it).
        if job.state == .notStarted && state.mirrors[job.id] == nil {
            _ = job.requestStop()
            return .neverStarted
        }
        if job.state == .disconnected {
            job.stopRequested = true
            job.stopGrace = grace
            job.reason =
                (job.reason ?? "").replacingOccurrences(of: RegistryState.stopPending, with: "")
                + RegistryState.stopPending
            state.mirrorWake(job.id)
            return .pending
        }
        if state.mirrorSend(job.id, .stop(grace: grace, signal: Int(first))) {
            job.stopDelivered(grace: grace)
            return .handedOver
        }
        // Between links: the next one delivers it.
        job.stopDelivered(grace: grace, pending: "a stop is pending, delivered once the link to \(job.location) is up")
        state.mirrorWake(job.id)
        return .pending
    }

    /// Its link is made again, from where its output ends.
    func adopt(_ job: inout StoredJob, in state: RegistryState) -> Adoption {
        state.beginMirror(job.id)
        return .linking
    }

    /// Without its link it could not be stopped there: removing it here would leave its
    /// command running there, unseen.
    func removalProblem(_ job: StoredJob, in state: RegistryState) -> String? {
        guard !job.state.isFinished else { return nil }
        return "\(job.name) on \(job.location), which is \(job.state.rawValue) and not stopped there yet; its stop is "
            + "pending, delivered once the link is back: remove it then, or stop it there "
            + "(job stop --computer \(job.location))"
    }

    /// Its link ends for good; the other side's job is left to that agent.
    func forget(_ job: StoredJob, in state: RegistryState) {
        state.forgetWatches(job.id)
        state.mirrorCancel(job.id)
    }
}
