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

extension GroupSetRequest: LockedHandler {
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage {
        state.setGroups(self)
    }
}

extension GroupGetRequest: LockedHandler {
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage {
        state.getGroups(self)
    }
}

extension GroupRemoveRequest: LockedHandler {
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage {
        state.removeGroups(self)
    }
}

/// The queue in the agent: the scheduler's events from what happens to jobs, and its actions
/// carried out (a launch, a job that never starts, a timeout's stop). Every queue field is in
/// the store with its job, so a new agent rebuilds the queue from the rows (`restoreQueue`).
extension RegistryState {
    /// What a start asks of the queue; nil when it asks nothing (the job starts at once and
    /// the queue never hears of it). A dependency must be a job that exists.
    func queueSpec(_ request: StartRequest) -> Result<QueueSpec?, Failure> {
        guard
            request.timeout != nil || !request.after.isEmpty || !request.afterAny.isEmpty
                || request.notBefore != nil || request.group != nil
        else { return .success(nil) }
        for id in request.after + request.afterAny where jobs[id] == nil {
            return .failure(Failure(.refused, "no job has Id \(id), which --after names"))
        }
        if let timeout = request.timeout, !(timeout > 0) || !timeout.isFinite {
            return .failure(Failure(.refused, "the timeout must be above zero"))
        }
        let group = request.group ?? Scheduler.defaultGroup
        if let problem = Self.groupNameProblem(group) { return .failure(Failure(.refused, problem)) }
        return .success(
            QueueSpec(
                group: group, after: request.after, afterAny: request.afterAny, notBefore: request.notBefore,
                timeout: request.timeout))
    }

    /// Why a group name cannot be used, or nil.
    static func groupNameProblem(_ name: String) -> String? {
        do {
            try InputCheck.groupName(name)
            return nil
        } catch {
            return error.description
        }
    }

    /// Marks new rows with what the queue needs of them after a restart.
    func markQueued(_ job: inout StoredJob, _ spec: QueueSpec, umask: Int) {
        job.queueGroup = spec.group == Scheduler.defaultGroup ? nil : spec.group
        job.after = spec.after
        job.afterAny = spec.afterAny
        job.notBefore = spec.notBefore
        job.timeout = spec.timeout
        job.umask = umask
    }

    /// The spec a stored child was made with; nil for a job the queue never heard of.
    func spec(of job: StoredJob) -> QueueSpec? {
        guard
            job.timeout != nil || !job.after.isEmpty || !job.afterAny.isEmpty || job.notBefore != nil
                || job.queueGroup != nil
        else { return nil }
        var spec = QueueSpec(
            group: job.queueGroup ?? Scheduler.defaultGroup, after: job.after, afterAny: job.afterAny,
            notBefore: job.notBefore, timeout: job.timeout)
        if let parentId = job.parentId, let parent = jobs[parentId] {
            spec.parent = parentId
            spec.parentLimit = parent.throttleLimit
        }
        return spec
    }

    /// Where a job that others wait for stands now.
    func dependencyState(_ id: Int) -> DependencyState {
        guard let state = table.state(of: id) else { return .removed }
        return state.isFinished ? .ended(state) : .unfinished
    }

    /// Carries out what the queue decided, and what that in turn makes it decide (a job that
    /// never starts may be what others wait for). Lock held.
    func carryOut(_ actions: [Scheduler.Action]) {
        var changed: [StoredJob] = []
        for action in actions {
            switch action {
            case .start(let id):
                guard var job = jobs[id], job.state == .notStarted, let parentId = job.parentId,
                    let parent = jobs[parentId]
                else {
                    queue.tell(.ended(id))
                    continue
                }
                job.begin()
                jobs[id] = job
                guard persist([job]) else {
                    // Not launched unless stored: it waits, and is tried again at the next tick.
                    job.unbegin()
                    jobs[id] = job
                    if let spec = spec(of: job) {
                        queue.tell(.waiting(id, spec, dependencies: [:]))
                    }
                    continue
                }
                FaultPoint.queueAfterBegin.reached()
                let environment = (try? database.environment(of: id)) ?? []
                launch(&job, parent: parent, environment: environment, umask: job.umask ?? 0o022, stdinFD: nil)
                jobs[id] = job
                changed.append(job)
                if job.state == .running {
                    queue.tell(
                        .running(
                            id, group: job.queueGroup ?? Scheduler.defaultGroup, parent: parentId,
                            timeout: job.timeout, since: job.beginTime ?? Date()))
                } else {
                    queue.tell(.ended(id))
                }
            case .fail(let id, let reason):
                guard var job = jobs[id], job.state == .notStarted else { continue }
                job.neverStarted(reason)
                jobs[id] = job
                changed.append(job)
                log.write("\(messageName(of: job)) will not start: \(reason)")
            case .timeOut(let id, let reason):
                guard var job = jobs[id], !job.state.isFinished else { continue }
                job.timedOut = true
                jobs[id] = job
                changed.append(job)
                queue.due(id)
                cjob_eventfd_signal(wakeFD)
                log.write("\(messageName(of: job)) \(reason); stopping it")
            }
        }
        persist(changed)
    }

    /// Tells the queue what changed in these jobs (ends free places in groups and decide
    /// dependencies), then carries out what it decides, until nothing more follows. Called
    /// with every change written through to the store. Lock held.
    func noticeQueue(_ changed: [StoredJob]) {
        guard queue.scheduler.isBusy else { return }
        var parents = Set<Int>()
        for job in changed where job.state.isFinished {
            queue.tell(.ended(job.id))
            if queue.scheduler.isDependency(job.id) { queue.tell(.dependency(job.id, .ended(job.state))) }
            if let parent = job.parentId { parents.insert(parent) }
        }
        for parent in parents.sorted() where queue.scheduler.isDependency(parent) {
            if case .ended(let state) = dependencyState(parent) {
                queue.tell(.dependency(parent, .ended(state)))
            }
        }
        runQueue()
    }

    /// Tells the queue these jobs are gone. A job that waits for one that had ended forgets
    /// it (its end was seen; the store keeps that), so that a new agent does not take its
    /// absence for a removal before it ended. Lock held.
    func noticeRemoved(_ ids: [Int]) {
        guard queue.scheduler.isBusy else { return }
        let gone = Set(ids.filter { queue.scheduler.isDependency($0) })
        if !gone.isEmpty {
            var pruned: [StoredJob] = []
            for slot in table.allSlots where slot.job.state == .notStarted {
                var job = slot.job
                guard !gone.isDisjoint(with: job.after + job.afterAny) else { continue }
                job.after.removeAll { gone.contains($0) }
                job.afterAny.removeAll { gone.contains($0) }
                jobs[job.id] = job
                pruned.append(job)
            }
            persist(pruned)
        }
        for id in ids {
            queue.tell(.ended(id))
            if queue.scheduler.isDependency(id) { queue.tell(.dependency(id, .removed)) }
        }
        runQueue()
    }

    /// Time passed: starts and timeouts now due. Lock held.
    func queueTick() {
        guard queue.scheduler.isBusy else { return }
        queue.tell(.tick)
        runQueue()
    }

    /// Hands the pending events to the queue, one at a time, carrying out each answer; the
    /// events those cause are handled in the same loop, not by recursion.
    func runQueue() {
        guard !queue.running else { return }
        queue.running = true
        defer { queue.running = false }
        while let event = queue.next() {
            carryOut(queue.scheduler.handle(event, now: Date()))
        }
        wakeWatcherIfSooner()
    }

    /// How long the watcher may sleep: until the queue's next wake-up, at most `limit`
    /// milliseconds (-1: no limit).
    func watchTimeout(limit: Int32) -> Int32 {
        queue.plannedWake = queue.scheduler.nextWake()
        guard let wake = queue.plannedWake else { return limit }
        let milliseconds = wake.timeIntervalSinceNow.pollMilliseconds()
        return limit < 0 ? milliseconds : min(limit, milliseconds)
    }

    /// Wakes the watcher when the queue's next wake-up is sooner than it planned for.
    private func wakeWatcherIfSooner() {
        guard let wake = queue.scheduler.nextWake() else { return }
        if let planned = queue.plannedWake, planned <= wake { return }
        queue.plannedWake = wake
        cjob_eventfd_signal(wakeFD)
    }

    /// The children whose timeout has come, for the watcher to stop outside its loop.
    func takeTimeouts() -> [Int] {
        queue.takeTimeouts()
    }

    /// Stops a child whose time is up or whose output passed its cap, as `stop` does; its end
    /// is then Failed with the reason (see `finish`). Lock held, released while it waits.
    func stopTimedOut(_ id: Int) {
        guard let job = jobs[id], !job.state.isFinished else { return }
        stopLocked(ids: [id], grace: job.stopGrace ?? Self.timeoutGrace)
    }

    static let timeoutGrace = 5.0

    /// The Reason of a child that its timeout stopped.
    static func timeoutReason(_ job: StoredJob) -> String {
        "timed out after " + DurationText.text(job.timeout ?? 0)
    }

    /// Rebuilds the queue from the store after the agent starts: the groups' settings, the
    /// children that wait, and the deadlines of those that run. Lock held.
    func restoreQueue() {
        for row in (try? database.groups()) ?? [] {
            _ = queue.scheduler.handle(
                .groupSet(row.name, Scheduler.Group(limit: row.maxRunning, paused: row.paused)), now: Date())
        }
        for slot in table.allSlots {
            let job = slot.job
            guard job.parentId != nil, let spec = spec(of: job) else { continue }
            switch job.state {
            case .notStarted:
                let known = Dictionary(uniqueKeysWithValues: spec.dependencies.map { ($0, dependencyState($0)) })
                queue.tell(.waiting(job.id, spec, dependencies: known))
            case .running, .stopping:
                queue.tell(
                    .running(
                        job.id, group: spec.group, parent: job.parentId, timeout: job.timedOut ? nil : spec.timeout,
                        since: job.beginTime ?? Date(), suspendedFor: job.suspendedFor))
            case .suspended:
                // Its clock stopped when it was suspended: the queue hears of it as of then.
                let then = job.suspendedAt ?? Date()
                carryOut(
                    queue.scheduler.handle(
                        .running(
                            job.id, group: spec.group, parent: job.parentId, timeout: spec.timeout,
                            since: job.beginTime ?? then, suspendedFor: job.suspendedFor), now: then))
                carryOut(queue.scheduler.handle(.suspended(job.id), now: then))
            default:
                continue
            }
        }
        runQueue()
    }
}

extension Comparable {
    fileprivate func clamped(_ low: Self, _ high: Self) -> Self { min(max(self, low), high) }
}

/// `group set | get | remove`: the queue's groups.
extension RegistryState {
    func groupRecord(_ name: String) -> GroupRecord {
        let settings = queue.scheduler.group(name)
        return GroupRecord(
            name: name, limit: settings.limit, paused: settings.paused, running: queue.scheduler.runningCount(in: name),
            queued: queue.scheduler.waitingCount(in: name))
    }

    /// Changes the given settings of these groups, stores them, and starts what they now let
    /// start. Lock held.
    func setGroups(_ request: GroupSetRequest) -> GroupsReply {
        var reply = GroupsReply()
        if let limit = request.limit, limit < 0 {
            reply.problems.append("a group's limit is a number of jobs, 0 (no limit) or more")
            return reply
        }
        for name in request.names {
            if let problem = Self.groupNameProblem(name) {
                reply.problems.append(problem)
                continue
            }
            var settings = queue.scheduler.group(name)
            if let limit = request.limit { settings.limit = limit }
            if let paused = request.paused { settings.paused = paused }
            do {
                let plain = settings == Scheduler.Group()
                try database.setGroup(
                    name,
                    plain ? nil : JobDatabase.GroupRow(name: name, maxRunning: settings.limit, paused: settings.paused))
            } catch {
                reply.problems.append("could not store group \(name): \(StoreProblem.describe(error))")
                continue
            }
            queue.tell(.groupSet(name, settings))
            log.write("group \(name): limit \(settings.limit), \(settings.paused ? "paused" : "not paused")")
        }
        runQueue()
        reply.groups = request.names.filter { Self.groupNameProblem($0) == nil }.map(groupRecord)
        generation &+= 1
        monitor.broadcast()
        return reply
    }

    /// These groups, or every group with settings or jobs, and `default`. Lock held.
    func getGroups(_ request: GroupGetRequest) -> GroupsReply {
        let known = Set(queue.scheduler.groupNames + [Scheduler.defaultGroup])
        var reply = GroupsReply()
        let names = request.names.isEmpty ? known.sorted() : request.names
        for name in names {
            if known.contains(name) {
                reply.groups.append(groupRecord(name))
            } else {
                reply.problems.append("no group is named '\(name)'")
            }
        }
        return reply
    }

    /// Forgets empty groups' settings; a group with jobs running or waiting is refused. Lock held.
    func removeGroups(_ request: GroupRemoveRequest) -> GroupsReply {
        var reply = GroupsReply()
        let known = Set(queue.scheduler.groupNames)
        for name in request.names {
            guard name != Scheduler.defaultGroup else {
                reply.problems.append("the group default always exists; it cannot be removed")
                continue
            }
            guard known.contains(name) else {
                reply.problems.append("no group is named '\(name)'")
                continue
            }
            let record = groupRecord(name)
            guard record.running == 0 && record.queued == 0 else {
                reply.problems.append(
                    "group \(name) has \(record.running) running and \(record.queued) waiting; "
                        + "stop or remove them first (job stop, job remove)")
                continue
            }
            do {
                try database.setGroup(name, nil)
            } catch {
                reply.problems.append("could not remove group \(name): \(StoreProblem.describe(error))")
                continue
            }
            queue.tell(.groupRemoved(name))
            reply.groups.append(record)
        }
        runQueue()
        return reply
    }
}
