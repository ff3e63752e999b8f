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

extension GetRequest: LockedHandler {
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage {
        state.get(self)
    }
}

/// `get`: the selected jobs' records, filtered.
extension RegistryState {
    /// A `JobsReply`, or the same bytes made from records encoded before (`EncodedJobsReply`)
    /// when no filter needs the records themselves.
    func get(_ options: GetRequest) -> any TaggedMessage {
        let selection = options.selection
        let plain =
            options.childrenOf == nil && options.command == nil && options.hasMoreData == nil && options.before == nil
            && options.after == nil && options.group == nil
        if plain {
            let (parents, errors) = selectSlots(selection, newest: options.includeChildren ? nil : options.newest)
            var chosen = parents
            if options.includeChildren {
                var seen = Set(chosen.map(\.job.id))
                for parent in parents where parent.job.parentId == nil {
                    for kid in table.kidSlots(of: parent.job.id) where !seen.contains(kid.job.id) {
                        seen.insert(kid.job.id)
                        chosen.append(kid)
                    }
                }
                chosen.sort { $0.job.id < $1.job.id }
                if let newest = options.newest { chosen = Array(chosen.suffix(max(0, newest))) }
            }
            var reply = EncodedJobsReply()
            reply.jobs = chosen.isEmpty ? nil : PreEncoded(elements: chosen.map(encodedRecord(slot:)))
            reply.problems = errors
            return reply
        }
        var problems: [String] = []
        var chosen: [JobRecord]
        if let parentSelector = options.childrenOf {
            let result = select(JobSelection(selectors: [parentSelector]))
            problems += result.errors
            let kids = result.jobs.flatMap(\.childIds).compactMap { jobs[$0] }.map(record)
            chosen = JobSelection(names: selection.names, states: selection.states).applyFilters(to: kids)
        } else {
            // `--newest` alone limits the selection before any record is built.
            let newestFirst =
                options.includeChildren || options.command != nil || options.hasMoreData != nil
                    || options.before != nil || options.after != nil || options.group != nil
                ? nil : options.newest
            let result = select(selection, newest: newestFirst)
            problems += result.errors
            chosen = result.jobs
            if options.includeChildren {
                var seen = Set(chosen.map(\.id))
                for parent in result.jobs {
                    for id in parent.childIds where !seen.contains(id) {
                        seen.insert(id)
                        if let job = jobs[id] { chosen.append(record(job)) }
                    }
                }
                chosen.sort { $0.id < $1.id }
            }
        }
        if let pattern = options.command {
            let glob = Glob(pattern)
            chosen = chosen.filter { glob.matches($0.command) }
        }
        if let group = options.group {
            chosen = chosen.filter { ($0.group ?? Scheduler.defaultGroup) == group }
        }
        if let wanted = options.hasMoreData {
            chosen = chosen.filter { $0.hasMoreData == wanted }
        }
        if let before = options.before {
            chosen = chosen.filter { $0.endTime.map { $0 < before } ?? false }
        }
        if let after = options.after {
            chosen = chosen.filter { $0.endTime.map { $0 > after } ?? false }
        }
        if let newest = options.newest {
            chosen = Array(chosen.suffix(max(0, newest)))
        }
        return JobsReply(jobs: chosen, problems: problems)
    }
}
