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

/// The agent's jobs: the in-memory copy of the store, written through on every change, and
/// every operation the verbs ask for. Not Sendable: it is only reached under the lock of the
/// `JobRegistry` that holds it (`Guarded`), and `monitor` is that lock, for the waits inside.
final class RegistryState {
    let home: JobHome
    let files: OutputFiles
    let database: JobDatabase
    let monitor: Monitor
    let log: AgentLog
    let bootId: String
    /// Started at the first launch, and again after it died.
    var supervisor: Supervisor?
    let makeSupervisor: () throws -> Supervisor
    /// The links to the running children's monitors, and the epoll set that watches them.
    var links = MonitorLinks()

    /// Every job, each in a slot of its own so that reading one field does not copy the
    /// whole record (measured: those copies were most of a `job get` of 10,000 jobs).
    var table: JobTable
    func slot(_ id: Int) -> JobSlot? { table.slot(id) }
    var jobs: JobsView { JobsView(registry: self) }
    func childIds(of id: Int) -> [Int] { table.childIds(of: id) }
    /// Durable children's links to their computers' agents, by job Id (Remote/Mirror.swift),
    /// and how a link's thread is started (set by the registry).
    var mirrors = Mirrors()
    /// The open sessions (they live and end with the agent), and the last session Id given.
    var sessions = SessionTable()
    /// The parents and the selection candidates as of a generation, and the records' encoder.
    var cache = RecordCache()
    /// The parts of children's output that a connection is writing out (see `receive`).
    var claims = ReadClaims()
    /// Goes up with every change a waiting client may care about.
    var generation: UInt64 = 0
    /// The waits blocked now, by connection: the thread that reads a job's end answers those
    /// it meets before it stores the end (`answerWaits`).
    var waits: [Int32: PendingWait] = [:]
    /// The queue: the scheduler and what the agent keeps around it.
    var queue = QueueDriver()
    /// Children a Slurm cluster runs: the client, and the watcher's thread.
    var slurm = SlurmWatch()
    /// How to wake the watcher of ends sooner (for the queue, or a stop).
    let wakeFD: Int32
    /// Wakes the watcher of ends when launched pids are due to be stored (`pidUnsaved`): set
    /// by the thread that launched, it wakes the watcher only if no end came first.
    let pidTimerFD: Int32
    /// Set when the agent begins to stop: waits end, and nothing new is begun.
    var stopping = false
    /// Starts' launches in flight outside the lock, and the requests waiting for them.
    var launchGate = LaunchGate()
    /// What the agent found wrong at its start and did about it, for `agent status`.
    var notices: [String] = []
    /// The Ids reserved and checkpointed (`JOB_HOME/last-id`).
    var idLedger: IdLedger
    /// The last Id handed out; the store's counter follows it in the same transaction.
    var lastId: Int { table.lastId }

    init(
        home: JobHome, database: JobDatabase, log: AgentLog, monitor: Monitor,
        makeSupervisor: @escaping () throws -> Supervisor
    ) throws {
        self.home = home
        self.monitor = monitor
        self.files = OutputFiles(home: home)
        self.makeSupervisor = makeSupervisor
        self.database = database
        self.idLedger = IdLedger(home: home)
        self.log = log
        self.bootId = ProcFS.bootId()
        self.wakeFD = cjob_eventfd_create()
        self.pidTimerFD = cjob_timer_create()
        var table = JobTable(lastId: try database.lastId())
        // One at a time, straight into the slots: never all of them twice in memory.
        try database.loadEach { table.load($0) }
        self.table = table
        // What reading the store took is freed; its pages go back now, not after the first get.
        cjob_release_free_memory()
    }

    /// Closes what the registry holds open: the epoll set and its wake-up, the links to
    /// monitors, the orphans' pidfds, the supervisor's channel, the sessions' input. Called
    /// once every thread has ended. Lock held.
    func closeDescriptors() {
        links.closeAll()
        supervisor = nil
        mirrors.removeAll()
        sessions.removeAll()
        slurm.close()
        if wakeFD >= 0 { close(wakeFD) }
        if pidTimerFD >= 0 { close(pidTimerFD) }
    }

    /// Records how a child ended (`JobOutcome` is the rule), with what only the agent can add:
    /// ssh's own message when ssh failed, and a full disk. `record` nil: nobody saw the end,
    /// and `reason` says why. Lock held.
    func finish(_ job: inout StoredJob, record: ExitRecord?, reason: String?) {
        job.endTime = record?.time ?? Date()
        job.waiterPid = nil
        job.waiterStart = nil
        job.apply(JobOutcome.of(record?.end, stopRequested: job.stopRequested, unseen: reason ?? "failed"))
        // What only the place where it ran can tell of its end (ssh's own failures).
        backend(for: job).explainEnd(&job, in: self)
        applyLimits(&job)
        refreshSizes(&job)
        if job.state == .failed { log.warning("\(messageName(of: job)) failed: \(job.reason ?? "failed")") }
        // A job that failed while the disk of its output was full most likely failed of that.
        if job.state == .failed, job.exitStatus != nil || job.signal != nil,
            DiskSpace.isFull(home.jobsPath, reserve: home.reservePath)
        {
            job.reason =
                (job.reason ?? "failed") + "; the disk holding its output (\(home.jobsPath)) is full, "
                + "so its output may be cut short"
        }
    }

    /// A child its timeout or its output cap stopped failed, whatever its end was. Lock held.
    func applyLimits(_ job: inout StoredJob) {
        if job.timedOut {
            job.hitLimit(Self.timeoutReason(job))
        } else if job.outputCapped {
            job.hitLimit(Self.capReason(job))
        }
    }

    func refreshSizes(_ job: inout StoredJob) {
        (job.outputSize, job.errorSize) = files.sizes(job.instanceId)
    }

    /// Writes jobs through to the store and wakes every waiting client; false when the store
    /// could not be written. Lock held.
    @discardableResult
    func persist(_ changed: [StoredJob]) -> Bool {
        guard !changed.isEmpty else { return true }
        var stored = true
        do {
            try database.update(changed)
        } catch {
            log.write("could not write to the store: \(error)")
            stored = false
        }
        noticeStored(changed)
        return stored
    }

    /// What follows a change of these jobs: waiters woken, the queue told.
    func noticeStored(_ changed: [StoredJob]) {
        generation &+= 1
        monitor.broadcast()
        noticeQueue(changed)
        // A Slurm job held here for one that just ended is submitted now, not a round later.
        if !slurm.held.isEmpty && changed.contains(where: { $0.state.isFinished }) { slurm.wake() }
    }

    // MARK: - Records

    /// A job's record. Lock held.
    func record(slot: JobSlot) -> JobRecord { record(slot.job) }

    /// A job's record as the protocol encodes it (an element of a reply's job list), built
    /// once per change: a `get` of every job is then a copy of bytes. Each is written with
    /// the one `recordEncoder` and kept in a buffer of its size (a new encoder's room for 256
    /// bytes, kept with every record, had been a third of an agent's memory). Lock held.
    func encodedRecord(slot: JobSlot) -> [UInt8] {
        if let cached = slot.encoded { return cached }
        let made = record(slot.job)
        let bytes = cache.encode(made)
        // A waiting job's Reason changes as others start: its record is made each time.
        if made.state != .notStarted { slot.encoded = bytes }
        return bytes
    }

    /// Lock held.
    func record(_ job: StoredJob) -> JobRecord {
        if job.parentId != nil {
            let finished = job.state.isFinished
            // A child waiting in the queue says what for.
            let waiting = job.state == .notStarted ? queue.scheduler.reason(for: job.id, now: Date()) : nil
            var made = withQueue(
                JobRecord(
                    id: job.id, parentId: job.parentId, childIds: [], name: job.name, instanceId: job.instanceId,
                    type: "", state: job.state,
                    hasMoreData: !finished || job.outputRead < job.outputSize || job.errorRead < job.errorSize,
                    location: job.location, command: job.command, workingDirectory: job.workingDirectory,
                    reason: waiting ?? job.reason, exitStatus: job.exitStatus, signal: job.signal,
                    pid: finished ? nil : job.pid, beginTime: job.beginTime, endTime: job.endTime,
                    computer: job.computer), of: job)
            made.stateChanges = table.slot(job.id)?.stateChanges
            return made
        }
        let kids = table.kidSlots(of: job.id).map { record($0.job) }
        let state = JobState.ofParent(children: kids.map(\.state), stopRequested: job.stopRequested)
        // One child: its reason is the job's. Several: each says which it is.
        func said(_ kid: JobRecord, _ what: String) -> String {
            kids.count == 1 ? what : "\(kid.location) (Job\(kid.id)) \(what)"
        }
        let failures = kids.filter { $0.state == .failed }.map {
            kids.count == 1 ? $0.reason ?? "failed" : said($0, "failed: \($0.reason ?? "failed")")
        }
        let stopped = kids.filter { $0.state == .stopped }.map { said($0, $0.reason ?? "stopped") }
        let reason =
            failures.isEmpty
            ? (state == .stopped ? stopped.joined(separator: "; ") : nil)
            : failures.joined(separator: "; ")
        // A parent whose children all wait says what the first waits for.
        let waiting = state == .notStarted ? kids.lazy.compactMap(\.reason).first : nil
        return withQueue(
            JobRecord(
                id: job.id, parentId: nil, childIds: kids.map(\.id), name: job.name, instanceId: job.instanceId,
                type: job.type, state: state, hasMoreData: kids.contains(where: \.hasMoreData),
                location: kids.count == 1 ? kids[0].location : NodeSet.fold(kids.map(\.location)), command: job.command,
                workingDirectory: job.workingDirectory, reason: waiting ?? (reason?.isEmpty == true ? nil : reason),
                // One child: its exit status is the job's, as a script asks of a `start`.
                exitStatus: kids.count == 1 ? kids[0].exitStatus : nil, beginTime: kids.compactMap(\.beginTime).min(),
                endTime: state.isFinished ? kids.compactMap(\.endTime).max() : nil, computer: job.computer),
            of: job)
    }

    /// A record with the job's queue fields.
    private func withQueue(_ record: JobRecord, of job: StoredJob) -> JobRecord {
        var record = record
        record.group = job.queueGroup
        record.timeout = job.timeout
        record.after = job.after
        record.afterAny = job.afterAny
        record.startAt = job.notBefore
        record.maxOutput = job.maxOutput
        record.restarts = job.restarts
        record.history = job.history
        record.schedulerJobId = job.schedulerJobId
        return record
    }

    /// The selected jobs' records, building records only for them. Lock held.
    func select(_ selection: JobSelection, newest: Int? = nil) -> SelectionResult {
        let (chosen, errors) = selectSlots(selection, newest: newest)
        return SelectionResult(jobs: chosen.map(record(slot:)), errors: errors)
    }

    /// The selected jobs in Id order, and a message for each selector that named nothing.
    /// Lock held.
    func selectSlots(_ selection: JobSelection, newest: Int? = nil) -> (slots: [JobSlot], errors: [String]) {
        // Plain Ids, the most common selection, are looked up directly.
        if !selection.selectors.isEmpty, selection.names.isEmpty, selection.states.isEmpty,
            selection.selectors.allSatisfy({ $0.allSatisfy(\.isASCII) && Int($0).map { $0 >= 0 } == true })
        {
            let ids = Set(selection.selectors.compactMap { Int($0) })
            let found = ids.sorted().compactMap { slot($0) }
            let missing = selection.selectors.compactMap(Int.init).filter { slot($0) == nil }
            return (found, missing.map { "no job has Id \($0)" })
        }
        // The newest parents alone (`get --newest N`): read from the end, whatever is stored.
        if selection.isEmpty, let newest {
            var chosen: [JobSlot] = []
            for slot in table.newestSlots where slot.job.parentId == nil {
                guard chosen.count < newest else { break }
                chosen.append(slot)
            }
            return (chosen.reversed(), [])
        }
        // Every parent, the plain `get`: kept in order until anything changes.
        if selection.isEmpty && newest == nil {
            return (cache.parents(at: generation) { table.parentSlots }, [])
        }
        var (chosen, errors) = selection.select(candidates(withChildren: selection.canSelectChildren))
        // Records are built only for the jobs that will be shown.
        if let newest { chosen = Array(chosen.suffix(max(0, newest))) }
        return (chosen.compactMap { slot($0) }, errors)
    }

    /// What selection needs of every job, kept until anything changes (reading it from
    /// 10,000 scattered records was most of a `job get`). Lock held.
    func candidates(withChildren: Bool) -> [SelectionCandidate] {
        cache.candidates(at: generation, withChildren: withChildren) {
            table.allSlots.compactMap { slot -> SelectionCandidate? in
                let id = slot.job.id
                let isParent = slot.job.parentId == nil
                guard withChildren || isParent else { return nil }
                let state =
                    isParent
                    ? JobState.ofParent(
                        children: table.kids(of: id).map(\.state),
                        stopRequested: slot.job.stopRequested)
                    : slot.job.state
                return SelectionCandidate(
                    id: id, isParent: isParent, instanceId: slot.job.instanceId, name: slot.job.name, state: state)
            }
        }
    }
}

extension RegistryState {
    /// `jobs[id]` reads a copy of a job and `jobs[id] = job` stores one, for the paths that
    /// change jobs; hot read paths use `slots` directly.
    struct JobsView {
        let registry: RegistryState
        subscript(id: Int) -> StoredJob? {
            get { registry.table[id] }
            nonmutating set { registry.table[id] = newValue }
        }
        /// Every job's Id, in order.
        var ids: [Int] { registry.table.allSlots.map(\.job.id) }
    }
}

extension JobSelection {
    /// Only the `--name` and `--state` filters, for lists that are already chosen.
    func applyFilters(to jobs: [JobRecord]) -> [JobRecord] {
        var result = jobs
        if !names.isEmpty {
            let globs = names.map(Glob.init)
            result = result.filter { job in globs.contains { $0.matches(job.name) } }
        }
        if !states.isEmpty {
            result = result.filter { states.contains($0.state) }
        }
        return result
    }
}
