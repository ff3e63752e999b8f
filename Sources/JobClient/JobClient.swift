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
import JobCore
import JobProtocol
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// A connection to the agent of one `JOB_HOME`: the Swift API that the `job` command itself
/// uses. The first client that finds no agent starts one (`job-agent run`, detached), and
/// exactly one agent results when several race.
///
/// Every verb comes blocking and `async` (the same name; an `async` caller gets the second,
/// which blocks no task thread). A client is `Sendable`: tasks may share one, and its requests
/// then take turns on its connection; ``wait(for:any:timeout:)-2bt65``, ``output(of:keep:follow:fromStart:)``
/// and ``events(of:includeChildren:output:)`` open connections of their own, so they hold up nothing else.
///
///     let client = try JobClient()
///     let job = try await client.start("make test")
///     let outcome = try await client.wait(for: .job(job))
public final class JobClient: Sendable {
    public let home: JobHome
    public let socketPath: String
    /// The connection's descriptor (to notice the agent closing it).
    package let socketFD: Int32
    private let link: Mutex<Link>
    /// Held for a request and its reply, so that tasks sharing the client take turns.
    private let turns = Mutex(())

    /// How to start an agent when the one this client used went away before it read a
    /// request; nil when this client may not start one.
    private let starter: AgentStarter?

    /// The connection and how long its pending request may take.
    struct Link {
        let channel: FrameChannel
        var allowance: Double = 0
    }

    /// Connects to the agent of `home` (default: the one `JOB_HOME` names), starting it when
    /// none runs and `autoStart` is set. `agentExecutable` is the `job-agent` program to start
    /// it with; by default `JOB_AGENT_EXECUTABLE`, else the `job-agent` beside this program.
    /// `environment` stands in for the process's variables.
    public convenience init(
        home: JobHome? = nil, environment: [String: String]? = nil, autoStart: Bool = true,
        agentExecutable: String? = nil
    ) throws(JobError) {
        let variable: (String) -> String? = environment.map { given in { given[$0] } } ?? ProcessEnvironment.variable
        if home == nil, let path = variable("JOB_HOME"), !path.isEmpty, !path.hasPrefix("/") {
            throw JobError(.connection, "JOB_HOME must be an absolute path, not '\(path)'")
        }
        let home = home ?? JobHome.resolve(variable)
        var info = stat()
        if stat(home.path, &info) == 0 && info.st_uid != getuid() {
            throw JobError(
                .connection,
                "JOB_HOME \(home.path) belongs to uid \(info.st_uid), not to you (uid \(getuid())); "
                    + "set JOB_HOME to a folder of your own")
        }
        let socketPath = home.socketPath(variable)
        let starter =
            autoStart
            ? AgentStarter(
                home: home, socketPath: socketPath,
                givenExecutable: agentExecutable ?? variable("JOB_AGENT_EXECUTABLE"))
            : nil
        if let fd = try Self.connect(socketPath) {
            self.init(home: home, socketPath: socketPath, fd: fd, starter: starter)
            return
        }
        guard autoStart else {
            throw JobError(.noAgent, "no agent is running for \(home.path)")
        }
        let fd = try starter!.start()
        self.init(home: home, socketPath: socketPath, fd: fd, starter: starter)
    }

    /// Called with each thing an agent this process started found wrong at its start and did
    /// about it (a damaged store set aside, files moved to `jobs/lost+found`); `job agent
    /// status` lists them too. The command line prints them on stderr.
    package static let agentNoticeHandler = Mutex<(@Sendable (String) -> Void)?>(nil)

    init(home: JobHome, socketPath: String, fd: Int32, starter: AgentStarter? = nil) {
        self.home = home
        self.socketPath = socketPath
        self.socketFD = fd
        self.starter = starter
        link = Mutex(Link(channel: FrameChannel(fd: fd)))
    }

    /// Puts a connection to the next agent (started if need be) in place of this one, on the
    /// same descriptor, after the last agent went away before it read a request.
    private func reconnect() throws(JobError) {
        // The agent this connection reached (its pid, as the connection recorded it) is let
        // go first: while it dies its socket may still take a connection, then reset it.
        var uid: uid_t = 0
        var pid: pid_t = 0
        if cjob_peer_uid(socketFD, &uid, &pid) == 0, pid > 0 {
            let deadline = Self.monotonicNow() + 5
            while !Self.hasEnded(pid) && Self.monotonicNow() < deadline { usleep(5_000) }
        }
        let fd: Int32
        if let connected = try Self.connect(socketPath) {
            fd = connected
        } else if let starter {
            fd = try starter.start()
        } else {
            throw JobError(.noAgent, "no agent is running for \(home.path)")
        }
        if fd != socketFD {
            _ = dup2(fd, socketFD)
            _ = fcntl(socketFD, F_SETFD, FD_CLOEXEC)
            close(fd)
        }
    }

    /// A second connection to the same agent, for a request that blocks (a wait, a stream).
    func connection() throws(JobError) -> JobClient {
        guard let fd = try Self.connect(socketPath) else {
            throw JobError(.connection, "the agent of \(home.path) is gone")
        }
        return JobClient(home: home, socketPath: socketPath, fd: fd, starter: starter)
    }

    /// Ends the connection at once, so that a request blocked on it returns (a cancelled task).
    func hangUp() {
        hungUp.withLock { $0 = true }
        _ = Glibc.shutdown(socketFD, Int32(SHUT_RDWR))
    }

    /// Whether `hangUp` ended the connection on purpose (a cancelled task): it is then not
    /// made again.
    private let hungUp = Mutex(false)

    /// Connects to the socket; nil when no agent listens there.
    static func connect(_ path: String) throws(JobError) -> Int32? {
        var owner: uid_t = 0
        if cjob_is_socket_owned_by(path, getuid(), &owner) == 0 {
            throw JobError(
                .connection,
                "the agent socket \(path) belongs to uid \(owner), not to you (uid \(getuid())); "
                    + "set JOB_HOME to a folder of your own")
        }
        let fd = cjob_unix_connect(path)
        if fd < 0 {
            let code = errno
            if code == ENOENT || code == ECONNREFUSED { return nil }
            throw JobError(
                .connection, "cannot connect to the agent at \(path): \(String(cString: strerror(code)))")
        }
        var uid: uid_t = 0
        var pid: pid_t = 0
        guard cjob_peer_uid(fd, &uid, &pid) == 0, uid == getuid() else {
            close(fd)
            throw JobError(.connection, "the agent at \(path) runs as uid \(uid), not as you; refusing to use it")
        }
        return fd
    }

    /// This process's umask (reading it means setting it, so it is set back at once).
    package static func currentUmask() -> Int {
        let mask = umask(0o022)
        umask(mask)
        return Int(mask)
    }

    /// The `job-agent` beside this program (the `job` client, a program that embeds this
    /// library, or a test bundle); a `job-agent` on the PATH when there is none.
    package static func defaultAgentExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return "job-agent" }
        let selfPath = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let sibling = String(selfPath[..<(selfPath.lastIndex(of: "/") ?? selfPath.startIndex)]) + "/job-agent"
        if access(sibling, X_OK) == 0 { return sibling }
        for folder in (ProcessEnvironment.variable("PATH") ?? "/usr/local/bin:/usr/bin").split(separator: ":") {
            let candidate = String(folder) + "/job-agent"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return sibling
    }

    /// How long a client waits for the agent past the time a request may take (a wait's
    /// timeout, a stop's grace period) before it gives up on it: `JOB_AGENT_TIMEOUT` seconds,
    /// 30 by default.
    package static let patience: Double = {
        guard let text = ProcessEnvironment.variable("JOB_AGENT_TIMEOUT"), let value = Double(text),
            value.isFinite, value > 0
        else { return 30 }
        return min(value, 30)
    }()

    /// The longest a wait or a wait for events blocks in the agent before it answers, so that
    /// a client learns in time that the agent is still there.
    package static let waitSlice: Double = 10

    /// Whether a process has ended, every thread of it: gone, or a zombie with no thread left
    /// (a killed agent's main thread is a zombie while its other threads still hold its
    /// descriptors, its listening socket among them).
    static func hasEnded(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0, let text = readText("/proc/\(pid)/stat", limit: 512),
            let close = text.lastIndex(of: ")")
        else { return true }
        let state = text[text.index(after: close)...].drop { $0 == " " }.first
        guard state == "Z" || state == "X" else { return false }
        guard let tasks = opendir("/proc/\(pid)/task") else { return true }
        defer { closedir(tasks) }
        var threads = 0
        while let entry = readdir(tasks) {
            if entry.pointee.d_name.0 != 46 { threads += 1 }  // not . or ..
        }
        return threads <= 1
    }

    /// Whether a request changes nothing in the agent, so that sending it again to the next
    /// agent is the same as sending it once.
    static func changesNothing(_ request: any AgentRequest) -> Bool {
        switch request {
        case is WaitRequest, is WaitEventRequest, is GetRequest, is GetRowsRequest, is StatusRequest,
            is SessionGetRequest,
            is GroupGetRequest:
            true
        case let receive as ReceiveRequest: receive.keep
        default: false
        }
    }

    /// How long the request may take in the agent, before `patience` starts to count. Generic,
    /// so that each request's own copy of it knows the type (an existential was cast at run
    /// time, on the path of every verb).
    static func blockingTime<R: AgentRequest>(of request: R) -> Double {
        switch request {
        case let wait as WaitRequest: wait.timeout.map { min(max(0, $0), waitSlice) } ?? waitSlice
        case let event as WaitEventRequest: event.timeout.map { max(0, $0) } ?? .infinity
        case let stop as StopRequest: stop.grace + 5
        case let remove as RemoveRequest: remove.grace + 5
        case is SessionNewRequest: 30
        case let sessions as SessionRemoveRequest: sessions.grace + 5
        default: 0
        }
    }

    /// Sends a request without reading the reply (see `collect(_:)`), so that a caller can
    /// wait on the connection with poll(2) beside other descriptors. A request and its reply
    /// are one turn on the connection only through `send(_:fds:)`; `post` and `collect` are
    /// for one owner.
    package func post<R: AgentRequest>(_ request: R, fds: [Int32] = []) throws(JobError) {
        let allowance = Self.blockingTime(of: request) + Self.patience
        let failure: JobError? = link.withLock { link in
            link.allowance = allowance
            do {
                try link.channel.send(fds: fds) { Frame.writeRequest(request, to: &$0) }
                return nil
            } catch {
                // The agent may have said why it closed the connection (it serves too many).
                link.channel.setReceiveTimeout(1)
                if let (body, extra) = try? link.channel.receive() {
                    extra.forEach { _ = close($0) }
                    if case .failure(let failure)? = try? Frame.readReply(body, for: R.self) {
                        return JobError(failure)
                    }
                }
                return lost(error)
            }
        }
        if let failure { throw failure }
    }

    /// Why the agent did not answer, worded for the person who waits: its pid, and what to do.
    package func unresponsive() -> JobError {
        let pid = Self.agentPid(home: home).map { "pid \($0), " } ?? ""
        let seconds = Int(Self.patience)
        return JobError(
            .connection,
            "the agent (\(pid)JOB_HOME \(home.path)) did not answer within \(seconds) s: it may be stopped "
                + "(SIGSTOP) or stuck; check it with `job agent status`, or restart it with `job agent stop` "
                + "(running jobs keep running)")
    }

    /// Reads the reply to a `post` of an `R`.
    package func collect<R: AgentRequest>(_ type: R.Type) throws(JobError) -> R.Reply {
        let received: Result<[UInt8], JobError> = link.withLock { link in
            link.channel.setReceiveTimeout(link.allowance)
            do {
                guard let (body, extra) = try link.channel.receive() else {
                    var closed = JobError(.connection, "the agent closed the connection")
                    closed.agentWentAway = true
                    return .failure(closed)
                }
                extra.forEach { _ = close($0) }
                return .success(body)
            } catch {
                return .failure(lost(error))
            }
        }
        let result: Result<R.Reply, Failure>
        do {
            result = try Frame.readReply(try received.get(), for: R.self)
        } catch let error as JobError {
            throw error
        } catch {
            throw JobError(
                .connection,
                "the agent answered in a form this client does not read (\(error)): it is probably of another "
                    + "version; stop it with `job agent stop` (running jobs keep running) and try again")
        }
        switch result {
        case .success(let reply): return reply
        case .failure(let failure): throw JobError(failure)
        }
    }

    func lost(_ error: any Error) -> JobError {
        guard let error = error as? ChannelError else { return JobError(.connection, "lost the agent: \(error)") }
        if error.timedOut { return unresponsive() }
        var lost = JobError(.connection, "lost the agent: \(error.description)")
        lost.notTaken = error.notTaken
        lost.agentWentAway = true
        return lost
    }

    /// The pid in the agent's lock file, while an agent holds the lock.
    package static func agentPid(home: JobHome) -> Int? {
        let fd = open(home.agentLockPath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard flock(fd, LOCK_SH | LOCK_NB) != 0 else {
            flock(fd, LOCK_UN)
            return nil
        }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0, let pid = Int(String(decoding: buffer[..<count], as: UTF8.self).filter(\.isNumber)), pid > 1
        else { return nil }
        return pid
    }

    /// Ends an agent that cannot be talked to (another version, or stopped), by the pid in its
    /// lock file: SIGTERM (with SIGCONT, so that a stopped agent receives it), then SIGKILL if it
    /// has not exited 5 s later. Running jobs are not touched. Returns that pid, or nil when no
    /// agent holds the lock.
    package static func terminateAgent(home: JobHome) -> Int? {
        guard let pid = agentPid(home: home) else { return nil }
        let fd = open(home.agentLockPath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        kill(pid_t(pid), SIGTERM)
        kill(pid_t(pid), SIGCONT)
        // The agent holds the lock until it exits.
        for _ in 0..<500 {
            if flock(fd, LOCK_SH | LOCK_NB) == 0 { return pid }
            usleep(10_000)
        }
        kill(pid_t(pid), SIGKILL)
        while flock(fd, LOCK_SH) != 0 && errno == EINTR {}
        return pid
    }

    // MARK: - Verbs

    /// Starts a local job and returns its parent once the command has been launched (or has
    /// failed to launch: then the job is Failed with the Reason). The job is in the agent's
    /// store before this returns. `input` is a descriptor the job reads as its stdin.
    public func start(
        _ command: String, name: String? = nil, workingDirectory: String? = nil, environment: [String]? = nil,
        shell: String = "/bin/sh", input: Int32? = nil, queue: JobQueueOptions = JobQueueOptions()
    ) throws(JobError) -> Job {
        var request = StartRequest(
            command: command, name: name, workingDirectory: workingDirectory ?? JobHome.currentDirectory(),
            environment: environment ?? ProcessEnvironment.entries(), shell: shell, hasInput: input != nil,
            umask: Self.currentUmask())
        queue.apply(to: &request)
        if !queue.isEmpty { return Job(try send(QueuedStartRequest(request), fds: input.map { [$0] } ?? []).job) }
        return Job(try send(request, fds: input.map { [$0] } ?? []).job)
    }

    /// Submits a command to a cluster scheduler (`slurm`) as a SlurmJob parent: one batch job,
    /// or with `tasks` an array of that many (at most `throttle` at once), one child each. The
    /// job is stored before this returns; it waits NotStarted while the scheduler holds it.
    /// `options` are the scheduler's own (sbatch's), each one argument; `timeout` becomes its
    /// time limit, in whole minutes. `after` and `afterAny` are jobs of the same scheduler it
    /// runs after (once they completed, or ended in any way): the scheduler's dependencies, or
    /// held by the agent until they end when they do not run in it. `input`, a descriptor of a
    /// regular file in the jobs folder or on a filesystem the nodes see, is every child's
    /// stdin. `group` files it under a queue group (for listing and selection: the scheduler
    /// runs it in its own order).
    public func start(
        _ command: String, scheduler: String, tasks: Int = 0, throttle: Int = 0, options: [String] = [],
        name: String? = nil, workingDirectory: String? = nil, environment: [String]? = nil,
        timeout: Duration? = nil, after: [Int] = [], afterAny: [Int] = [], input: Int32? = nil, group: String? = nil
    ) throws(JobError) -> Job {
        var request = SchedulerStartRequest()
        request.hasInput = input != nil
        request.group = group
        request.after = after
        request.afterAny = afterAny
        request.command = command
        request.name = name
        request.workingDirectory = workingDirectory ?? JobHome.currentDirectory()
        request.environment = environment ?? ProcessEnvironment.entries()
        request.umask = Self.currentUmask()
        request.scheduler = scheduler
        request.tasks = tasks
        request.throttle = throttle
        request.options = options
        request.timeout = timeout?.seconds
        return Job(try send(request, fds: input.map { [$0] } ?? []).job)
    }

    /// Runs a command on computers as a RemoteJob parent with one child per computer (in the
    /// order given); returns the parent at once. `localhost` runs here without SSH. With
    /// `durable`, each remote child runs as a job in its computer's agent and outlives a lost
    /// link; `deploy` also copies this `job` there first. `input`, a descriptor, is every
    /// child's stdin (read once by the agent, from a regular file).
    public func invoke(
        _ command: String, on computers: [String], name: String? = nil, throttleLimit: Int = 32,
        sshOptions: [String] = [], remoteEnvironment: [String] = [], environment: [String]? = nil,
        queue: JobQueueOptions = JobQueueOptions(), durable: Bool = false, deploy: Bool = false,
        input: Int32? = nil
    ) throws(JobError) -> Job {
        try invoke(
            command, on: computers, name: name, throttleLimit: throttleLimit, sshOptions: sshOptions,
            remoteEnvironment: remoteEnvironment, environment: environment, queue: queue, durable: durable,
            deploy: deploy, input: input, scheduler: nil)
    }

    /// `invoke`, or with `scheduler` (its name and its options) each computer's agent submits
    /// the command to that scheduler, one durable child each.
    package func invoke(
        _ command: String, on computers: [String], name: String? = nil, throttleLimit: Int = 32,
        sshOptions: [String] = [], remoteEnvironment: [String] = [], environment: [String]? = nil,
        queue: JobQueueOptions = JobQueueOptions(), durable: Bool = false, deploy: Bool = false,
        input: Int32? = nil, scheduler: (name: String, options: [String])?
    ) throws(JobError) -> Job {
        var request = InvokeRequest()
        request.scheduler = scheduler?.name
        request.schedulerOptions = scheduler?.options ?? []
        request.command = command
        request.name = name
        request.workingDirectory = JobHome.currentDirectory()
        request.environment = environment ?? ProcessEnvironment.entries()
        request.umask = Self.currentUmask()
        request.durable = durable
        request.deploy = deploy
        request.computers = computers
        request.throttleLimit = throttleLimit
        request.sshOptions = sshOptions
        request.remoteEnvironment = remoteEnvironment
        request.hasInput = input != nil
        queue.apply(to: &request)
        return Job(try send(request, fds: input.map { [$0] } ?? []).job)
    }

    /// The selected jobs, sorted by Id: every parent job by default. Throws `notFound` when a
    /// selector names no job.
    public func jobs(_ selection: JobSelection = JobSelection(), includeChildren: Bool = false) throws(JobError)
        -> [Job]
    {
        var request = GetRequest(selection)
        request.includeChildren = includeChildren
        return try getting(request).whole()
    }

    /// Blocks until the selected jobs have finished (with `any`, until one has), or the
    /// timeout passed. Waits on a connection of its own.
    public func wait(for selection: JobSelection = JobSelection(), any: Bool = false, timeout: Duration? = nil)
        throws(JobError) -> WaitOutcome
    {
        try connection().waiting(for: selection, any: any, timeout: timeout?.seconds).whole()
    }

    /// Stops the selected jobs (parents with all their children): SIGTERM to each process
    /// group, SIGKILL after `grace`. Returns them once they have ended.
    public func stop(_ selection: JobSelection, grace: Duration = .seconds(5)) throws(JobError) -> [Job] {
        try Self.refuseEmpty(selection, "stop")
        return try stopping(selection, grace: grace.seconds).whole()
    }

    /// Removes finished jobs and their output; with `force`, stops running ones first.
    public func remove(_ selection: JobSelection, force: Bool = false, grace: Duration = .seconds(5)) throws(JobError)
        -> [Job]
    {
        try Self.refuseEmpty(selection, "remove")
        return try removing(selection, force: force, grace: grace.seconds).whole()
    }

    static func refuseEmpty(_ selection: JobSelection, _ verb: String) throws(JobError) {
        if selection.isEmpty {
            throw JobError(.refused, "name the jobs to \(verb) (JobSelection(all: true) names every job)")
        }
    }

    public func status() throws(JobError) -> AgentStatus { try send(StatusRequest()) }

    /// Ends the agent; running jobs keep running.
    public func shutdown() throws(JobError) {
        _ = try send(ShutdownRequest())
    }

    // MARK: - The protocol, as the job command uses it

    /// Sends one request and reads its reply, with the problems the agent reports for parts of
    /// it; throws when the agent refused it as a whole.
    package func send<R: AgentRequest>(_ request: R, fds: [Int32] = []) throws(JobError) -> R.Reply {
        try turn { () throws(JobError) in
            do throws(JobError) {
                try post(request, fds: fds)
                return try collect(R.self)
            } catch
                where (error.notTaken || (error.agentWentAway && Self.changesNothing(request)))
                && !hungUp.withLock({ $0 })
            {
                // The agent went away before it read the request (killed a moment ago), or
                // during a request that changes nothing (a wait, a look): the next agent gets it,
                // once. Any other request it read and did not answer is not sent again.
                try reconnect()
                try post(request, fds: fds)
                return try collect(R.self)
            }
        }
    }

    /// A wait in slices of at most `waitSlice` seconds, so that an agent that stopped answering
    /// is noticed; after the first slice it waits for exactly the jobs that slice waited for.
    package func waitInSlices(_ request: WaitRequest) throws(JobError) -> WaitReply {
        let deadline = request.timeout.map { Self.monotonicNow() + max(0, $0) }
        var step = request
        var problems: [String]?
        while true {
            let left = deadline.map { max(0, $0 - Self.monotonicNow()) }
            step.timeout = min(left ?? Self.waitSlice, Self.waitSlice)
            var reply = try send(step)
            problems = problems ?? reply.problems
            reply.problems = problems ?? []
            if !reply.timedOut { return reply }
            if let left, left <= Self.waitSlice { return reply }
            // A timed-out slice lists the jobs it waited for.
            let ids = reply.jobs.map { String($0.id) }
            if !ids.isEmpty { step.selection = JobSelection(selectors: ids) }
        }
    }

    package func advance(_ advances: [ReadAdvance]) throws(JobError) {
        guard !advances.isEmpty else { return }
        _ = try send(AdvanceRequest(advances))
    }

    /// Blocks until anything changes after `generation`, or the timeout passes.
    package func waitEvent(after generation: UInt64, timeout: Double?) throws(JobError) -> UInt64 {
        try send(WaitEventRequest(after: generation, timeout: timeout)).generation
    }

    package static func monotonicNow() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Runs `body` alone on the connection: requests from several tasks take turns.
    private func turn<T>(_ body: () throws(JobError) -> T) throws(JobError) -> T {
        try turns.withLock { _ throws(JobError) in try body() }
    }
}

/// How a wait ended.
public enum WaitOutcome: Sendable, Equatable {
    /// The jobs waited for, all finished (with `any`: those that have finished).
    case finished([Job])
    /// The timeout passed first; the jobs waited for, as they are now.
    case timedOut([Job])

    public var jobs: [Job] {
        switch self {
        case .finished(let jobs), .timedOut(let jobs): jobs
        }
    }
}

extension Duration {
    /// In seconds, as the protocol counts.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
