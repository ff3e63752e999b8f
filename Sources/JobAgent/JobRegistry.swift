import CJobSupport
import Foundation
import JobCore
import JobProtocol
import JobRemote
import JobStore

/// The agent's jobs: the in-memory copy of the store, written through on every change, and
/// every operation the verbs ask for. All state is read and changed under `monitor`.
final class JobRegistry: @unchecked Sendable {
    let home: JobHome
    let database: JobDatabase
    let monitor = Monitor()
    let log: AgentLog
    let bootId: String
    let epoll: Int32
    /// Started at the first launch, and again after it died.
    private var supervisor: Supervisor?
    private let makeSupervisor: () throws -> Supervisor
    /// The connection to each running child's monitor, by job Id.
    var monitorLinks: [Int: Int32] = [:]
    /// A pidfd for each running child whose monitor was killed, by job Id.
    var orphanWatches: [Int: Int32] = [:]
    /// Children whose end is known but could not be stored yet (a full disk): their monitors
    /// keep the end until it is.
    var unacknowledged: Set<Int> = []
    /// Running children whose monitor could not be reached for want of descriptors.
    var unreached: Set<Int> = []

    /// Every job, each in a slot of its own so that reading one field does not copy the
    /// whole record (measured: those copies were most of a `job get` of 10,000 jobs).
    var slots: [Int: JobSlot] = [:]
    var jobs: JobsView { JobsView(registry: self) }
    var children: [Int: [Int]] = [:]
    /// The caller's umask for the children a throttle holds back, by parent Id. Not stored:
    /// after an agent restart they start with 022.
    private var queuedUmask: [Int: Int] = [:]
    /// The open sessions (they live and end with the agent), and the last session Id given.
    var sessions: [Int: Session] = [:]
    var lastSessionId = 0
    /// Every job's Id, in order (new jobs have the highest Ids).
    var orderedIds: [Int] = []
    var candidateCache: (generation: UInt64, withChildren: Bool, list: [SelectionCandidate])?
    /// The parts of children's output that a connection is writing out (see `receive`).
    var claims: [Int: ReadClaim] = [:]
    /// Goes up with every change a waiting client may care about.
    var generation: UInt64 = 0
    /// The last Id handed out; the store's counter follows it in the same transaction.
    var lastId: Int

    init(home: JobHome, database: JobDatabase, log: AgentLog, makeSupervisor: @escaping () throws -> Supervisor) throws
    {
        self.home = home
        self.makeSupervisor = makeSupervisor
        self.database = database
        self.log = log
        self.bootId = ProcFS.bootId()
        self.epoll = cjob_epoll_create()
        self.lastId = try database.lastId()
        for job in try database.loadAll() {
            jobs[job.id] = job
            if let parent = job.parentId { children[parent, default: []].append(job.id) }
        }
        orderedIds = jobs.keys.sorted()
    }

    /// Records how a child ended (`JobOutcome` is the rule), with what only the agent can add:
    /// ssh's own message when ssh failed, and a full disk. `record` nil: nobody saw the end,
    /// and `reason` says why. Lock held.
    func finish(_ job: inout StoredJob, record: ExitRecord?, reason: String?) {
        job.endTime = record?.time ?? Date()
        job.waiterPid = nil
        job.waiterStart = nil
        job.apply(JobOutcome.of(record?.end, stopRequested: job.stopRequested, unseen: reason ?? "failed"))
        // ssh exits 255 for its own failures: its last message says what happened.
        if job.state == .failed, job.exitStatus == 255, job.isRemote,
            let diagnosis = SSHCommand.diagnosis(path: home.sshLogPath(job.instanceId))
        {
            job.reason = diagnosis
        }
        refreshSizes(&job)
        // A job that failed while the disk of its output was full most likely failed of that.
        if job.state == .failed, job.exitStatus != nil || job.signal != nil, DiskSpace.isFull(home.jobsPath) {
            job.reason =
                (job.reason ?? "failed") + "; the disk holding its output (\(home.jobsPath)) is full, "
                + "so its output may be cut short"
        }
    }

    func refreshSizes(_ job: inout StoredJob) {
        job.outputSize = Self.fileSize(home.outputPath(job.instanceId))
        job.errorSize = Self.fileSize(home.errorPath(job.instanceId))
    }

    static func fileSize(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
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
        generation &+= 1
        monitor.broadcast()
        return stored
    }

    // MARK: - Records

    /// A job's record, built once per change. Lock held.
    func record(slot: JobSlot) -> JobRecord {
        if let cached = slot.record { return cached }
        let made = record(slot.job)
        slot.record = made
        return made
    }

    /// Lock held.
    func record(_ job: StoredJob) -> JobRecord {
        if job.parentId != nil {
            let finished = job.state.isFinished
            return JobRecord(
                id: job.id, parentId: job.parentId, childIds: [], name: job.name, instanceId: job.instanceId,
                type: "", state: job.state,
                hasMoreData: !finished || job.outputRead < job.outputSize || job.errorRead < job.errorSize,
                location: job.location, command: job.command, workingDirectory: job.workingDirectory,
                reason: job.reason, exitStatus: job.exitStatus, signal: job.signal,
                pid: finished ? nil : job.pid, beginTime: job.beginTime, endTime: job.endTime,
                computer: job.computer)
        }
        let kids = (children[job.id] ?? []).compactMap { slots[$0] }.map { record($0.job) }
        let state = JobState.ofParent(children: kids.map(\.state), stopRequested: job.stopRequested)
        let failures = kids.filter { $0.state == .failed }.map { "\($0.name) failed: \($0.reason ?? "failed")" }
        let stopped = kids.filter { $0.state == .stopped }.map { "\($0.name) \($0.reason ?? "stopped")" }
        let reason =
            failures.isEmpty
            ? (state == .stopped ? stopped.joined(separator: "; ") : nil)
            : failures.joined(separator: "; ")
        return JobRecord(
            id: job.id, parentId: nil, childIds: kids.map(\.id), name: job.name, instanceId: job.instanceId,
            type: job.type, state: state, hasMoreData: kids.contains(where: \.hasMoreData),
            location: kids.map(\.location).joined(separator: ","), command: job.command,
            workingDirectory: job.workingDirectory, reason: reason?.isEmpty == true ? nil : reason,
            beginTime: kids.compactMap(\.beginTime).min(),
            endTime: state.isFinished ? kids.compactMap(\.endTime).max() : nil, computer: job.computer)
    }

    /// The selected jobs' records, building records only for them. Lock held.
    func select(_ selection: JobSelection, newest: Int? = nil) -> SelectionResult {
        // Plain Ids, the most common selection, are looked up directly.
        if !selection.selectors.isEmpty, selection.names.isEmpty, selection.states.isEmpty,
            selection.selectors.allSatisfy({ $0.allSatisfy(\.isASCII) && Int($0).map { $0 >= 0 } == true })
        {
            let ids = Set(selection.selectors.compactMap { Int($0) })
            let found = ids.sorted().compactMap { slots[$0] }.map(record(slot:))
            let missing = selection.selectors.compactMap(Int.init).filter { slots[$0] == nil }
            return SelectionResult(jobs: found, errors: missing.map { "no job has Id \($0)" })
        }
        var (chosen, errors) = selection.select(candidates(withChildren: selection.canSelectChildren))
        // Records are built only for the jobs that will be shown.
        if let newest { chosen = Array(chosen.suffix(max(0, newest))) }
        return SelectionResult(jobs: chosen.compactMap { slots[$0] }.map(record(slot:)), errors: errors)
    }

    /// What selection needs of every job, kept until anything changes (reading it from
    /// 10,000 scattered records was most of a `job get`). Lock held.
    private func candidates(withChildren: Bool) -> [SelectionCandidate] {
        if let cache = candidateCache, cache.generation == generation, cache.withChildren == withChildren {
            return cache.list
        }
        let list = orderedIds.compactMap { id -> SelectionCandidate? in
            guard let slot = slots[id] else { return nil }
            let isParent = slot.job.parentId == nil
            guard withChildren || isParent else { return nil }
            let state =
                isParent
                ? JobState.ofParent(
                    children: (children[id] ?? []).compactMap { slots[$0]?.job.state },
                    stopRequested: slot.job.stopRequested)
                : slot.job.state
            return SelectionCandidate(
                id: id, isParent: isParent, instanceId: slot.job.instanceId, name: slot.job.name, state: state)
        }
        candidateCache = (generation, withChildren, list)
        return list
    }

    // MARK: - start

    /// Starts a job: a parent and one child per computer (`start`: one local child). All rows
    /// are stored first, the children to start now marked Running with no pid yet; only then
    /// are they launched (up to the throttle limit; the rest wait as NotStarted), and failed
    /// launches stored in a second transaction. So no job runs that the store does
    /// not know: an agent killed in between leaves rows whose monitors the next agent finds
    /// by name, or, when the launch never happened, a Failed job.
    func start(_ request: StartRequest, stdinFD: Int32?) -> Result<StartReply, Failure> {
        monitor.withLock {
            if !request.sessions.isEmpty { return startInSessions(request) }
            let remote = !request.computers.isEmpty
            let computers = remote ? request.computers : ["localhost"]
            var parent = StoredJob(
                id: lastId + 1, instanceId: UUID().uuidString.lowercased(), name: request.name ?? "",
                type: remote ? JobType.remote : JobType.background, location: computers.joined(separator: ","),
                command: request.command, workingDirectory: request.workingDirectory, shell: request.shell)
            if parent.name.isEmpty { parent.name = "Job\(parent.id)" }
            parent.throttleLimit = request.throttleLimit
            parent.sshOptions = request.sshOptions
            parent.remoteEnvironment = request.remoteEnvironment
            var made: [StoredJob] = []
            for (offset, computer) in computers.enumerated() {
                let id = lastId + 2 + offset
                var job = StoredJob(
                    id: id, parentId: parent.id, instanceId: UUID().uuidString.lowercased(), name: "Job\(id)",
                    type: "", location: computer, command: request.command,
                    workingDirectory: request.workingDirectory, shell: request.shell)
                job.bootId = bootId
                if request.throttleLimit <= 0 || offset < request.throttleLimit {
                    job.state = .running
                    job.beginTime = Date()
                }
                made.append(job)
            }
            do {
                try database.insert([parent] + made, environment: request.environment)
            } catch {
                return .failure(
                    Failure(
                        .refused,
                        "could not record the job in \(home.databasePath): \(StoreProblem.describe(error))"))
            }
            if request.throttleLimit > 0 && computers.count > request.throttleLimit {
                queuedUmask[parent.id] = request.umask
            }
            register(parent, made)
            FaultPoint.startAfterInsert.reached()
            var launched: [StoredJob] = []
            for var job in made where job.state == .running {
                launch(&job, parent: parent, environment: request.environment, umask: request.umask, stdinFD: stdinFD)
                jobs[job.id] = job
                launched.append(job)
            }
            FaultPoint.startAfterLaunch.reached()
            // Only failed launches are stored now; a running child's pid is written with its next
            // change (the next agent learns it from the monitor's greeting), which saves a
            // transaction per start.
            let failed = launched.filter { $0.state != .running }
            if failed.isEmpty {
                generation &+= 1
                monitor.broadcast()
            } else {
                persist(failed)
            }
            return .success(StartReply(job: record(parent)))
        }
    }

    /// Adds a stored parent and its children to the registry. Lock held.
    func register(_ parent: StoredJob, _ made: [StoredJob]) {
        lastId += 1 + made.count
        jobs[parent.id] = parent
        for job in made { jobs[job.id] = job }
        children[parent.id] = made.map(\.id)
        orderedIds += [parent.id] + made.map(\.id)
    }

    /// Launches one child: locally under its shell, or on its computer over ssh. Lock held.
    private func launch(_ job: inout StoredJob, parent: StoredJob, environment: [String], umask: Int, stdinFD: Int32?) {
        job.beginTime = Date()
        let paths = LaunchPaths(home: home, instanceId: job.instanceId)
        let outcome: LaunchOutcome
        if job.isRemote, let computer = try? ComputerName(job.location) {
            let configuration = environment.first { $0.hasPrefix("JOB_SSH_CONFIG=") }.map {
                String($0.dropFirst("JOB_SSH_CONFIG=".count))
            }
            let id = job.id
            let arguments = SSHCommand.arguments(
                computer: computer, command: job.command, remoteEnvironment: parent.remoteEnvironment,
                options: parent.sshOptions, diagnostics: home.sshLogPath(job.instanceId),
                configuration: configuration?.isEmpty == false ? configuration : nil,
                controlFolder: SSHCommand.controlFolder(home: home))
            outcome = launchThroughSupervisor(job) { supervisor in
                supervisor.launch(
                    id: id, program: SSHCommand.program(environment: environment),
                    argv: arguments, environment: environment, workingDirectory: "/", paths: paths, umask: umask,
                    stdinFD: nil,
                    holdStdin: true)
            }
        } else {
            let (id, shell, command, workingDirectory) = (job.id, job.shell, job.command, job.workingDirectory)
            outcome = launchThroughSupervisor(job) { supervisor in
                supervisor.launch(
                    id: id, program: shell, argv: [(shell as NSString).lastPathComponent, "-c", command],
                    environment: environment, workingDirectory: workingDirectory, paths: paths, umask: umask,
                    stdinFD: stdinFD)
            }
        }
        switch outcome {
        case .running(let pid, let startTime, let monitorPid):
            job.state = .running
            job.pid = pid > 0 ? pid : nil
            job.pidStart = startTime
            job.waiterPid = monitorPid > 0 ? monitorPid : nil
            if monitorLinks[job.id] == nil && !attachMonitor(job) {
                // Its monitor went away at once: what it left is looked at now.
                monitorLost(&job)
            }
        case .failed(let reason):
            job.state = .failed
            job.reason = reason
            job.endTime = Date()
            refreshSizes(&job)
        }
    }

    /// Runs one launch through the supervisor, starting one first when there is none, and a
    /// new one when it died. A launch whose answer was lost is not repeated blindly: if the
    /// job's monitor exists, the job runs. Lock held.
    private func launchThroughSupervisor(_ job: StoredJob, _ body: (Supervisor) -> LaunchOutcome?)
        -> LaunchOutcome
    {
        var problem = ""
        for _ in 0..<2 {
            if supervisor == nil {
                do {
                    supervisor = try makeSupervisor()
                } catch {
                    problem = "\(error)"
                    continue
                }
            }
            if let supervisor, let outcome = body(supervisor) { return outcome }
            log.write("the supervisor is gone; starting another")
            supervisor = nil
            problem = "the job supervisor stopped answering"
            if attachMonitor(job) { return .running(pid: 0, startTime: nil, monitorPid: 0) }
        }
        return .failed(reason: "could not start the job: \(problem)")
    }

    /// Starts the waiting children of a throttled parent as slots free, in order. Each is
    /// stored Running before it is launched, as `start` does. Lock held.
    func startQueued(parentId: Int) {
        guard let parent = jobs[parentId], parent.throttleLimit > 0, !parent.stopRequested else { return }
        let kids = (children[parentId] ?? []).compactMap { jobs[$0] }
        let running = kids.filter { $0.state == .running || $0.state == .stopping }.count
        var chosen: [StoredJob] = []
        for var job in kids where job.state == .notStarted && running + chosen.count < parent.throttleLimit {
            job.state = .running
            job.beginTime = Date()
            jobs[job.id] = job
            chosen.append(job)
        }
        guard persist(chosen) else {
            // Not launched unless stored: they wait for the next end.
            for var job in chosen {
                job.state = .notStarted
                job.beginTime = nil
                jobs[job.id] = job
            }
            return
        }
        var changed: [StoredJob] = []
        for var job in chosen {
            let environment = (try? database.environment(of: job.id)) ?? []
            launch(&job, parent: parent, environment: environment, umask: queuedUmask[parentId] ?? 0o022, stdinFD: nil)
            jobs[job.id] = job
            changed.append(job)
        }
        persist(changed)
        if !(children[parentId] ?? []).contains(where: { jobs[$0]?.state == .notStarted }) {
            queuedUmask[parentId] = nil
        }
    }

    // MARK: - get

    func get(_ options: GetRequest) -> JobsReply {
        let selection = options.selection
        return monitor.withLock {
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
                        || options.before != nil || options.after != nil
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

    // MARK: - receive

    /// Hands out the output files of the selected children and the part each reader is to
    /// read. Without `keep` that part is claimed: the read positions move to its end at once
    /// (and are stored), so two readers never get the same bytes, and an agent that dies while
    /// a reader writes does not hand them out again. While one connection holds a claim on a
    /// child, others get nothing of it until it is released (`advance`) or that connection
    /// closes. Lock held inside.
    func receive(_ options: ReceiveRequest, connection: Int32) -> ReceiveReply {
        monitor.withLock {
            let result = select(options.selection)
            var seen = Set<Int>()
            var grants: [StreamGrant] = []
            var changed: [StoredJob] = []
            for selected in result.jobs {
                let ids = selected.isParent ? (options.noRecurse ? [] : selected.childIds) : [selected.id]
                for id in ids where !seen.contains(id) {
                    seen.insert(id)
                    guard var job = jobs[id] else { continue }
                    refreshSizes(&job)
                    let paths = LaunchPaths(home: home, instanceId: job.instanceId)
                    var grant = StreamGrant(
                        id: job.id, instanceId: job.instanceId, name: job.name,
                        computer: job.computer ?? job.location, outputPath: paths.stdout, errorPath: paths.stderr,
                        outputOffset: options.fromStart ? 0 : job.outputRead,
                        errorOffset: options.fromStart ? 0 : job.errorRead, state: job.state, reason: job.reason,
                        exitStatus: job.exitStatus, signal: job.signal)
                    if !options.keep {
                        if let claim = claims[id], claim.connection != connection {
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
                            claims[id] = ReadClaim(
                                connection: connection, instanceId: job.instanceId, outputEnd: grant.outputEnd,
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
            reply.problems = result.errors
            return reply
        }
    }

    /// Ends a connection's claims: where its reader got short of a claim's end (it went away,
    /// or held back a partial line), the position goes back to there, so that those bytes are
    /// read next.
    func advance(_ advances: [ReadAdvance], connection: Int32) -> EmptyReply {
        FaultPoint.receiveAfterWrite.reached()
        return monitor.withLock {
            var changed: [StoredJob] = []
            for advance in advances {
                // Only this connection's claims are looked at: a few, where the jobs are many.
                guard
                    let (id, claim) = claims.first(where: {
                        $0.value.connection == connection && $0.value.instanceId == advance.instanceId
                    }),
                    var job = jobs[id]
                else { continue }
                claims[id] = nil
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
    }

    /// Drops the claims of a connection that closed: what it had claimed counts as read.
    func dropClaims(connection: Int32) {
        monitor.withLock {
            let held = claims.filter { $0.value.connection == connection }.map(\.key)
            guard !held.isEmpty else { return }
            for id in held { claims[id] = nil }
            generation &+= 1
            monitor.broadcast()
        }
    }

    /// Returns once the generation moves past `since`, or at the timeout.
    func waitEvent(since: UInt64, timeout: Double?, connection: Int32) -> WaitEventReply {
        monitor.withLock {
            let deadline = timeout.map { Monitor.now() + $0 }
            while generation == since {
                if let deadline, Monitor.now() >= deadline { break }
                if Self.peerClosed(connection) { break }
                monitor.wait(until: min(deadline ?? .infinity, Monitor.now() + 1))
            }
            return WaitEventReply(generation: generation)
        }
    }

    // MARK: - wait

    func wait(_ options: WaitRequest, connection: Int32) -> WaitReply {
        let selection = options.selection
        return monitor.withLock {
            let result = select(selection)
            var targets = result.jobs.map(\.id)
            if selection.isEmpty {
                targets = result.jobs.filter { !$0.state.isFinished }.map(\.id)
            }
            let deadline = options.timeout.map { Monitor.now() + max(0, $0) }
            var response = WaitReply()
            response.problems = result.errors
            // Only unfinished targets are looked at again on each change.
            var pending = targets.filter { !isFinished($0) }
            while true {
                pending.removeAll(where: isFinished)
                let met = options.any ? pending.count < targets.count || targets.isEmpty : pending.isEmpty
                if met {
                    let present = targets.compactMap { jobs[$0] }.map(record)
                    response.jobs = options.any ? present.filter(\.state.isFinished) : present
                    return response
                }
                if let deadline, Monitor.now() >= deadline {
                    // The jobs waited for, so that a client waiting in slices waits for these.
                    response.timedOut = true
                    response.jobs = targets.compactMap { jobs[$0] }.map(record)
                    return response
                }
                if Self.peerClosed(connection) { return response }
                monitor.wait(until: min(deadline ?? .infinity, Monitor.now() + 1))
            }
        }
    }

    /// Whether a job (parent or child) has finished, or is gone. Lock held.
    private func isFinished(_ id: Int) -> Bool {
        guard let slot = slots[id] else { return true }
        if slot.job.parentId != nil { return slot.job.state.isFinished }
        return (children[id] ?? []).allSatisfy { slots[$0]?.job.state.isFinished ?? true }
    }

    static func peerClosed(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN) | 0x2000, revents: 0)
        guard poll(&entry, 1, 0) > 0 else { return false }
        if entry.revents & (Int16(POLLHUP | POLLERR) | 0x2000) != 0 { return true }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0
    }

    // MARK: - stop

    func stop(_ options: StopRequest) -> JobsReply {
        let selection = options.selection
        return monitor.withLock {
            let result = select(selection)
            stopLocked(ids: result.jobs.map(\.id), grace: options.grace)
            return JobsReply(jobs: result.jobs.compactMap { jobs[$0.id] }.map(record), problems: result.errors)
        }
    }

    /// Stops these jobs (parents with all their children) and returns once they ended:
    /// SIGTERM to each process group, SIGKILL to what is left after the grace period. Lock held.
    func stopLocked(ids: [Int], grace: Double) {
        var targets: [Int] = []
        var changed: [StoredJob] = []
        for id in ids {
            guard var job = jobs[id] else { continue }
            if job.parentId == nil {
                let kids = children[id] ?? []
                if kids.contains(where: { !(jobs[$0]?.state.isFinished ?? true) }) {
                    job.stopRequested = true
                    jobs[id] = job
                    changed.append(job)
                }
                targets += kids
            } else {
                targets.append(id)
            }
        }
        var signalled: [Int] = []
        for id in Set(targets).sorted() {
            guard var job = jobs[id], !job.state.isFinished else { continue }
            if job.state == .notStarted {
                job.state = .stopped
                job.reason = "stopped before it started"
                job.endTime = Date()
            } else {
                job.stopRequested = true
                job.state = .stopping
                signalled.append(id)
            }
            jobs[id] = job
            changed.append(job)
        }
        persist(changed)
        for id in signalled {
            guard let job = jobs[id] else { continue }
            // A command in a session: its processes, not the session's shell.
            if let session = job.session.flatMap({ sessions[$0] }) {
                session.signalCommand(SIGTERM)
                continue
            }
            // A remote child is ended on its computer: closing its stdin makes the remote side
            // end the command's process group, and then ssh exits.
            if job.isRemote, let link = monitorLinks[id] {
                _ = cjob_monitor_send(link, UInt32(CJOB_MONITOR_RELEASE), 0)
                continue
            }
            signal(job, SIGTERM)
        }
        let deadline = Monitor.now() + max(0, grace)
        var killed = false
        var killedAt = 0.0
        var shellsKilled = false
        while true {
            let pending = signalled.filter { id in
                guard let job = jobs[id] else { return false }
                if !job.state.isFinished { return true }
                return !killed && job.pid.map(ProcFS.groupHasLiveMembers) ?? false
            }
            if pending.isEmpty { return }
            if !killed && Monitor.now() >= deadline {
                for id in signalled {
                    if let session = jobs[id]?.session.flatMap({ sessions[$0] }) {
                        session.signalCommand(SIGKILL)
                    } else if let job = jobs[id] {
                        signal(job, SIGKILL)
                    }
                }
                killed = true
                killedAt = Monitor.now()
                continue
            }
            // A session command still running after that runs in the shell itself (a loop of
            // builtins): only ending the shell stops it, and the session is then Broken.
            if killed && !shellsKilled && Monitor.now() >= killedAt + 1 {
                for id in pending {
                    guard let session = jobs[id]?.session.flatMap({ sessions[$0] }) else { continue }
                    session.reason =
                        "the session's shell was ended to stop Job\(id), which ran in the shell itself "
                        + "(a loop of builtins) and could not be stopped on its own"
                    session.killShell()
                }
                shellsKilled = true
                continue
            }
            monitor.wait(until: killed ? Monitor.now() + 1 : min(deadline, Monitor.now() + 0.02))
        }
    }

    // MARK: - remove

    func remove(_ options: RemoveRequest) -> JobsReply {
        let (selection, grace) = (options.selection, options.grace)
        return monitor.withLock {
            let result = select(selection)
            var problems = result.errors
            var removed: [JobRecord] = []
            for selected in result.jobs {
                guard var current = jobs[selected.id].map(record) else { continue }
                if let parent = current.parentId {
                    problems.append(
                        "\(current.name) is a child of Job\(parent) and cannot be removed on its own; "
                            + "remove its parent (job remove \(parent))")
                    continue
                }
                if !current.state.isFinished {
                    guard options.force else {
                        problems.append(
                            "\(current.name) (Id \(current.id)) is \(current.state.rawValue); stop it first "
                                + "(job stop \(current.id)) or use --force")
                        continue
                    }
                    stopLocked(ids: [current.id], grace: grace)
                    current = jobs[current.id].map(record) ?? current
                }
                let kids = children[current.id] ?? []
                do {
                    try database.delete(ids: [current.id])
                } catch {
                    problems.append("could not remove \(current.name): \(StoreProblem.describe(error))")
                    continue
                }
                FaultPoint.removeAfterDelete.reached()
                for id in kids {
                    forgetWatches(id)
                    if let job = jobs.removeValue(forKey: id) {
                        unlink(home.outputPath(job.instanceId))
                        unlink(home.errorPath(job.instanceId))
                        unlink(home.sshLogPath(job.instanceId))
                    }
                }
                jobs.removeValue(forKey: current.id)
                children.removeValue(forKey: current.id)
                removed.append(current)
            }
            if !removed.isEmpty {
                let gone = Set(removed.flatMap { [$0.id] + $0.childIds })
                orderedIds.removeAll(where: gone.contains)
                // Space was freed: the store's reserve is made again if it was used.
                database.refillReserve()
            }
            generation &+= 1
            monitor.broadcast()
            return JobsReply(jobs: removed, problems: problems)
        }
    }

    /// Whether any remote child is still running (its session may use a shared connection).
    func hasRunningRemoteJobs() -> Bool {
        monitor.withLock {
            slots.values.contains { !$0.job.state.isFinished && $0.job.isRemote }
        }
    }

    // MARK: - status

    func status(socket: String, startTime: Date) -> AgentStatus {
        monitor.withLock {
            var counts: [String: Int] = [:]
            for candidate in candidates(withChildren: false) {
                counts[candidate.state.rawValue, default: 0] += 1
            }
            return AgentStatus(
                pid: Int(getpid()), socket: socket, home: home.path, version: ProtocolVersion.product,
                protocolVersion: ProtocolVersion.current, jobs: counts, startTime: startTime)

        }
    }
}

extension StoredJob {
    /// Takes a finished child's state, status and reason.
    mutating func apply(_ outcome: JobOutcome) {
        state = outcome.state
        exitStatus = outcome.exitStatus
        signal = outcome.signal
        reason = outcome.reason
    }
}

/// The part of a child's two streams that one connection is reading.
struct ReadClaim {
    var connection: Int32
    var instanceId: String
    var outputEnd: Int64
    var errorEnd: Int64
}

/// One job of the registry.
final class JobSlot {
    var job: StoredJob
    /// The job's record as last built; cleared when the job or one of its children changes.
    var record: JobRecord?
    init(_ job: StoredJob) { self.job = job }
}

extension JobRegistry {
    /// `jobs[id]` reads a copy of a job and `jobs[id] = job` stores one, for the paths that
    /// change jobs; hot read paths use `slots` directly.
    struct JobsView {
        let registry: JobRegistry
        subscript(id: Int) -> StoredJob? {
            get { registry.slots[id]?.job }
            nonmutating set {
                if let newValue {
                    if let slot = registry.slots[id] {
                        slot.job = newValue
                        slot.record = nil
                    } else {
                        registry.slots[id] = JobSlot(newValue)
                    }
                    if let parent = newValue.parentId { registry.slots[parent]?.record = nil }
                } else {
                    registry.slots.removeValue(forKey: id)
                }
            }
        }
        @discardableResult
        func removeValue(forKey id: Int) -> StoredJob? { registry.slots.removeValue(forKey: id)?.job }
        var keys: Dictionary<Int, JobSlot>.Keys { registry.slots.keys }
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
