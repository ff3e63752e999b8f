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

extension RemoveRequest: LockedHandler {
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage {
        state.remove(self)
    }
}

/// `remove`: finished jobs out of the store, then their files.
extension RegistryState {
    func remove(_ options: RemoveRequest) -> JobsReply {
        let (selection, grace) = (options.selection, options.grace)
        var result = select(selection)
        if let age = options.olderThan {
            // Only finished jobs that ended long enough ago; the others are left, unmentioned.
            let before = Date().addingTimeInterval(-age)
            result.jobs = result.jobs.filter { $0.state.isFinished && ($0.endTime.map { $0 <= before } ?? false) }
        }
        var problems = result.errors
        var removed: [JobRecord] = []
        for selected in result.jobs {
            guard var current = jobs[selected.id].map(record) else { continue }
            if let parent = current.parentId {
                problems.append(
                    "\(current.name) is a child of Job\(parent) and cannot be removed on its own; "
                        + "remove its parent (job remove \(parent))")
                continue
            }
            if !current.state.isFinished {
                guard options.force else {
                    problems.append(
                        "\(current.name) (Id \(current.id)) is \(current.state.rawValue); stop it first "
                            + "(job stop \(current.id)) or use --force")
                    continue
                }
                stopLocked(ids: [current.id], grace: grace)
                current = jobs[current.id].map(record) ?? current
                // A child its backend could not stop where it runs is not removed here.
                if let problem = table.kids(of: current.id).lazy.compactMap({
                    self.backend(for: $0).removalProblem($0, in: self)
                }).first {
                    problems.append("\(current.name) (Id \(current.id)) has \(problem)")
                    continue
                }
            }
            let kids = table.kids(of: current.id)
            var removing = [current.instanceId]
            for kid in table.kids(of: current.id) { removing += [kid.instanceId] + kid.history }
            do {
                try database.delete(ids: [current.id], removing: removing)
            } catch {
                problems.append("could not remove \(current.name): \(StoreProblem.describe(error))")
                continue
            }
            FaultPoint.removeAfterDelete.reached()
            for kid in kids { backend(for: kid).forget(kid, in: self) }
            for job in table.removeParent(current.id) {
                files.delete(job.instanceId)
                for old in job.history { files.delete(old) }
            }
            // The parent's own file: the input of `invoke --input`.
            unlink(home.inputPath(current.instanceId))
            noticeRemoved([current.id] + kids.map(\.id))
            removed.append(current)
        }
        if !removed.isEmpty {
            // Space was freed: the store's reserve is made again if it was used.
            database.refillReserve()
        }
        generation &+= 1
        monitor.broadcast()
        return JobsReply(jobs: removed, problems: problems)
    }
}
