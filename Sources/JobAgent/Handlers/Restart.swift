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

extension RestartRequest: LockedHandler {
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage {
        state.restart(self)
    }
}

/// `restart`: finished jobs run again in place: the same Id, Name, command, working
/// directory, environment, shell, input file, session and computer; a new InstanceId, fresh
/// output, and one more restart counted.
extension RegistryState {
    func restart(_ request: RestartRequest) -> JobsReply {
        let result = select(request.selection)
        var problems = result.errors
        var restarted: [Int] = []
        for selected in result.jobs {
            guard let parentId = selected.parentId == nil ? selected.id : selected.parentId,
                var parent = jobs[parentId]
            else { continue }
            let state = table.state(of: parentId) ?? .failed
            guard state.isFinished else {
                problems.append(
                    "\(parent.name) (Id \(parentId)) is \(state.rawValue); only a finished job can be restarted "
                        + "(job stop \(parentId) first)")
                continue
            }
            var kids = table.kids(of: parentId)
            if request.failedOnly { kids = kids.filter { $0.state == .failed || $0.state == .stopped } }
            if kids.isEmpty {
                problems.append("\(parent.name) (Id \(parentId)) has no failed or stopped part to run again")
                continue
            }
            // A child runs again where it ran: its place must allow it.
            if let problem = kids.lazy.compactMap({ self.backend(for: $0).restartProblem($0, in: self) }).first {
                problems.append("\(parent.name) (Id \(parentId)) \(problem)")
                continue
            }
            parent.restarts += 1
            parent.stopRequested = false
            var renewed: [StoredJob] = [parent]
            var replaced: [String] = []
            for var job in kids {
                if !request.keepHistory { replaced.append(job.instanceId) }
                job.renew(
                    instanceId: InstanceIdentifier.random(), keepingHistory: request.keepHistory, bootId: bootId)
                renewed.append(job)
            }
            // Stored first: a restart the store refuses changes nothing, here or on disk.
            do {
                try database.update(renewed, removing: replaced)
            } catch {
                log.write("could not write to the store: \(error)")
                problems.append(
                    "could not record the restart of \(parent.name) in the store: \(StoreProblem.describe(error))")
                continue
            }
            for job in renewed { jobs[job.id] = job }
            for old in replaced { files.delete(old) }
            noticeStored(renewed)
            // Jobs that wait for this one (now, or once restarted) wait for its new run, not
            // for its last end, which the queue may still remember.
            for job in renewed { queue.tell(.dependency(job.id, .unfinished)) }
            log.write(
                "restarting \(parent.name) (Id \(parentId)): "
                    + renewed.dropFirst().map { "Job\($0.id)" }.joined(separator: ", "))
            let children = Array(renewed.dropFirst())
            for child in children { watchOutputCap(child) }
            if children.contains(where: { backend(for: $0).startsInItsOwnOrder }) {
                for var child in children {
                    let plan = LaunchPlan(parent: parent, environment: [], umask: 0o022, stdinFD: nil)
                    backend(for: child).launch(&child, plan, in: self)
                    jobs[child.id] = child
                    if child.state.isFinished { persist([child]) }
                }
            } else if spec(of: parent) != nil {
                // Through the queue, as when it was started: its group, its limits, its timeout.
                for child in children {
                    guard let childSpec = self.spec(of: child) else { continue }
                    queue.tell(.waiting(child.id, childSpec, dependencies: [:]))
                }
                runQueue()
            } else {
                startWaiting(parent)
            }
            restarted.append(parentId)
        }
        return JobsReply(jobs: restarted.compactMap { jobs[$0] }.map(record), problems: problems)
    }
}
