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

extension ReceiveRequest: LockedHandler {
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage {
        state.receive(self, connection: connection)
    }
}

extension AdvanceRequest: LockedHandler {
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage {
        state.advance(advances, connection: connection)
    }
}

/// `receive` and `advance`: the parts of children's output each reader is to read.
extension RegistryState {
    /// Hands out the output files of the selected children and the part each reader is to
    /// read. Without `keep` that part is claimed: the read positions move to its end at once
    /// (and are stored), so two readers never get the same bytes, and an agent that dies while
    /// a reader writes does not hand them out again. While one connection holds a claim on a
    /// child, others get nothing of it until it is released (`advance`) or that connection
    /// closes. Lock held.
    func receive(_ options: ReceiveRequest, connection: Int32) -> ReceiveReply {
        let result = select(options.selection)
        var seen = Set<Int>()
        var grants: [StreamGrant] = []
        var changed: [StoredJob] = []
        var problems = result.errors
        for selected in result.jobs {
            let ids = selected.isParent ? (options.noRecurse ? [] : selected.childIds) : [selected.id]
            for id in ids where !seen.contains(id) {
                seen.insert(id)
                guard var job = jobs[id] else { continue }
                problems += goneFiles(job)
                refreshSizes(&job)
                let paths = files.paths(job.instanceId)
                var grant = StreamGrant(
                    id: job.id, instanceId: job.instanceId, name: shownName(of: job),
                    computer: job.computer ?? job.location, outputPath: paths.stdout, errorPath: paths.stderr,
                    outputOffset: options.fromStart ? 0 : job.outputRead,
                    errorOffset: options.fromStart ? 0 : job.errorRead, state: job.state, reason: job.reason,
                    exitStatus: job.exitStatus, signal: job.signal)
                grant.title = messageName(of: job)
                grant.schedulerJobId = job.schedulerJobId
                if job.timedOut && job.state.isFinished { grant.timedOut = true }
                if !options.keep {
                    if claims.heldByAnother(id, than: connection) {
                        // Another reader is writing these bytes: none for this one now.
                        grant.outputOffset = job.outputRead
                        grant.errorOffset = job.errorRead
                        grant.outputEnd = job.outputRead
                        grant.errorEnd = job.errorRead
                    } else {
                        grant.outputEnd = max(grant.outputOffset, job.outputSize)
                        grant.errorEnd = max(grant.errorOffset, job.errorSize)
                        job.outputRead = grant.outputEnd
                        job.errorRead = grant.errorEnd
                        claims.claim(
                            id, by: connection, instanceId: job.instanceId, outputEnd: grant.outputEnd,
                            errorEnd: grant.errorEnd)
                        changed.append(job)
                    }
                }
                jobs[id] = job
                grants.append(grant)
            }
        }
        persist(changed)
        var reply = ReceiveReply()
        reply.streams = grants
        reply.generation = generation
        reply.problems = problems
        return reply
    }

    /// The output files of a child that were made and are gone (deleted from the jobs folder
    /// by hand, or with their disk), each as a problem for its reader. A child that never
    /// began has none yet, and that is no loss. Lock held.
    func goneFiles(_ job: StoredJob) -> [String] {
        guard job.state != .notStarted, job.beginTime != nil else { return [] }
        let ran = job.pid != nil || job.exitStatus != nil || job.signal != nil
        var gone: [String] = []
        for (path, known) in [
            (home.outputPath(job.instanceId), job.outputSize > 0 || job.outputRead > 0),
            (home.errorPath(job.instanceId), job.errorSize > 0 || job.errorRead > 0),
        ] where ran || known {
            var info = stat()
            if stat(path, &info) != 0 && errno == ENOENT {
                gone.append("the output of \(messageName(of: job)) is gone: \(path) was deleted")
            }
        }
        return gone
    }

    /// Ends a connection's claims: where its reader got short of a claim's end (it went away,
    /// or held back a partial line), the position goes back to there, so that those bytes are
    /// read next.
    func advance(_ advances: [ReadAdvance], connection: Int32) -> EmptyReply {
        FaultPoint.receiveAfterWrite.reached()
        var changed: [StoredJob] = []
        for advance in advances {
            guard let (id, claim) = claims.release(by: connection, instanceId: advance.instanceId),
                var job = jobs[id]
            else { continue }
            var moved = false
            if job.outputRead == claim.outputEnd && advance.output < claim.outputEnd {
                job.outputRead = max(0, advance.output)
                moved = true
            }
            if job.errorRead == claim.errorEnd && advance.error < claim.errorEnd {
                job.errorRead = max(0, advance.error)
                moved = true
            }
            if moved {
                jobs[id] = job
                changed.append(job)
            }
        }
        persist(changed)
        monitor.broadcast()
        return EmptyReply()
    }

    /// Drops the claims of a connection that closed: what it had claimed counts as read.
    func dropClaims(connection: Int32) {
        guard claims.drop(connection: connection) else { return }
        generation &+= 1
        monitor.broadcast()
    }
}

extension RegistryState {
    /// How output names a child: by its parent's name (`build`, else `Job1`), the job the
    /// user started and knows. Lock held.
    func shownName(of job: StoredJob) -> String {
        guard let parentId = job.parentId else { return job.name }
        return jobs[parentId]?.name ?? "Job\(parentId)"
    }

    /// How a message names a job: by the job the user started (`Job1`, `build (Job1)`), and,
    /// where that job has several children, by the child's computer and Id as well
    /// (`Job1 on server02 (Job3)`). Lock held.
    func messageName(of job: StoredJob) -> String {
        let (id, name) = job.parentId.map { ($0, shownName(of: job)) } ?? (job.id, job.name)
        if job.parentId != nil, table.childIds(of: id).count > 1 {
            return "\(name) on \(job.computer ?? job.location) (Job\(job.id))"
        }
        return name == "Job\(id)" ? name : "\(name) (Job\(id))"
    }
}
