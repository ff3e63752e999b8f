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
import JobStore

extension SuspendRequest: LockedHandler {
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage {
        state.suspend(self)
    }
}

extension ResumeRequest: LockedHandler {
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage {
        state.resume(self)
    }
}

extension SignalRequest: LockedHandler {
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage {
        state.sendSignal(self)
    }
}

/// `suspend`, `resume` and `signal`: signals to running children's process groups (through
/// their monitors), which go on running, or stop and continue.
extension RegistryState {
    /// SIGSTOP to each selected running child's process group: Suspended, its timeout's clock
    /// stopped. Lock held.
    func suspend(_ request: SuspendRequest) -> JobsReply { pause(request.selection, suspending: true) }

    /// SIGCONT to each selected suspended child's process group: Running again, its timeout's
    /// clock going on. Lock held.
    func resume(_ request: ResumeRequest) -> JobsReply { pause(request.selection, suspending: false) }

    private func pause(_ selection: JobSelection, suspending: Bool) -> JobsReply {
        let from: JobState = suspending ? .running : .suspended
        let (children, selected, problems) = signalTargets(selection, verb: suspending ? "suspended" : "resumed") {
            $0 == from
        }
        var changed: [StoredJob] = []
        let now = Date()
        for var job in children where job.state == from {
            signal(job, suspending ? SIGSTOP : SIGCONT)
            if suspending { job.suspend(at: now) } else { job.resume(at: now) }
            jobs[job.id] = job
            changed.append(job)
            queue.tell(suspending ? .suspended(job.id) : .resumed(job.id))
        }
        persist(changed)
        runQueue()
        return JobsReply(jobs: selected.compactMap { jobs[$0] }.map(record), problems: problems)
    }

    /// A signal to each selected unfinished child's process group; the jobs go on. Lock held.
    func sendSignal(_ request: SignalRequest) -> JobsReply {
        guard SignalName.names[request.signal] != nil else {
            return JobsReply(jobs: [], problems: ["\(request.signal) is not a signal number"])
        }
        let (children, selected, problems) = signalTargets(request.selection, verb: "signalled") {
            $0 == .running || $0 == .suspended || $0 == .stopping
        }
        for job in children { signal(job, Int32(request.signal)) }
        if !children.isEmpty {
            log.write(
                "\(SignalName.of(request.signal)) sent to "
                    + children.map { messageName(of: $0) }.joined(separator: ", "))
        }
        return JobsReply(jobs: selected.compactMap { jobs[$0] }.map(record), problems: problems)
    }

    /// The children of the selection that `accepts` takes, the selected Ids, and a problem for
    /// each selected job none of whose children it takes, or that runs where this agent cannot
    /// signal it (in a session's shell).
    private func signalTargets(_ selection: JobSelection, verb: String, accepts: (JobState) -> Bool) -> (
        [StoredJob], [Int], [String]
    ) {
        let result = select(selection)
        var problems = result.errors
        var targets: [StoredJob] = []
        var seen = Set<Int>()
        for selected in result.jobs {
            let kids = (selected.isParent ? table.kids(of: selected.id) : jobs[selected.id].map { [$0] } ?? [])
                .filter { !seen.contains($0.id) }
            let taken = kids.filter { accepts($0.state) }
            let reachable = taken.filter { job in
                guard let refusal = backend(for: job).refusesSignals(job, verb: verb, in: self) else { return true }
                problems.append(refusal)
                return false
            }
            if taken.isEmpty {
                problems.append(
                    "\(selected.name) (Id \(selected.id)) is \(selected.state.rawValue): nothing in it can be \(verb)")
            }
            for job in reachable {
                seen.insert(job.id)
                targets.append(job)
            }
        }
        return (targets, result.jobs.map(\.id), problems)
    }
}
