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

/// What a new job's children ask of the queue: when they may start and how long they may run.
struct QueueSpec: Hashable, Sendable {
    /// The group whose limit and pause apply.
    var group = Scheduler.defaultGroup
    /// Jobs (Ids) that must have ended Completed first (`--after`).
    var after: [Int] = []
    /// Jobs that must have ended first, in any way (`--after-any`).
    var afterAny: [Int] = []
    /// Not before this time (`--at`, `--delay`).
    var notBefore: Date?
    /// Seconds a child may run before it is stopped (`--timeout`).
    var timeout: Double?
    /// The children of one `invoke` with a throttle limit: at most `parentLimit` of the
    /// parent's children run at once (0: no limit).
    var parent: Int?
    var parentLimit = 0

    /// Whether the queue has anything to decide for such a child before it starts.
    var holdsStart: Bool {
        group != Scheduler.defaultGroup || !after.isEmpty || !afterAny.isEmpty || notBefore != nil
    }

    /// Every job it waits for.
    var dependencies: [Int] { after + afterAny }
}

/// Where a job that others wait for stands.
enum DependencyState: Equatable, Sendable {
    case unfinished
    case ended(JobState)
    case removed
}

/// The queue: which waiting children start now, which never will, which running ones have
/// run out of time. A state machine with no processes, files or clock of its own: the agent
/// hands it events with the time they happen, carries out the actions it returns, and asks it
/// when to wake next; `SchedulerTests` drives it with tables. Not Sendable: the registry owns
/// one, under its lock.
struct Scheduler {
    static let defaultGroup = "default"

    /// One group's settings: at most `limit` children running at once (0: no limit), and
    /// whether it is paused (nothing new starts; what runs goes on).
    struct Group: Equatable, Sendable {
        var limit = 0
        var paused = false
    }

    enum Event: Equatable {
        /// A child waits to start (NotStarted), with what it waits for; `dependencies` says
        /// where each job of `spec.after` stands now.
        case waiting(Int, QueueSpec, dependencies: [Int: DependencyState])
        /// A child runs (launched, or found running by a new agent) since `since`, with what
        /// of its run was spent suspended (so that its deadline stays where it was).
        case running(Int, group: String, parent: Int? = nil, timeout: Double?, since: Date, suspendedFor: Double = 0)
        /// A child ended, or is gone: its place in its group is free.
        case ended(Int)
        /// A job that others wait for ended, or was removed.
        case dependency(Int, DependencyState)
        case suspended(Int)
        case resumed(Int)
        case groupSet(String, Group)
        case groupRemoved(String)
        /// Only time passed.
        case tick
    }

    enum Action: Equatable {
        /// Launch this waiting child now.
        case start(Int)
        /// This waiting child will never start (a dependency failed, or is gone): it ends
        /// Failed with the reason.
        case fail(Int, reason: String)
        /// This running child has run out of time: stop it, and it ends Failed with the reason.
        case timeOut(Int, reason: String)

        var id: Int {
            switch self {
            case .start(let id), .fail(let id, _), .timeOut(let id, _): id
            }
        }
    }

    /// A waiting child: its spec, shared with the others of the same options (100,000 waiting
    /// children had each their own, 20 MB), and its parent.
    private struct Waiter {
        var shared: SharedSpec
        var parent: Int?
        var spec: QueueSpec {
            var spec = shared.spec
            spec.parent = parent
            return spec
        }
    }

    private final class SharedSpec {
        let spec: QueueSpec
        init(_ spec: QueueSpec) { self.spec = spec }
    }

    /// The specs of waiting children, without their parents, each kept once.
    private var specs: [QueueSpec: SharedSpec] = [:]

    private mutating func waiter(_ spec: QueueSpec) -> Waiter {
        var key = spec
        key.parent = nil
        if let shared = specs[key] { return Waiter(shared: shared, parent: spec.parent) }
        if specs.count >= 10000 { specs.removeAll() }
        let shared = SharedSpec(key)
        specs[key] = shared
        return Waiter(shared: shared, parent: spec.parent)
    }

    private struct Runner {
        var group: String
        var parent: Int?
        var timeout: Double?
        /// When its time is up; nil without a timeout, or while suspended.
        var deadline: Date?
        /// While suspended: the seconds its timeout had left.
        var remaining: Double?
        var timedOut = false
    }

    // What is waiting and running, indexed so that an event looks only at what it can change
    // (ten thousand waiting children must not make each event a pass over all of them).
    private var waiters: [Int: Waiter] = [:]
    /// Each group's waiting children in Id order; an Id no longer waiting is dropped lazily.
    private var queues: [String: [Int]] = [:]
    /// The waiting children of each job others wait for.
    private var dependents: [Int: [Int]] = [:]
    /// Waiting children with a start time still to come.
    private var scheduled: Set<Int> = []
    private var runners: [Int: Runner] = [:]
    private var runningInGroup: [String: Int] = [:]
    private var runningOfParent: [Int: Int] = [:]
    private var dependencies: [Int: DependencyState] = [:]
    private(set) var groups: [String: Group] = [:]
    /// What the next decision looks at: groups where a place may have freed or a child become
    /// ready, and children whose dependencies changed.
    private var dirtyGroups: Set<String> = []
    private var recheck: Set<Int> = []
    /// Each waiting child's count of ready children ahead of it in its group, made again after
    /// any change (for the Reasons of a `get` of many waiting jobs).
    private var version = 0
    private var aheadCache: (version: Int, ahead: [Int: Int]) = (-1, [:])

    /// Whether any child waits or runs under the queue (else no event can change anything).
    var isBusy: Bool { !waiters.isEmpty || !runners.isEmpty }

    /// A group's settings (a group never set has no limit and is not paused).
    func group(_ name: String) -> Group { groups[name] ?? Group() }

    /// The children waiting in the queue, in Id order.
    var waitingIds: [Int] { waiters.keys.sorted() }

    /// How many children of a group run (a suspended child keeps its place).
    func runningCount(in group: String) -> Int { runningInGroup[group] ?? 0 }

    /// How many children wait in a group.
    func waitingCount(in group: String) -> Int { (queues[group] ?? []).filter { waiters[$0] != nil }.count }

    /// The groups that have settings, waiting or running children, by name.
    var groupNames: [String] {
        Set(groups.keys).union(queues.compactMap { $0.value.contains { waiters[$0] != nil } ? $0.key : nil })
            .union(runningInGroup.compactMap { $0.value > 0 ? $0.key : nil }).sorted()
    }

    /// Whether any child waits for this job.
    func isDependency(_ id: Int) -> Bool { dependents[id]?.contains { waiters[$0] != nil } ?? false }

    /// Takes one event at `now` and returns what to do: timeouts, then children that never
    /// start, then those that start, each in Id order.
    mutating func handle(_ event: Event, now: Date) -> [Action] {
        version &+= 1
        switch event {
        case .waiting(let id, let spec, let known):
            removeRunner(id)
            waiters[id] = waiter(spec)
            queues[spec.group, default: []].append(id)
            if let last = queues[spec.group]?.dropLast().last, last > id { queues[spec.group]?.sort() }
            for job in spec.dependencies { dependents[job, default: []].append(id) }
            for (job, state) in known where dependencies[job] == nil || state != .unfinished {
                dependencies[job] = state
            }
            if let notBefore = spec.notBefore, notBefore > now { scheduled.insert(id) }
            recheck.insert(id)
            dirtyGroups.insert(spec.group)
        case .running(let id, let group, let parent, let timeout, let since, let suspendedFor):
            dropWaiter(id)
            removeRunner(id)
            addRunner(
                id,
                Runner(
                    group: group, parent: parent, timeout: timeout,
                    deadline: timeout.map { since.addingTimeInterval($0 + suspendedFor) }))
        case .ended(let id):
            dropWaiter(id)
            removeRunner(id)
        case .dependency(let id, let state):
            // An end already seen stands: removing a job that ended does not undo its end.
            if state == .removed, case .ended = dependencies[id] { break }
            dependencies[id] = state
            for child in dependents[id] ?? [] where waiters[child] != nil {
                recheck.insert(child)
                if let group = waiters[child]?.spec.group { dirtyGroups.insert(group) }
            }
        case .suspended(let id):
            if var runner = runners[id], let deadline = runner.deadline {
                runner.remaining = max(0, deadline.timeIntervalSince(now))
                runner.deadline = nil
                runners[id] = runner
            }
        case .resumed(let id):
            if var runner = runners[id], let remaining = runner.remaining {
                runner.deadline = now.addingTimeInterval(remaining)
                runner.remaining = nil
                runners[id] = runner
            }
        case .groupSet(let name, let settings):
            groups[name] = settings
            dirtyGroups.insert(name)
        case .groupRemoved(let name):
            groups[name] = nil
            dirtyGroups.insert(name)
        case .tick:
            break
        }
        // Start times that have come make their children ready.
        for id in scheduled {
            guard let waiter = waiters[id] else {
                scheduled.remove(id)
                continue
            }
            if let notBefore = waiter.spec.notBefore, notBefore > now { continue }
            scheduled.remove(id)
            dirtyGroups.insert(waiter.spec.group)
        }
        return decide(now: now)
    }

    private mutating func addRunner(_ id: Int, _ runner: Runner) {
        runners[id] = runner
        runningInGroup[runner.group, default: 0] += 1
        if let parent = runner.parent { runningOfParent[parent, default: 0] += 1 }
    }

    /// Forgets a running child: its place in its group (and its parent's) is free.
    private mutating func removeRunner(_ id: Int) {
        guard let runner = runners.removeValue(forKey: id) else { return }
        runningInGroup[runner.group, default: 1] -= 1
        if runningInGroup[runner.group] == 0 { runningInGroup[runner.group] = nil }
        if let parent = runner.parent {
            runningOfParent[parent, default: 1] -= 1
            if runningOfParent[parent] == 0 { runningOfParent[parent] = nil }
        }
        dirtyGroups.insert(runner.group)
    }

    /// Forgets a waiting child (its Id leaves its group's queue lazily).
    private mutating func dropWaiter(_ id: Int) {
        guard let waiter = waiters.removeValue(forKey: id) else { return }
        scheduled.remove(id)
        for job in waiter.spec.dependencies {
            dependents[job]?.removeAll { $0 == id }
            if dependents[job]?.isEmpty == true { dependents[job] = nil }
        }
    }

    /// When something is next due (a deadline, a start time), for the agent's wait; nil when
    /// nothing is.
    func nextWake() -> Date? {
        let deadlines = runners.values.compactMap { $0.timedOut ? nil : $0.deadline }
        let starts = scheduled.compactMap { waiters[$0]?.spec.notBefore }
        return (deadlines + starts).min()
    }

    /// Why a waiting child has not started, as `get` shows it; nil when it is not waiting.
    mutating func reason(for id: Int, now: Date) -> String? {
        guard let waiter = waiters[id] else { return nil }
        let spec = waiter.spec
        let pending = spec.dependencies.filter { (dependencies[$0] ?? .unfinished) == .unfinished }
        if !pending.isEmpty {
            return "waiting for " + pending.sorted().map(String.init).joined(separator: ", ")
        }
        if let notBefore = spec.notBefore, notBefore > now { return "starts at " + Self.clock(notBefore, now: now) }
        let settings = group(spec.group)
        if settings.paused { return "queued in group \(spec.group), which is paused" }
        if let parent = spec.parent, spec.parentLimit > 0, runningOfParent[parent, default: 0] >= spec.parentLimit,
            settings.limit <= 0 || runningCount(in: spec.group) < settings.limit
        {
            return "waiting for a place among the \(spec.parentLimit) of job \(parent) that may run at once"
        }
        if aheadCache.version != version {
            var ahead: [Int: Int] = [:]
            for (_, queue) in queues {
                var ready = 0
                for child in queue {
                    guard let other = waiters[child] else { continue }
                    ahead[child] = ready
                    if isReady(other, now: now) { ready += 1 }
                }
            }
            aheadCache = (version, ahead)
        }
        return "queued in group \(spec.group), \(aheadCache.ahead[id] ?? 0) ahead"
    }

    /// A start time as `get` says it: the time of day when it is today, else the date too.
    static func clock(_ date: Date, now: Date) -> String {
        let calendar = Calendar.current
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = calendar.timeZone
        format.dateFormat = calendar.isDate(date, inSameDayAs: now) ? "HH:mm:ss" : "yyyy-MM-dd HH:mm:ss"
        return format.string(from: date)
    }

    /// Whether a waiter's dependencies and start time let it start (its group aside).
    private func isReady(_ waiter: Waiter, now: Date) -> Bool {
        if let notBefore = waiter.spec.notBefore, notBefore > now { return false }
        return waiter.spec.dependencies.allSatisfy { dependencies[$0] != nil && dependencies[$0] != .unfinished }
    }

    /// The actions due at `now`: timeouts first, then waiters that can never start, then
    /// those that start, each in Id order and within their groups' and parents' limits. Only
    /// the groups and children an event touched are looked at.
    private mutating func decide(now: Date) -> [Action] {
        var timeouts: [Action] = []
        for (id, runner) in runners where !runner.timedOut {
            guard let deadline = runner.deadline, deadline <= now, let timeout = runner.timeout else { continue }
            runners[id]?.timedOut = true
            timeouts.append(.timeOut(id, reason: "timed out after \(DurationText.text(timeout))"))
        }
        var failures: [Action] = []
        for id in recheck.sorted() {
            guard let waiter = waiters[id], let reason = failure(of: waiter.spec) else { continue }
            dropWaiter(id)
            failures.append(.fail(id, reason: reason))
        }
        recheck.removeAll()
        var starts: [Int] = []
        for name in dirtyGroups.sorted() {
            let settings = group(name)
            guard let queue = queues[name], !settings.paused else { continue }
            var kept: [Int] = []
            kept.reserveCapacity(queue.count)
            for (index, id) in queue.enumerated() {
                guard let waiter = waiters[id] else { continue }
                let count = runningInGroup[name, default: 0]
                if settings.limit > 0 && count >= settings.limit {
                    // Full: the rest wait as they are.
                    kept += queue[index...]
                    break
                }
                let parentFull =
                    waiter.spec.parent.map {
                        waiter.spec.parentLimit > 0 && runningOfParent[$0, default: 0] >= waiter.spec.parentLimit
                    }
                    ?? false
                guard !settings.paused, settings.limit <= 0 || count < settings.limit, !parentFull,
                    isReady(waiter, now: now)
                else {
                    kept.append(id)
                    continue
                }
                dropWaiter(id)
                addRunner(
                    id, Runner(group: name, parent: waiter.spec.parent, timeout: waiter.spec.timeout, deadline: nil))
                starts.append(id)
            }
            queues[name] = kept.isEmpty ? nil : kept
        }
        dirtyGroups.removeAll()
        return timeouts.sorted { $0.id < $1.id } + failures + starts.sorted().map { .start($0) }
    }

    /// Why a waiter can never start, when one of its dependencies ended otherwise than it
    /// needs or is gone.
    private func failure(of spec: QueueSpec) -> String? {
        for job in spec.dependencies.sorted() {
            switch dependencies[job] ?? .unfinished {
            case .unfinished: continue
            case .removed: return "job \(job), which it waited for, was removed"
            case .ended(let state):
                if state != .completed && !spec.afterAny.contains(job) {
                    return "job \(job), which it waited for, ended \(state.rawValue)"
                }
            }
        }
        return nil
    }
}
