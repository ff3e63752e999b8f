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

import JobCore
import JobProtocol

/// `rename`: a job's Name, changed after its start (a typo, a name chosen later). The first
/// verb added by the recipe of `Handled`: its message, this file, its command line.
extension RenameRequest: Handled {
    func handle(_ context: RequestContext, answer: (Result<any TaggedMessage, Failure>) -> Void) {
        do {
            try InputCheck.jobName(name)
        } catch {
            return answer(.failure(Failure(.refused, "\(error)")))
        }
        answer(.success(context.registry.withState { $0.renameJob(self) }))
    }
}

extension RegistryState {
    /// Renames the one parent the selection names; children keep their own names (a child
    /// is shown by its parent's, so they follow). Lock held.
    func renameJob(_ request: RenameRequest) -> JobsReply {
        let (chosen, problems) = selectSlots(request.selection)
        guard problems.isEmpty else { return JobsReply(jobs: [], problems: problems) }
        guard chosen.count == 1, var job = jobs[chosen[0].job.id] else {
            return JobsReply(
                jobs: [],
                problems: [
                    "the selection names \(chosen.count) jobs; rename names one (an Id, or a name only one job has)"
                ])
        }
        if let parentId = job.parentId {
            return JobsReply(
                jobs: [],
                problems: ["Job\(job.id) is a child of Job\(parentId): rename Job\(parentId), whose name it shows"])
        }
        let old = job.name
        job.name = request.name
        jobs[job.id] = job
        guard persist([job]) else {
            job.name = old
            jobs[job.id] = job
            return JobsReply(jobs: [], problems: ["could not write the new name to the store; it is still \(old)"])
        }
        log.write("renamed Job\(job.id) from \(old) to \(request.name)")
        return JobsReply(jobs: [record(job)], problems: [])
    }
}
