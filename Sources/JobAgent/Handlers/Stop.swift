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

extension StopRequest: Handled {
    func handle(_ context: RequestContext, answer: (Result<any TaggedMessage, Failure>) -> Void) {
        answer(.success(context.registry.withState { $0.stop(self) }))
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
            if job.durable && job.state != .notStarted {
                // Its computer's agent stops it, with this grace; without a link, the stop is
                // stored and the next link delivers it.
                if job.state == .disconnected {
                    job.stopRequested = true
                    job.stopGrace = grace
                    job.reason =
                        (job.reason ?? "").replacingOccurrences(of: Self.stopPending, with: "")
                        + Self.stopPending
                    mirrorWake(id)
                } else if mirrorSend(id, .stop(grace: grace, signal: Int(first))) {
                    job.stopDelivered(grace: grace)
                    durable.append(id)
                } else {
                    // Between links: the next one delivers it.
                    job.stopDelivered(
                        grace: grace, pending: "a stop is pending, delivered once the link to \(job.location) is up")
                    mirrorWake(id)
                }
                jobs[id] = job
                changed.append(job)
                continue
            }
            if job.state == .suspended { suspended.append(id) }
            if job.requestStop() { signalled.append(id) }
            jobs[id] = job
            changed.append(job)
        }
        persist(changed)
        for id in signalled {
            guard let job = jobs[id] else { continue }
            // A command in a session: its processes, not the session's shell.
            if let session = job.session.flatMap({ sessions[$0] }) {
                session.signalCommand(first)
                continue
            }
            // A remote child is ended on its computer: closing its stdin makes the remote side
            // end the command's process group (TERM, then KILL), and then ssh exits. Another
            // first signal is sent there instead; the KILL after the grace period ends ssh.
            if job.isRemote, first == SIGTERM, links.link(id) != nil {
                links.send(id, UInt32(CJOB_MONITOR_RELEASE))
                continue
            }
            signal(job, first)
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
                    if let session = jobs[id]?.session.flatMap({ sessions[$0] }) {
                        session.signalCommand(SIGKILL)
                    } else if let job = jobs[id] {
                        signal(job, SIGKILL)
                    }
                }
                killed = true
                killedAt = Monitor.now()
                continue
            }
            // A session command still running after that runs in the shell itself (a loop of
            // builtins): only ending the shell stops it, and the session is then Broken.
            if killed && !shellsKilled && Monitor.now() >= killedAt + 1 {
                for id in pending {
                    guard let session = jobs[id]?.session.flatMap({ sessions[$0] }) else { continue }
                    let name = jobs[id].map { messageName(of: $0) } ?? "Job\(id)"
                    session.reason =
                        "the session's shell was ended to stop \(name), which ran in the shell itself "
                        + "(a loop of builtins) and could not be stopped on its own"
                    session.killShell()
                }
                shellsKilled = true
                continue
            }
            monitor.wait(until: killed ? Monitor.now() + 1 : min(deadline, Monitor.now() + 0.02))
        }
    }
}
