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
import JobCore
import JobStore

/// The jobs the agent keeps in memory: each in a slot, in Id order, and the last Id handed
/// out. Changed only through its methods, which keep these in step (a changed job forgets its
/// encoded record and its parent's; a removed parent takes its children with it; Ids are never
/// handed out twice). It knows no processes, files or store, so `JobTableTests` drives it
/// alone. The registry owns one, under its lock.
///
/// The slots are an array in Id order, found by binary search, not a dictionary: with 200,000
/// jobs a dictionary of slots and one of children (an array per parent) took 15 MB more. A
/// parent's children are the jobs right after it whose parent it is, as the Ids a new job
/// takes make them (`nextIds`), so no list of them is kept.
struct JobTable {
    /// Every job's Id in increasing order, with `entries` beside it; a removed job leaves its
    /// Id with a nil slot until enough of them are dropped at once.
    private(set) var orderedIds: [Int] = []
    private var entries: [JobSlot?] = []
    private var removedSinceCompacting = 0
    /// The last Id handed out; the store's counter follows it in the same transaction.
    private(set) var lastId: Int
    /// Equal boxes of rarely set fields, shared by the rows that have them (100,000 queued jobs
    /// of one group had one box each, 50 MB).
    private var extras = ExtrasPool()

    init(lastId: Int) { self.lastId = lastId }

    /// A job read from the store, in Id order.
    mutating func load(_ job: StoredJob) {
        append(JobSlot(job))
        lastId = max(lastId, job.id)
    }

    /// Gives out no Id up to `floor` (they may have been given out by a store that lost them).
    mutating func raiseLastId(to floor: Int) { lastId = max(lastId, floor) }

    /// The Ids a new parent with `count` children takes: the parent's first.
    func nextIds(children count: Int) -> (parent: Int, children: [Int]) {
        (lastId + 1, (0..<count).map { lastId + 2 + $0 })
    }

    /// Adds a new parent and its children, with the Ids `nextIds` gave them.
    mutating func add(_ parent: StoredJob, _ kids: [StoredJob]) {
        lastId = max(lastId, kids.last?.id ?? parent.id)
        append(JobSlot(parent))
        for job in kids { append(JobSlot(job)) }
    }

    private mutating func append(_ slot: JobSlot) {
        slot.job.shareExtras(&extras)
        let id = slot.job.id
        if let last = orderedIds.last, last >= id {
            // Not after the last: in its place (only a table built out of order does this).
            let index = lowerBound(id)
            if index < orderedIds.count && orderedIds[index] == id {
                entries[index] = slot
            } else {
                orderedIds.insert(id, at: index)
                entries.insert(slot, at: index)
            }
            return
        }
        orderedIds.append(id)
        entries.append(slot)
    }

    /// The first place in the order whose Id is `id` or more.
    private func lowerBound(_ id: Int) -> Int {
        var low = 0
        var high = orderedIds.count
        while low < high {
            let middle = (low + high) / 2
            if orderedIds[middle] < id { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Where a job's Id is in the order, whether or not it still has a slot.
    private func index(of id: Int) -> Int? {
        let low = lowerBound(id)
        return low < orderedIds.count && orderedIds[low] == id ? low : nil
    }

    /// A job's slot by Id.
    func slot(_ id: Int) -> JobSlot? { index(of: id).flatMap { entries[$0] } }

    /// Every job's slot, in Id order.
    var allSlots: some Sequence<JobSlot> { entries.lazy.compactMap { $0 } }

    /// Every job's slot, newest first.
    var newestSlots: some Sequence<JobSlot> { entries.reversed().lazy.compactMap { $0 } }

    /// How many jobs there are.
    var count: Int { entries.count - removedSinceCompacting }

    /// A job by Id. Setting one replaces it and forgets the encoded records of it and of its
    /// parent (whose record shows its children).
    subscript(id: Int) -> StoredJob? {
        get { slot(id)?.job }
        set {
            guard let newValue else {
                // A child leaves its parent; a parent takes its children with it.
                guard let index = index(of: id), let slot = entries[index] else { return }
                if let parent = slot.job.parentId {
                    self.slot(parent)?.encoded = nil
                    removeChild(at: index)
                } else {
                    removeParent(id)
                }
                return
            }
            if let slot = slot(id) {
                if slot.job.state != newValue.state { slot.stateChanges += 1 }
                slot.job = newValue
                slot.job.shareExtras(&extras)
                slot.encoded = nil
            } else {
                append(JobSlot(newValue))
            }
            if let parent = newValue.parentId { slot(parent)?.encoded = nil }
        }
    }

    /// Removes a parent and its children; returns the children that were there.
    @discardableResult
    mutating func removeParent(_ id: Int) -> [StoredJob] {
        guard let index = index(of: id), entries[index] != nil else { return [] }
        let kidIndices = childIndices(after: index, of: id)
        let kids = kidIndices.compactMap { entries[$0]?.job }
        for kid in kidIndices { empty(at: kid) }
        empty(at: index)
        compactIfNeeded()
        return kids
    }

    /// Removes one child.
    private mutating func removeChild(at index: Int) {
        empty(at: index)
        compactIfNeeded()
    }

    private mutating func empty(at index: Int) {
        guard entries[index] != nil else { return }
        entries[index] = nil
        removedSinceCompacting += 1
    }

    /// Drops the Ids of removed jobs from the order once there are many: one pass per many
    /// removals.
    private mutating func compactIfNeeded() {
        guard removedSinceCompacting > max(1024, entries.count / 4) else { return }
        var kept = 0
        for old in entries.indices where entries[old] != nil {
            orderedIds[kept] = orderedIds[old]
            entries[kept] = entries[old]
            kept += 1
        }
        orderedIds.removeLast(orderedIds.count - kept)
        entries.removeLast(entries.count - kept)
        removedSinceCompacting = 0
    }

    /// The places of a parent's children: the jobs after it whose parent it is, passing over
    /// removed ones.
    private func childIndices(after index: Int, of id: Int) -> [Int] {
        var found: [Int] = []
        var next = index + 1
        while next < entries.count {
            if let slot = entries[next] {
                guard slot.job.parentId == id else { break }
                found.append(next)
            }
            next += 1
        }
        return found
    }

    /// The slots of a parent's children, in order.
    func kidSlots(of id: Int) -> [JobSlot] {
        guard let index = index(of: id) else { return [] }
        return childIndices(after: index, of: id).compactMap { entries[$0] }
    }

    /// The Ids of a parent's children, in order.
    func childIds(of id: Int) -> [Int] { kidSlots(of: id).map(\.job.id) }

    /// The children of a parent, in order.
    func kids(of id: Int) -> [StoredJob] { kidSlots(of: id).map(\.job) }

    /// A child's state, or a parent's from its children's (`JobState.ofParent`); nil when gone.
    func state(of id: Int) -> JobState? {
        guard let job = slot(id)?.job else { return nil }
        guard job.parentId == nil else { return job.state }
        return JobState.ofParent(children: kids(of: id).map(\.state), stopRequested: job.stopRequested)
    }

    /// Whether a job (parent or child) has finished, or is gone.
    func isFinished(_ id: Int) -> Bool {
        guard let job = slot(id)?.job else { return true }
        if job.parentId != nil { return job.state.isFinished }
        return kids(of: id).allSatisfy { $0.state.isFinished }
    }

    /// The parents in Id order.
    var parentSlots: [JobSlot] {
        entries.compactMap { slot in slot.flatMap { $0.job.parentId == nil ? $0 : nil } }
    }
}

/// One job of the table.
final class JobSlot {
    var job: StoredJob
    /// The job's record, encoded, as last built; cleared when the job or one of its children
    /// changes.
    var encoded: [UInt8]?
    /// How many times the job's state changed since this agent loaded or made it.
    var stateChanges = 0
    init(_ job: StoredJob) { self.job = job }
}
