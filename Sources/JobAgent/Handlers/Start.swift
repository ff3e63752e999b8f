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

extension StartRequest: Handled {
    /// Checks what the agent takes from the client on its word (names, computers, options),
    /// then starts the job under the lock (`RegistryState.start`).
    func handle(_ context: RequestContext, answer: (Result<any TaggedMessage, Failure>) -> Void) {
        guard !command.isEmpty else { return answer(.failure(Failure(.refused, "the command is empty"))) }
        if hasInput && context.fds.isEmpty {
            return answer(.failure(Failure(.badRequest, "bad request: input announced but not attached")))
        }
        do {
            for computer in computers { _ = try ComputerName(computer) }
            for entry in remoteEnvironment { try InputCheck.environmentEntry(entry) }
            for option in sshOptions { try InputCheck.sshOption(option) }
            if let name { try InputCheck.jobName(name) }
        } catch {
            return answer(.failure(Failure(.refused, "\(error)")))
        }
        let stdinFD = hasInput ? context.fds.first : nil
        // Not held up by the launches of starts before it (`RegistryState.outsideLock`).
        context.registry.withStateDuringLaunches { state in
            state.start(self, stdinFD: stdinFD) { answer($0.map { $0 }) }
        }
    }
}

/// `invoke`: started as the agent starts every job, from its `StartRequest`.
extension InvokeRequest: Handled {
    var rangeProblem: Failure? { start.rangeProblem }

    func handle(_ context: RequestContext, answer: (Result<any TaggedMessage, Failure>) -> Void) {
        start.handle(context, answer: answer)
    }
}

/// A command in sessions, started as the agent starts every job.
extension SessionStartRequest: Handled {
    func handle(_ context: RequestContext, answer: (Result<any TaggedMessage, Failure>) -> Void) {
        guard !sessions.isEmpty else {
            return answer(.failure(Failure(.badRequest, "bad request: a start in sessions without sessions")))
        }
        start.handle(context, answer: answer)
    }
}

/// A start with queue options, which an agent that has no queue refuses as an unknown verb.
extension QueuedStartRequest: Handled {
    var rangeProblem: Failure? { request.rangeProblem }

    func handle(_ context: RequestContext, answer: (Result<any TaggedMessage, Failure>) -> Void) {
        request.handle(context, answer: answer)
    }
}

/// `start` and `invoke`: a parent and its children stored, then launched; throttled children started as slots free.
extension RegistryState {
    /// Starts a job: a parent and one child per computer (`start`: one local child). All rows
    /// are stored first, the children to start now marked Running with no pid yet; only then
    /// are they launched (up to the throttle limit; the rest wait as NotStarted), and failed
    /// launches stored in a second transaction. So no job runs that the store does
    /// not know: an agent killed in between leaves rows whose monitors the next agent finds
    /// by name, or, when the launch never happened, a Failed job.
    ///
    /// `answer` gets the reply once: after the rows are stored and, for a local job whose
    /// working directory and shell are found, before the launch, so that the client goes on
    /// while its job starts (the lock is held until the launch is done, so no other request
    /// sees the job half-launched). A launch that fails after such an answer leaves the job
    /// Failed with the reason, as an exec that fails does.
    func start(_ request: StartRequest, stdinFD: Int32?, answer: (Result<StartReply, Failure>) -> Void) {
        if let problem = Self.descriptorProblem() { return answer(.failure(Failure(.refused, problem))) }
        if !request.sessions.isEmpty { return answer(startInSessions(request)) }
        var queued: QueueSpec?
        switch queueSpec(request) {
        case .success(let spec): queued = spec
        case .failure(let failure): return answer(.failure(failure))
        }
        switch startedBefore(request.instanceId) {
        case .failure(let failure): return answer(.failure(failure))
        case .success(let existing?): return answer(.success(StartReply(job: existing)))
        case .success(nil): break
        }
        let remote = !request.computers.isEmpty
        let computers = remote ? request.computers : ["localhost"]
        if let scheduler = request.scheduler {
            // Submitted by each computer's own agent: a durable child mirrors it.
            guard scheduler == "slurm" else {
                return answer(
                    .failure(Failure(.refused, "no scheduler '\(scheduler)' is known; the one known is slurm")))
            }
            let local = computers.filter { (try? ComputerName($0))?.isLocal ?? true }
            guard remote, local.isEmpty else {
                return answer(
                    .failure(
                        Failure(
                            .refused,
                            "--scheduler with --computer submits through another computer's agent; for this one, "
                                + "leave out --computer")))
            }
        }
        var (parent, made) = makeJob(
            type: request.scheduler != nil ? JobType.slurm : remote ? JobType.remote : JobType.background,
            name: request.name, command: request.command,
            children: computers.map { computer in
                ChildPlan(
                    location: computer, workingDirectory: request.workingDirectory, shell: request.shell,
                    placement: remote && !((try? ComputerName(computer))?.isLocal ?? true) ? .remote : .local)
            }, instanceId: request.instanceId?.lowercased())
        if let scheduler = request.scheduler {
            parent.scheduler = scheduler
            parent.schedulerOptions = request.schedulerOptions
            for offset in made.indices { made[offset].scheduler = scheduler }
        }
        if remote && (request.durable || request.deploy || request.scheduler != nil) {
            parent.durable = true
            parent.deploy = request.deploy
            for offset in made.indices where made[offset].isRemote {
                made[offset].durable = true
                made[offset].deploy = request.deploy
            }
        }
        parent.throttleLimit = request.throttleLimit
        parent.sshOptions = request.sshOptions
        parent.remoteEnvironment = request.remoteEnvironment
        if let grace = request.stopGrace {
            guard grace >= 0, grace.isFinite else {
                return answer(.failure(Failure(.refused, "--grace must be 0 or more seconds")))
            }
            parent.stopGrace = grace
            for offset in made.indices { made[offset].stopGrace = grace }
        }
        if let cap = request.maxOutput {
            guard cap > 0 else { return answer(.failure(Failure(.refused, "--max-output must be above zero"))) }
            parent.maxOutput = cap
            for offset in made.indices { made[offset].maxOutput = cap }
        }
        if let stdinFD, let path = Self.regularFile(stdinFD) {
            var kept = path
            // A copy the client made in the jobs folder (`invoke --input`) becomes the
            // parent's, and goes with it.
            if remote, path.hasPrefix(home.jobsPath + "/.input-"), rename(path, home.inputPath(parent.instanceId)) == 0
            {
                kept = home.inputPath(parent.instanceId)
            }
            for offset in made.indices { made[offset].inputFile = kept }
        }
        if var spec = queued {
            // The queue decides when each child starts (and holds the throttle limit).
            spec.parent = parent.id
            spec.parentLimit = request.throttleLimit
            queued = spec
            markQueued(&parent, spec, umask: request.umask)
            for offset in made.indices { markQueued(&made[offset], spec, umask: request.umask) }
        } else {
            for offset in made.indices where request.throttleLimit <= 0 || offset < request.throttleLimit {
                made[offset].begin()
            }
        }
        // The queue says first which children start now: those are stored Running with the
        // rest, in the one transaction of a start without the queue.
        var others: [Scheduler.Action] = []
        if let queued {
            let known = Dictionary(uniqueKeysWithValues: queued.dependencies.map { ($0, dependencyState($0)) })
            let now = Date()
            let index = Dictionary(uniqueKeysWithValues: made.indices.map { (made[$0].id, $0) })
            for child in made {
                for action in queue.scheduler.handle(.waiting(child.id, queued, dependencies: known), now: now) {
                    switch action {
                    case .start(let id) where index[id] != nil: made[index[id]!].begin(at: now)
                    case .fail(let id, let reason) where index[id] != nil:
                        made[index[id]!].neverStarted(reason, at: now)
                    default: others.append(action)
                    }
                }
            }
        }
        if let failure = storeAndRegister(parent, made, environment: request.environment) {
            for child in made { queue.tell(.ended(child.id)) }
            runQueue()
            return answer(.failure(failure))
        }
        if queued != nil { carryOut(others) }
        if request.throttleLimit > 0 && computers.count > request.throttleLimit {
            queue.umask[parent.id] = request.umask
        }
        for child in made { watchOutputCap(child) }
        FaultPoint.startAfterInsert.reached()
        let answeredEarly = !remote && Self.canLaunch(shell: request.shell, in: request.workingDirectory)
        if answeredEarly {
            answer(.success(StartReply(job: record(parent))))
            FaultPoint.startAfterAnswer.reached()
        }
        var launched: [StoredJob] = []
        for var job in made where job.state == .running {
            // Each child of an invoke opens the input file itself: they all get all of it. A
            // local child's round trip to the supervisor lets go of the lock (`outsideLock`),
            // unless a request already waits for the launches in flight, or a few launches are
            // in flight already (`LaunchGate.most`): the supervisor takes one at a time, so
            // this one waits for them with the lock held, and the next start waits too.
            // Without a bound, a loop of starts faster than the launches piled up one
            // connection per launch behind the supervisor, until the agent refused connections.
            let alone = launchGate.waiting == 0 && launchGate.inFlight < LaunchGate.most
            launch(
                &job, parent: parent, environment: request.environment, umask: request.umask,
                stdinFD: remote ? nil : stdinFD, outsideLock: !remote && queued == nil && alone)
            jobs[job.id] = job
            launched.append(job)
        }
        if let queued {
            // The queue counts the launched from their begin (their deadlines), the others as
            // ended.
            for job in launched {
                queue.tell(
                    job.state == .running
                        ? .running(
                            job.id, group: queued.group, parent: parent.id, timeout: queued.timeout,
                            since: job.beginTime ?? Date())
                        : .ended(job.id))
            }
            runQueue()
        }
        FaultPoint.startAfterLaunch.reached()
        // Only failed launches are stored now; a running child's pid is written with its end
        // or, for one that runs on, with the others launched in the next moment
        // (`storeLaunchedPids`): a transaction per start saved. Should the agent die before,
        // the next one learns the pid from the monitor's greeting.
        let failed = launched.filter { $0.state != .running }
        if failed.isEmpty {
            generation &+= 1
            monitor.broadcast()
        } else {
            persist(failed)
        }
        if !answeredEarly { answer(.success(StartReply(job: record(parent)))) }
    }

    /// Whether a local launch passes the checks the supervisor makes first: the working
    /// directory is a folder and the shell can be run. When not, the launch's own failure is
    /// what `start` answers with.
    static func canLaunch(shell: String, in workingDirectory: String) -> Bool {
        var info = stat()
        return stat(workingDirectory, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR && access(shell, X_OK) == 0
    }

    /// The one rule for making a job, local, remote or in sessions: a parent with the next Id
    /// and its children with the Ids after it, in order, each named `Job<Id>` (the parent keeps
    /// a name it was given) and marked with this boot. Neither stored nor registered. Lock held.
    /// Descriptors a start needs to be left free: its monitor's link, the supervisor's, its
    /// input, a connection.
    static let descriptorsPerStart = 4

    /// Why no job can be started now for want of file descriptors, or nil: a job started
    /// without them would run where the agent cannot hear its end for a while. Tried by
    /// taking as many as a start needs, and giving them back.
    static func descriptorProblem() -> String? {
        var taken: [Int32] = []
        defer { for fd in taken { close(fd) } }
        for _ in 0..<descriptorsPerStart {
            let fd = fcntl(2, F_DUPFD_CLOEXEC, 0)
            guard fd >= 0 else {
                var limit = rlimit()
                getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
                return "the agent has used up its \(limit.rlim_cur) file descriptors (ulimit -n; one is held "
                    + "for each running job): no job is started until some end; raise the limit for the agent "
                    + "(ulimit -n before its start, LimitNOFILE= in its systemd unit) and restart it (job agent stop)"
            }
            taken.append(fd)
        }
        return nil
    }

    func makeJob(
        type: String, name: String?, command: String, children plans: [ChildPlan], instanceId: String? = nil
    ) -> (parent: StoredJob, children: [StoredJob]) {
        let ids = table.nextIds(children: plans.count)
        idLedger.cover(ids.children.last ?? ids.parent)
        var parent = StoredJob(
            id: ids.parent, instanceId: instanceId ?? InstanceIdentifier.random(), name: name ?? "", type: type,
            location: plans.map(\.location).joined(separator: ","), command: command,
            workingDirectory: plans.first?.workingDirectory ?? "", shell: plans.first?.shell ?? "/bin/sh")
        if parent.name.isEmpty { parent.name = "Job\(parent.id)" }
        let children = zip(ids.children, plans).map { id, plan in
            var job = StoredJob(
                id: id, parentId: parent.id, instanceId: InstanceIdentifier.random(), name: "Job\(id)", type: "",
                location: plan.location, command: command, workingDirectory: plan.workingDirectory, shell: plan.shell,
                placement: plan.placement)
            job.bootId = bootId
            job.session = plan.session
            return job
        }
        return (parent, children)
    }

    /// Stores a new job's rows, then adds them to the registry; the failure to answer with
    /// when the store would not take them. Lock held.
    func storeAndRegister(_ parent: StoredJob, _ children: [StoredJob], environment: [String]) -> Failure? {
        do {
            try database.insert([parent] + children, environment: environment)
        } catch {
            return Failure(
                .refused, "could not record the job in \(home.databasePath): \(StoreProblem.describe(error))")
        }
        register(parent, children)
        return nil
    }

    /// Adds a stored parent and its children to the registry. Lock held.
    func register(_ parent: StoredJob, _ made: [StoredJob]) {
        table.add(parent, made)
    }

    /// Launches one child where it runs (its backend). Lock held.
    func launch(
        _ job: inout StoredJob, parent: StoredJob, environment: [String], umask: Int, stdinFD: Int32?,
        outsideLock: Bool = false
    ) {
        job.beginTime = Date()
        backend(for: job).launch(
            &job,
            LaunchPlan(
                parent: parent, environment: environment, umask: umask, stdinFD: stdinFD, outsideLock: outsideLock),
            in: self)
    }

    /// Runs `body`, a launch's round trip to the supervisor, with the lock let go when
    /// `allowed`, and takes it again. Meanwhile the next start can be stored and answered,
    /// and the watcher can read ends; every other request waits at the gate until no launch is
    /// in flight (`JobRegistry.withState`), so that none sees a job half-launched, as when the
    /// launch held the lock. Lock held.
    func outsideLock<Result>(if allowed: Bool, _ body: () -> Result) -> Result {
        guard allowed else { return body() }
        launchGate.inFlight += 1
        defer {
            launchGate.inFlight -= 1
            if launchGate.inFlight == 0 { monitor.broadcast() }
        }
        return monitor.withoutLock(body)
    }

    /// A launch through the supervisor came back: the child runs under its monitor, which is
    /// linked now, or it failed. Lock held.
    func launchedUnderMonitor(_ job: inout StoredJob, _ outcome: LaunchOutcome, parent: StoredJob) {
        switch outcome {
        case .running(let pid, let startTime, let monitorPid, let link):
            log.write(
                "started Job\(job.id) of \(parent.name) on \(job.location)" + (pid > 0 ? ", process \(pid)" : "")
                    + ": \(job.command.count > 200 ? String(job.command.prefix(200)) + "..." : job.command)")
            job.launched(pid: pid, startTime: startTime, monitorPid: monitorPid)
            if link >= 0 {
                // The answer brought the link, and the pid and start time its greeting would:
                // they are stored a moment later with others, or with the job's end.
                links.attach(job.id, link: link)
                if pid > 0 { pidUnsaved(job.id) }
            } else if links.link(job.id) == nil && !attachMonitor(job) {
                // Its monitor went away at once: what it left is looked at now.
                monitorLost(&job)
            }
        case .failed(let reason):
            log.warning("Job\(job.id) of \(parent.name) could not start: \(reason)")
            job.launchFailed(reason)
            refreshSizes(&job)
        }
    }

    /// The job a start that names its InstanceId made before (a durable child's remote job,
    /// asked for again: the one that has it is the answer), nil when none has it; refused when
    /// the name is no InstanceId. Lock held.
    func startedBefore(_ instanceId: String?) -> Result<JobRecord?, Failure> {
        guard let wanted = instanceId else { return .success(nil) }
        guard UUID(uuidString: wanted) != nil else {
            return .failure(Failure(.badRequest, "bad request: '\(wanted)' is not an InstanceId"))
        }
        return .success(select(JobSelection(selectors: [wanted.lowercased()])).jobs.first)
    }

    /// The path of the regular file open as `fd`, if it still has one (not a pipe, a terminal
    /// or a deleted file).
    static func regularFile(_ fd: Int32) -> String? {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG,
            let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"),
            path.hasPrefix("/"), !path.hasSuffix(" (deleted)")
        else { return nil }
        return path
    }

    /// Runs one launch through the supervisor, starting one first when there is none, and a
    /// new one when it died. A launch whose answer was lost is not repeated blindly: if the
    /// job's monitor exists, the job runs. Lock held.
    func launchThroughSupervisor(_ job: StoredJob, _ body: (Supervisor) -> LaunchOutcome?)
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
            if attachMonitor(job) { return .running(pid: 0, startTime: nil, monitorPid: 0, link: -1) }
        }
        return .failed(reason: "could not start the job: \(problem)")
    }

    /// Starts the waiting children of a throttled parent as slots free, in order. Each is
    /// stored Running before it is launched, as `start` does. Lock held.
    func startQueued(parentId: Int) {
        guard let parent = jobs[parentId], parent.throttleLimit > 0, !parent.stopRequested, spec(of: parent) == nil
        else { return }
        startWaiting(parent)
    }

    /// Launches a parent's NotStarted children in order, up to its throttle limit (all of them
    /// without one), each stored Running first. Lock held.
    func startWaiting(_ parent: StoredJob) {
        let parentId = parent.id
        let kids = table.kids(of: parentId)
        let running = kids.filter { $0.state == .running || $0.state == .stopping }.count
        var chosen: [StoredJob] = []
        for var job in kids
        where job.state == .notStarted && (parent.throttleLimit <= 0 || running + chosen.count < parent.throttleLimit) {
            job.begin()
            jobs[job.id] = job
            chosen.append(job)
        }
        guard persist(chosen) else {
            // Not launched unless stored: they wait for the next end.
            for var job in chosen {
                job.unbegin()
                jobs[job.id] = job
            }
            return
        }
        var changed: [StoredJob] = []
        for var job in chosen {
            let environment = (try? database.environment(of: job.id)) ?? []
            let umask = queue.umask[parentId] ?? job.umask ?? 0o022
            launch(&job, parent: parent, environment: environment, umask: umask, stdinFD: nil)
            jobs[job.id] = job
            changed.append(job)
        }
        persist(changed)
        if !table.kids(of: parentId).contains(where: { $0.state == .notStarted }) {
            queue.umask[parentId] = nil
        }
    }
}

/// Where one child of a new job runs, and in what.
struct ChildPlan {
    var location: String
    var workingDirectory: String
    var shell: String
    var placement: Placement
    var session: Int? = nil
}
