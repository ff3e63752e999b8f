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
import Testing

@testable import JobAgent
@testable import JobStore

/// The job table alone: no processes, files or store.
@Suite("the job table")
struct JobTableTests {
    static func job(_ id: Int, parent: Int? = nil, state: JobState = .notStarted) -> StoredJob {
        StoredJob(
            id: id, parentId: parent, instanceId: "i\(id)", name: "Job\(id)",
            type: parent == nil ? "BackgroundJob" : "",
            location: "localhost", command: "true", workingDirectory: "/", shell: "/bin/sh", state: state)
    }

    /// A table with a new job of `count` children, made the way the registry makes one.
    static func adding(_ count: Int, to table: inout JobTable, state: JobState = .running) -> (Int, [Int]) {
        let ids = table.nextIds(children: count)
        table.add(job(ids.parent), ids.children.map { job($0, parent: ids.parent, state: state) })
        return ids
    }

    @Test("new jobs take the next Ids, parent first; loading from the store keeps the order and the counter")
    func ids() {
        var table = JobTable(lastId: 10)
        let (parent, kids) = Self.adding(2, to: &table)
        #expect(parent == 11 && kids == [12, 13])
        #expect(table.lastId == 13 && table.orderedIds == [11, 12, 13])
        #expect(table.childIds(of: 11) == [12, 13] && table.childIds(of: 12).isEmpty)
        #expect(table.nextIds(children: 1) == (14, [15]))

        var loaded = JobTable(lastId: 20)
        for stored in [Self.job(3), Self.job(4, parent: 3), Self.job(7), Self.job(8, parent: 7)] { loaded.load(stored) }
        #expect(loaded.orderedIds == [3, 4, 7, 8] && loaded.childIds(of: 3) == [4] && loaded.childIds(of: 7) == [8])
        // A job loaded out of order still takes its place.
        loaded.load(Self.job(5))
        #expect(loaded.orderedIds == [3, 4, 5, 7, 8] && loaded.childIds(of: 3) == [4] && loaded.slot(5) != nil)
        // The store's counter is past removed jobs' Ids: they are not given again.
        #expect(loaded.nextIds(children: 0).parent == 21)
    }

    @Test("a parent's state follows its children; finished means every child finished, or gone")
    func states() {
        var table = JobTable(lastId: 0)
        let (parent, kids) = Self.adding(2, to: &table)
        #expect(table.state(of: parent) == .running && !table.isFinished(parent))
        table[kids[0]]?.state = .completed
        #expect(table.state(of: parent) == .running && table.isFinished(kids[0]))
        table[kids[1]]?.state = .failed
        #expect(table.state(of: parent) == .failed && table.isFinished(parent))
        #expect(table.isFinished(99) && table.state(of: 99) == nil)
    }

    @Test("a changed child forgets its encoded record and its parent's; others keep theirs")
    func encodedRecords() throws {
        var table = JobTable(lastId: 0)
        let (first, firstKids) = Self.adding(1, to: &table)
        let (second, _) = Self.adding(1, to: &table)
        for slot in table.allSlots { slot.encoded = [1] }
        table[firstKids[0]]?.outputRead = 5
        #expect(table.slot(firstKids[0])?.encoded == nil)
        #expect(table.slot(first)?.encoded == nil)
        #expect(table.slot(second)?.encoded == [1])
    }

    @Test("removing a parent takes its children; the order skips them; Ids are not reused")
    func removal() {
        var table = JobTable(lastId: 0)
        let (first, firstKids) = Self.adding(2, to: &table)
        let (second, _) = Self.adding(1, to: &table)
        let removed = table.removeParent(first)
        #expect(removed.map(\.id) == firstKids)
        #expect(table[first] == nil && firstKids.allSatisfy { table[$0] == nil })
        #expect(table.parentSlots.map(\.job.id) == [second])
        #expect(table.nextIds(children: 0).parent == 6)
        // A child set to nil leaves its parent's list.
        let (third, thirdKids) = Self.adding(2, to: &table)
        table[thirdKids[0]] = nil
        #expect(table.childIds(of: third) == [thirdKids[1]])
        // The next parent's children are not taken for the removed child's parent's.
        let (fourth, fourthKids) = Self.adding(1, to: &table)
        table[thirdKids[1]] = nil
        #expect(table.childIds(of: third).isEmpty && table.childIds(of: fourth) == fourthKids)
        #expect(table.count == 5)
    }

    @Test("many removals: the order is compacted, and stays right")
    func compaction() {
        var table = JobTable(lastId: 0)
        var parents: [Int] = []
        for _ in 0..<3000 { parents.append(Self.adding(1, to: &table).0) }
        for parent in parents.prefix(2500) { table.removeParent(parent) }
        #expect(table.orderedIds.count < 6000)
        #expect(table.parentSlots.map(\.job.id) == Array(parents.suffix(500)))
        #expect(table.count == 1000)
        for parent in parents.suffix(500) {
            #expect(table.childIds(of: parent) == [parent + 1] && table[parent + 1]?.parentId == parent)
        }
        #expect(table.newestSlots.first { _ in true }?.job.id == parents.last.map { $0 + 1 })
    }

    /// Bytes of the heap per job that `count` jobs made by `row` take in a table. The heap is
    /// the process's, and the other suites run meanwhile (in CI one measurement counted 1,131
    /// bytes a job): what they allocate only adds, so the least of five measurements is the
    /// table's. One test measures both kinds in turn, so that no two measure at once.
    static func bytesPerJob(_ count: Int, _ row: (Int, Int?) -> StoredJob) -> Double {
        (0..<5).map { _ in
            let before = cjob_heap_in_use()
            var table = JobTable(lastId: 0)
            for _ in 0..<count {
                let ids = table.nextIds(children: 1)
                table.add(row(ids.parent, nil), [row(ids.children[0], ids.parent)])
            }
            let perJob = Double(cjob_heap_in_use() - before) / Double(2 * count)
            withExtendedLifetime(table) {}
            return perJob
        }.min() ?? 0
    }

    @Test(
        "a finished job costs under 330 bytes of the heap in the table (it was about 440); queued ones share their options"
    )
    func memory() {
        let boot = UUID().uuidString.lowercased()
        let finished = Self.bytesPerJob(20000) { id, parent in
            var job = Self.job(id, parent: parent, state: parent == nil ? .notStarted : .completed)
            job.instanceId = UUID().uuidString.lowercased()
            if parent != nil {
                job.bootId = boot
                job.exitStatus = 0
                job.beginTime = Date()
                job.endTime = Date()
            }
            return job
        }
        #expect(finished < 330, "\(finished) bytes a job")
        // The same options on every row: one box for all (each had its own: about 580 bytes).
        let queued = Self.bytesPerJob(20000) { id, parent in
            var job = Self.job(id, parent: parent)
            job.instanceId = UUID().uuidString.lowercased()
            job.queueGroup = "builds"
            job.timeout = 900
            job.maxOutput = 1 << 30
            return job
        }
        #expect(queued < 330, "\(queued) bytes a job")
    }

    @Test("suspend and resume: the state, and the time spent suspended counted")
    func suspension() {
        var job = Self.job(2, parent: 1, state: .running)
        let time = Date(timeIntervalSince1970: 1_800_000_000)
        job.suspend(at: time)
        #expect(job.state == .suspended && job.suspendedAt == time)
        job.resume(at: time.addingTimeInterval(7))
        #expect(job.state == .running && job.suspendedAt == nil && job.suspendedFor == 7)
        job.suspend(at: time.addingTimeInterval(10))
        job.resume(at: time.addingTimeInterval(13))
        #expect(job.suspendedFor == 10)
    }

    @Test(
        "a stop request: not started becomes Stopped at once; unfinished becomes Stopping and is signalled; finished stays",
        arguments: [
            (JobState.notStarted, JobState.stopped, false),
            (.running, .stopping, true),
            (.stopping, .stopping, true),
            (.completed, .completed, false),
            (.failed, .failed, false),
            (.stopped, .stopped, false),
        ])
    func stopRequests(from: JobState, to: JobState, signalled: Bool) {
        var job = Self.job(2, parent: 1, state: from)
        let time = Date(timeIntervalSince1970: 1000)
        #expect(job.requestStop(at: time) == signalled)
        #expect(job.state == to)
        #expect(job.stopRequested == signalled)
        if from == .notStarted {
            #expect(job.reason == "stopped before it started" && job.endTime == time)
        } else {
            #expect(job.reason == nil && job.endTime == nil)
        }
    }

    @Test("begin, launched, launch failed, unbegin and an end: each sets its state and what goes with it")
    func launches() {
        let time = Date(timeIntervalSince1970: 2000)
        var job = Self.job(2, parent: 1)
        job.begin(at: time)
        #expect(job.state == .running && job.beginTime == time && job.pid == nil)
        job.launched(pid: 4321, startTime: 99, monitorPid: 4320)
        #expect(job.state == .running && job.pid == 4321 && job.pidStart == 99 && job.waiterPid == 4320)
        // Only the monitor known yet (a launch whose answer was lost): no pid.
        var unknown = Self.job(3, parent: 1)
        unknown.launched(pid: 0, startTime: nil, monitorPid: 0)
        #expect(unknown.pid == nil && unknown.waiterPid == nil)
        job.apply(JobOutcome.of(.exited(3), stopRequested: false, unseen: ""))
        #expect(job.state == .failed && job.exitStatus == 3 && job.reason == "exited with status 3")

        var failing = Self.job(4, parent: 1)
        failing.begin(at: time)
        failing.launchFailed("shell /x does not exist", at: time)
        #expect(failing.state == .failed && failing.reason == "shell /x does not exist" && failing.endTime == time)

        var waiting = Self.job(5, parent: 1)
        waiting.begin(at: time)
        waiting.unbegin()
        #expect(waiting.state == .notStarted && waiting.beginTime == nil)

        var stopping = Self.job(6, parent: 1, state: .running)
        _ = stopping.requestStop()
        stopping.apply(JobOutcome.of(.signaled(15), stopRequested: stopping.stopRequested, unseen: ""))
        #expect(stopping.state == .stopped)
    }
}
