import Foundation
import JobCore
import JobStore

/// The jobs the agent keeps in memory: each in a slot, the children of each parent in order,
/// every Id in order, and the last Id handed out. Changed only through its methods, which keep
/// these in step (a changed job forgets its encoded record and its parent's; a removed parent
/// takes its children with it; Ids are never handed out twice). It knows no processes, files
/// or store, so `JobTableTests` drives it alone. The registry owns one, under its lock.
struct JobTable {
    private(set) var slots: [Int: JobSlot] = [:]
    private(set) var children: [Int: [Int]] = [:]
    /// Every job's Id in order (new jobs have the highest); may still hold removed Ids, which
    /// have no slot, until enough of them are dropped at once.
    private(set) var orderedIds: [Int] = []
    private var removedSinceCompacting = 0
    /// The last Id handed out; the store's counter follows it in the same transaction.
    private(set) var lastId: Int

    init(lastId: Int) { self.lastId = lastId }

    /// A job read from the store, in Id order.
    mutating func load(_ job: StoredJob) {
        slots[job.id] = JobSlot(job)
        if let parent = job.parentId { children[parent, default: []].append(job.id) }
        orderedIds.append(job.id)
        lastId = max(lastId, job.id)
    }

    /// The Ids a new parent with `count` children takes: the parent's first.
    func nextIds(children count: Int) -> (parent: Int, children: [Int]) {
        (lastId + 1, (0..<count).map { lastId + 2 + $0 })
    }

    /// Adds a new parent and its children, with the Ids `nextIds` gave them.
    mutating func add(_ parent: StoredJob, _ kids: [StoredJob]) {
        lastId = max(lastId, kids.last?.id ?? parent.id)
        slots[parent.id] = JobSlot(parent)
        for job in kids { slots[job.id] = JobSlot(job) }
        children[parent.id] = kids.map(\.id)
        orderedIds += [parent.id] + kids.map(\.id)
    }

    /// A job by Id. Setting one replaces it and forgets the encoded records of it and of its
    /// parent (whose record shows its children).
    subscript(id: Int) -> StoredJob? {
        get { slots[id]?.job }
        set {
            guard let newValue else {
                // A child leaves its parent's list; a parent takes its children with it.
                if let parent = slots[id]?.job.parentId {
                    children[parent]?.removeAll { $0 == id }
                    slots[parent]?.encoded = nil
                    slots[id] = nil
                } else {
                    removeParent(id)
                }
                return
            }
            if let slot = slots[id] {
                slot.job = newValue
                slot.encoded = nil
            } else {
                slots[id] = JobSlot(newValue)
            }
            if let parent = newValue.parentId { slots[parent]?.encoded = nil }
        }
    }

    /// Removes a parent and its children; returns the children that were there.
    @discardableResult
    mutating func removeParent(_ id: Int) -> [StoredJob] {
        let kids = (children.removeValue(forKey: id) ?? []).compactMap { slots.removeValue(forKey: $0)?.job }
        guard slots.removeValue(forKey: id) != nil else { return kids }
        removedSinceCompacting += 1 + kids.count
        // Removed Ids are dropped from the order in batches: one pass per many removals.
        if removedSinceCompacting > max(1024, orderedIds.count / 2) {
            orderedIds.removeAll { slots[$0] == nil }
            removedSinceCompacting = 0
        }
        return kids
    }

    /// The children of a parent, in order.
    func kids(of id: Int) -> [StoredJob] { (children[id] ?? []).compactMap { slots[$0]?.job } }

    /// A child's state, or a parent's from its children's (`JobState.ofParent`); nil when gone.
    func state(of id: Int) -> JobState? {
        guard let job = slots[id]?.job else { return nil }
        guard job.parentId == nil else { return job.state }
        return JobState.ofParent(children: kids(of: id).map(\.state), stopRequested: job.stopRequested)
    }

    /// Whether a job (parent or child) has finished, or is gone.
    func isFinished(_ id: Int) -> Bool {
        guard let job = slots[id]?.job else { return true }
        if job.parentId != nil { return job.state.isFinished }
        return (children[id] ?? []).allSatisfy { slots[$0]?.job.state.isFinished ?? true }
    }

    /// The parents in Id order.
    var parentSlots: [JobSlot] {
        orderedIds.compactMap { id in slots[id].flatMap { $0.job.parentId == nil ? $0 : nil } }
    }
}

/// One job of the table.
final class JobSlot {
    var job: StoredJob
    /// The job's record, encoded, as last built; cleared when the job or one of its children
    /// changes.
    var encoded: [UInt8]?
    init(_ job: StoredJob) { self.job = job }
}

/// A child's changes of state, each named. The handlers change a child's state only through
/// these, so the rules are in one place, which `JobTableTests` drives without processes:
///
///     NotStarted --begin--> Running --launched--> Running, with its pid
///     Running --launchFailed--> Failed
///     Running --unbegin--> NotStarted (its begin could not be stored: it was not launched)
///     NotStarted --requestStop--> Stopped ("stopped before it started")
///     Running --requestStop--> Stopping
///     Running or Stopping --apply(outcome)--> Completed, Failed or Stopped
extension StoredJob {
    /// To be launched: Running from now, stored so before the launch, so that no job runs
    /// that the store does not know.
    mutating func begin(at time: Date = Date()) {
        state = .running
        beginTime = time
    }

    /// Back to waiting: its begin could not be stored, so it was not launched.
    mutating func unbegin() {
        state = .notStarted
        beginTime = nil
    }

    /// Its launch succeeded: its process (0 when only its monitor is known yet) and monitor.
    mutating func launched(pid: Int, startTime: Int64?, monitorPid: Int) {
        state = .running
        self.pid = pid > 0 ? pid : nil
        pidStart = startTime
        waiterPid = monitorPid > 0 ? monitorPid : nil
    }

    /// Its launch failed, and why.
    mutating func launchFailed(_ why: String, at time: Date = Date()) {
        state = .failed
        reason = why
        endTime = time
    }

    /// A stop was asked for. One that had not started is Stopped at once; an unfinished one
    /// is Stopping until its end is seen. Whether its processes are to be signalled.
    mutating func requestStop(at time: Date = Date()) -> Bool {
        guard !state.isFinished else { return false }
        guard state != .notStarted else {
            state = .stopped
            reason = "stopped before it started"
            endTime = time
            return false
        }
        stopRequested = true
        state = .stopping
        return true
    }

    /// Its end, by the outcome rule (`JobOutcome`): its final state, status and reason.
    mutating func apply(_ outcome: JobOutcome) {
        state = outcome.state
        exitStatus = outcome.exitStatus
        signal = outcome.signal
        reason = outcome.reason
    }
}
