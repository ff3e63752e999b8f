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

extension StopRequest: LockedHandler {
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage {
        state.stop(self)
    }
}

/// `stop`: SIGTERM to each process group, SIGKILL after the grace period.
extension RegistryState {
    /// What a Disconnected child's Reason says while its stop waits for the link.
    static let stopPending = "; a stop is pending, delivered once the link is back"

    func stop(_ options: StopRequest) -> JobsReply {
        let selection = options.selection
        let result = select(selection)
        stopLocked(ids: result.jobs.map(\.id), grace: options.grace, signal: options.signal.map(Int32.init) ?? SIGTERM)
        return JobsReply(jobs: result.jobs.compactMap { jobs[$0.id] }.map(record), problems: result.errors)
    }

    /// Stops these jobs (parents with all their children) and returns once they ended:
    /// `first` (SIGTERM unless `stop --signal`) to each process group, then SIGCONT to those that
    /// were suspended, SIGKILL to what is left after the grace period. Lock held.
    func stopLocked(ids: [Int], grace: Double, signal first: Int32 = SIGTERM) {
        var targets: [Int] = []
        var changed: [StoredJob] = []
        for id in ids {
            guard var job = jobs[id] else { continue }
            if job.parentId == nil {
                let kids = childIds(of: id)
                if kids.contains(where: { !(jobs[$0]?.state.isFinished ?? true) }) {
                    job.stopRequested = true
                    jobs[id] = job
                    changed.append(job)
                }
                targets += kids
            } else {
                targets.append(id)
            }
        }
        var signalled: [Int] = []
        var suspended: [Int] = []
        var durable: [Int] = []
        for id in Set(targets).sorted() {
            guard var job = jobs[id], !job.state.isFinished else { continue }
            let wasSuspended = job.state == .suspended
            switch backend(for: job).prepareStop(&job, first: first, grace: grace, in: self) {
            case .signalled:
                signalled.append(id)
                if wasSuspended { suspended.append(id) }
            case .handedOver: durable.append(id)
            case .neverStarted, .pending: break
            }
            jobs[id] = job
            changed.append(job)
        }
        persist(changed)
        for id in signalled {
            guard let job = jobs[id] else { continue }
            backend(for: job).deliverStop(job, first: first, in: self)
            // A suspended job takes its signal once it runs again.
            if suspended.contains(id) { signal(job, SIGCONT) }
        }
        let deadline = Monitor.now() + max(0, grace)
        // A durable child is waited for until it ended there (the remote agent's grace, and
        // a few seconds for the news), or until its link is lost.
        let durableDeadline = deadline + 10
        var killed = false
        var killedAt = 0.0
        var shellsKilled = false
        while true {
            // A stopping agent waits no more: the signals went, and the ends are the next agent's.
            if stopping { return }
            let pending = signalled.filter { id in
                guard let job = jobs[id] else { return false }
                if !job.state.isFinished { return true }
                return !killed && job.pid.map(ProcFS.groupHasLiveMembers) ?? false
            }
            let linked = durable.contains { id in
                jobs[id].map { !$0.state.isFinished && $0.state != .disconnected } ?? false
            }
            if pending.isEmpty && (!linked || Monitor.now() >= durableDeadline) { return }
            if pending.isEmpty {
                monitor.wait(until: min(durableDeadline, Monitor.now() + 0.5))
                continue
            }
            if !killed && Monitor.now() >= deadline {
                for id in signalled {
                    if let job = jobs[id] { signal(job, SIGKILL) }
                }
                killed = true
                killedAt = Monitor.now()
                continue
            }
            // What KILL did not end a second later, its backend ends otherwise if it can (a
            // session's shell running a loop of builtins).
            if killed && !shellsKilled && Monitor.now() >= killedAt + 1 {
                for id in pending {
                    if let job = jobs[id] { _ = backend(for: job).endStubborn(job, in: self) }
                }
                shellsKilled = true
                continue
            }
            monitor.wait(until: killed ? Monitor.now() + 1 : min(deadline, Monitor.now() + 0.02))
        }
    }
}
