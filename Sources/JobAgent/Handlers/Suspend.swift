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

extension SuspendRequest: Handled {
    func handle(_ context: RequestContext, answer: (Result<any TaggedMessage, Failure>) -> Void) {
        answer(.success(context.registry.pause(selection, suspending: true)))
    }
}

extension ResumeRequest: Handled {
    func handle(_ context: RequestContext, answer: (Result<any TaggedMessage, Failure>) -> Void) {
        answer(.success(context.registry.pause(selection, suspending: false)))
    }
}

extension SignalRequest: LockedHandler {
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage {
        state.sendSignal(self)
    }
}

extension JobRegistry {
    /// `suspend` (SIGSTOP to each selected running child's process group: Suspended, its
    /// timeout's clock stopped) and `resume` (SIGCONT: Running again, the clock going on), each
    /// child by its backend; what a backend does with a command of its own (Slurm's `scontrol`)
    /// is run outside the lock, and the reply made once it is done.
    func pause(_ selection: JobSelection, suspending: Bool) -> JobsReply {
        let (selected, problems, outside) = withState { $0.pause(selection, suspending: suspending) }
        let done = outside.map { (id: $0.id, outcome: $0.run()) }
        return withState { state in
            var changed: [StoredJob] = []
            var refusals: [String] = []
            for (id, outcome) in done {
                if let refusal = outcome.refusal { refusals.append(refusal) }
                guard let apply = outcome.apply, var job = state.jobs[id], !job.state.isFinished else { continue }
                apply(&job)
                state.jobs[id] = job
                changed.append(job)
            }
            state.persist(changed)
            return JobsReply(
                jobs: selected.compactMap { state.jobs[$0] }.map(state.record), problems: problems + refusals)
        }
    }
}

/// `suspend`, `resume` and `signal`: signals to running children's process groups (through
/// their monitors), which go on running, or stop and continue; or what their place does instead.
extension RegistryState {
    /// The selected Ids, the problems, and what is left to run outside the lock. Lock held.
    fileprivate func pause(_ selection: JobSelection, suspending: Bool) -> (
        [Int], [String], [(id: Int, run: @Sendable () -> PauseOutcome)]
    ) {
        let (children, selected, problems) = signalTargets(selection, verb: suspending ? "suspended" : "resumed") {
            backend(for: $0).pausable($0, suspending: suspending)
        }
        var changed: [StoredJob] = []
        var outside: [(id: Int, run: @Sendable () -> PauseOutcome)] = []
        let now = Date()
        for var job in children {
            switch backend(for: job).pause(&job, suspending: suspending, at: now, in: self) {
            case .done:
                jobs[job.id] = job
                changed.append(job)
                queue.tell(suspending ? .suspended(job.id) : .resumed(job.id))
            case .outside(let run):
                outside.append((job.id, run))
            }
        }
        persist(changed)
        runQueue()
        return (selected, problems, outside)
    }

    /// A signal to each selected unfinished child's process group; the jobs go on. Lock held.
    func sendSignal(_ request: SignalRequest) -> JobsReply {
        guard SignalName.names[request.signal] != nil else {
            return JobsReply(jobs: [], problems: ["\(request.signal) is not a signal number"])
        }
        let (children, selected, problems) = signalTargets(request.selection, verb: "signalled") {
            $0.state == .running || $0.state == .suspended || $0.state == .stopping
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
    private func signalTargets(_ selection: JobSelection, verb: String, accepts: (StoredJob) -> Bool) -> (
        [StoredJob], [Int], [String]
    ) {
        let result = select(selection)
        var problems = result.errors
        var targets: [StoredJob] = []
        var seen = Set<Int>()
        for selected in result.jobs {
            let kids = (selected.isParent ? table.kids(of: selected.id) : jobs[selected.id].map { [$0] } ?? [])
                .filter { !seen.contains($0.id) }
            let taken = kids.filter(accepts)
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
