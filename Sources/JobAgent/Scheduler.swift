import Foundation
import JobCore

/// What a new job's children ask of the queue: when they may start and how long they may run.
struct QueueSpec: Equatable, Sendable {
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
    }

    private struct Waiter {
        var spec: QueueSpec
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

    private var waiters: [Int: Waiter] = [:]
    private var runners: [Int: Runner] = [:]
    private var dependencies: [Int: DependencyState] = [:]
    private(set) var groups: [String: Group] = [:]

    /// Whether any child waits or runs under the queue (else no event can change anything).
    var isBusy: Bool { !waiters.isEmpty || !runners.isEmpty }

    /// A group's settings (a group never set has no limit and is not paused).
    func group(_ name: String) -> Group { groups[name] ?? Group() }

    /// The children waiting in the queue, in Id order.
    var waitingIds: [Int] { waiters.keys.sorted() }

    /// How many children of a group run (a suspended child keeps its place).
    func runningCount(in group: String) -> Int { runners.values.filter { $0.group == group }.count }

    /// How many children wait in a group.
    func waitingCount(in group: String) -> Int { waiters.values.filter { $0.spec.group == group }.count }

    /// The groups that have settings, waiting or running children, by name.
    var groupNames: [String] {
        Set(groups.keys).union(waiters.values.map(\.spec.group)).union(runners.values.map(\.group)).sorted()
    }

    /// Whether any child waits for this job.
    func isDependency(_ id: Int) -> Bool { waiters.values.contains { $0.spec.dependencies.contains(id) } }

    /// Takes one event at `now` and returns what to do, in Id order.
    mutating func handle(_ event: Event, now: Date) -> [Action] {
        switch event {
        case .waiting(let id, let spec, let known):
            waiters[id] = Waiter(spec: spec)
            for (job, state) in known where dependencies[job] == nil || state != .unfinished {
                dependencies[job] = state
            }
        case .running(let id, let group, let parent, let timeout, let since, let suspendedFor):
            waiters[id] = nil
            runners[id] = Runner(
                group: group, parent: parent, timeout: timeout,
                deadline: timeout.map { since.addingTimeInterval($0 + suspendedFor) })
        case .ended(let id):
            waiters[id] = nil
            runners[id] = nil
        case .dependency(let id, let state):
            // An end already seen stands: removing a job that ended does not undo its end.
            if state == .removed, case .ended = dependencies[id] { break }
            dependencies[id] = state
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
        case .groupRemoved(let name):
            groups[name] = nil
        case .tick:
            break
        }
        return decide(now: now)
    }

    /// When something is next due (a deadline, a start time), for the agent's wait; nil when
    /// nothing is.
    func nextWake() -> Date? {
        let deadlines = runners.values.compactMap { $0.timedOut ? nil : $0.deadline }
        let starts = waiters.values.compactMap(\.spec.notBefore)
        return (deadlines + starts).min()
    }

    /// Why a waiting child has not started, as `get` shows it; nil when it is not waiting.
    func reason(for id: Int, now: Date) -> String? {
        guard let waiter = waiters[id] else { return nil }
        let spec = waiter.spec
        let pending = spec.dependencies.filter { (dependencies[$0] ?? .unfinished) == .unfinished }
        if !pending.isEmpty {
            return "waiting for " + pending.sorted().map(String.init).joined(separator: ", ")
        }
        if let notBefore = spec.notBefore, notBefore > now { return "starts at " + Self.clock(notBefore, now: now) }
        let settings = group(spec.group)
        if settings.paused { return "queued in group \(spec.group), which is paused" }
        if let parent = spec.parent, spec.parentLimit > 0,
            runners.values.filter({ $0.parent == parent }).count >= spec.parentLimit,
            settings.limit <= 0 || runningCount(in: spec.group) < settings.limit
        {
            return "waiting for a place among the \(spec.parentLimit) of job \(parent) that may run at once"
        }
        let ahead = waiters.filter { $0.key < id && $0.value.spec.group == spec.group && isReady($0.value, now: now) }
        return "queued in group \(spec.group), \(ahead.count) ahead"
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
    /// those that start, in Id order and within their groups' limits.
    private mutating func decide(now: Date) -> [Action] {
        var actions: [Action] = []
        for id in runners.keys.sorted() {
            guard var runner = runners[id], !runner.timedOut, let deadline = runner.deadline, deadline <= now,
                let timeout = runner.timeout
            else { continue }
            runner.timedOut = true
            runners[id] = runner
            actions.append(.timeOut(id, reason: "timed out after \(DurationText.text(timeout))"))
        }
        var running: [String: Int] = [:]
        var runningOfParent: [Int: Int] = [:]
        for runner in runners.values {
            running[runner.group, default: 0] += 1
            if let parent = runner.parent { runningOfParent[parent, default: 0] += 1 }
        }
        for id in waiters.keys.sorted() {
            guard let waiter = waiters[id] else { continue }
            if let reason = failure(of: waiter.spec) {
                waiters[id] = nil
                actions.append(.fail(id, reason: reason))
                continue
            }
            guard isReady(waiter, now: now) else { continue }
            let settings = group(waiter.spec.group)
            let count = running[waiter.spec.group, default: 0]
            guard !settings.paused, settings.limit <= 0 || count < settings.limit else { continue }
            if let parent = waiter.spec.parent, waiter.spec.parentLimit > 0,
                runningOfParent[parent, default: 0] >= waiter.spec.parentLimit
            {
                continue
            }
            waiters[id] = nil
            running[waiter.spec.group] = count + 1
            if let parent = waiter.spec.parent { runningOfParent[parent, default: 0] += 1 }
            runners[id] = Runner(
                group: waiter.spec.group, parent: waiter.spec.parent, timeout: waiter.spec.timeout, deadline: nil)
            actions.append(.start(id))
        }
        return actions
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
