import CJobSupport
import JobCore
import JobProtocol

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
///     let client = try JobClient()
///     let job = try client.start(command: "make test")
///     let done = try client.wait(JobSelection(selectors: [String(job.id)]))
public final class JobClient {
    public let home: JobHome
    public let socketPath: String
    let channel: FrameChannel

    /// The connection's descriptor (to notice the agent closing it).
    public var socketFD: Int32 { channel.fd }

    /// Connects to the agent of `home` (default: the one `JOB_HOME` names), starting it when
    /// none runs and `autoStart` is set. `agentExecutable` is the `job-agent` program to start
    /// it with; by default `JOB_AGENT_EXECUTABLE`, else the `job-agent` beside this program.
    public init(
        home: JobHome? = nil, environment: [String: String] = ProcessEnvironment.dictionary(),
        autoStart: Bool = true, agentExecutable: String? = nil
    ) throws {
        if home == nil, let path = environment["JOB_HOME"], !path.isEmpty, !path.hasPrefix("/") {
            throw JobClientError(.connection, "JOB_HOME must be an absolute path, not '\(path)'")
        }
        let home = home ?? JobHome.resolve(environment: environment)
        var info = stat()
        if stat(home.path, &info) == 0 && info.st_uid != getuid() {
            throw JobClientError(
                .connection,
                "JOB_HOME \(home.path) belongs to uid \(info.st_uid), not to you (uid \(getuid())); "
                    + "set JOB_HOME to a folder of your own")
        }
        self.home = home
        self.socketPath = home.socketPath(environment: environment)
        if let fd = try Self.connect(socketPath) {
            channel = FrameChannel(fd: fd)
            return
        }
        guard autoStart else {
            throw JobClientError(.noAgent, "no agent is running for \(home.path)")
        }
        let executable = agentExecutable ?? environment["JOB_AGENT_EXECUTABLE"] ?? Self.defaultAgentExecutable()
        let fd = try AgentStarter(home: home, socketPath: socketPath, executable: executable).start()
        channel = FrameChannel(fd: fd)
    }

    /// Connects to the socket; nil when no agent listens there.
    static func connect(_ path: String) throws -> Int32? {
        var owner: uid_t = 0
        if cjob_is_socket_owned_by(path, getuid(), &owner) == 0 {
            throw JobClientError(
                .connection,
                "the agent socket \(path) belongs to uid \(owner), not to you (uid \(getuid())); "
                    + "set JOB_HOME to a folder of your own")
        }
        let fd = cjob_unix_connect(path)
        if fd < 0 {
            let code = errno
            if code == ENOENT || code == ECONNREFUSED { return nil }
            throw JobClientError(
                .connection, "cannot connect to the agent at \(path): \(String(cString: strerror(code)))")
        }
        var uid: uid_t = 0
        var pid: pid_t = 0
        guard cjob_peer_uid(fd, &uid, &pid) == 0, uid == getuid() else {
            close(fd)
            throw JobClientError(.connection, "the agent at \(path) runs as uid \(uid), not as you; refusing to use it")
        }
        return fd
    }

    /// This process's umask (reading it means setting it, so it is set back at once).
    static func currentUmask() -> Int {
        let mask = umask(0o022)
        umask(mask)
        return Int(mask)
    }

    /// The `job-agent` beside this program (the `job` client, a program that embeds this
    /// library, or a test bundle); a `job-agent` on the PATH when there is none.
    public static func defaultAgentExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return "job-agent" }
        let selfPath = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let sibling = String(selfPath[..<(selfPath.lastIndex(of: "/") ?? selfPath.startIndex)]) + "/job-agent"
        if access(sibling, X_OK) == 0 { return sibling }
        for folder in (ProcessEnvironment.dictionary()["PATH"] ?? "/usr/local/bin:/usr/bin").split(separator: ":") {
            let candidate = String(folder) + "/job-agent"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return sibling
    }

    /// How long a client waits for the agent past the time a request may take (a wait's
    /// timeout, a stop's grace period) before it gives up on it: `JOB_AGENT_TIMEOUT` seconds,
    /// 30 by default.
    public static let patience: Double = {
        guard let text = ProcessEnvironment.dictionary()["JOB_AGENT_TIMEOUT"], let value = Double(text),
            value.isFinite, value > 0
        else { return 30 }
        return min(value, 30)
    }()

    /// The longest a wait or a wait for events blocks in the agent before it answers, so that
    /// a client learns in time that the agent is still there.
    public static let waitSlice: Double = 10

    /// How long the request may take in the agent, before `patience` starts to count.
    static func blockingTime(of request: any AgentRequest) -> Double {
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

    private var allowance: Double = 0

    /// Sends a request without reading the reply (see `collect(_:)`), so that a caller can
    /// wait on the connection with poll(2) beside other descriptors.
    public func post<R: AgentRequest>(_ request: R, fds: [Int32] = []) throws {
        allowance = Self.blockingTime(of: request) + Self.patience
        do {
            try channel.send(fds: fds) { Frame.writeRequest(request, to: &$0) }
        } catch let error as ChannelError {
            // The agent may have said why it closed the connection (it serves too many).
            channel.setReceiveTimeout(1)
            if let (body, extra) = try? channel.receive() {
                extra.forEach { _ = close($0) }
                if case .failure(let failure)? = try? Frame.readReply(body, for: R.self) {
                    throw JobClientError(failure)
                }
            }
            throw lost(error)
        }
    }

    /// Why the agent did not answer, worded for the person who waits: its pid, and what to do.
    public func unresponsive() -> JobClientError {
        let pid = Self.agentPid(home: home).map { "pid \($0), " } ?? ""
        let seconds = Int(Self.patience)
        return JobClientError(
            .connection,
            "the agent (\(pid)JOB_HOME \(home.path)) did not answer within \(seconds) s: it may be stopped "
                + "(SIGSTOP) or stuck; check it with `job agent status`, or restart it with `job agent stop` "
                + "(running jobs keep running)")
    }

    /// Reads the reply to a `post` of an `R`.
    public func collect<R: AgentRequest>(_ type: R.Type) throws -> R.Reply {
        channel.setReceiveTimeout(allowance)
        let body: [UInt8]
        do {
            guard let (received, extra) = try channel.receive() else {
                throw JobClientError(.connection, "the agent closed the connection")
            }
            extra.forEach { _ = close($0) }
            body = received
        } catch let error as ChannelError {
            throw lost(error)
        }
        let result: Result<R.Reply, Failure>
        do {
            result = try Frame.readReply(body, for: R.self)
        } catch {
            throw JobClientError(
                .connection,
                "the agent answered in a form this client does not read (\(error)): it is probably of another "
                    + "version; stop it with `job agent stop` (running jobs keep running) and try again")
        }
        switch result {
        case .success(let reply): return reply
        case .failure(let failure): throw JobClientError(failure)
        }
    }

    func lost(_ error: ChannelError) -> JobClientError {
        if error.timedOut { return unresponsive() }
        return JobClientError(.connection, "lost the agent: \(error.description)")
    }

    /// The pid in the agent's lock file, while an agent holds the lock.
    public static func agentPid(home: JobHome) -> Int? {
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
    public static func terminateAgent(home: JobHome) -> Int? {
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

    /// Sends one request and reads its reply; throws when the agent refused it as a whole.
    public func send<R: AgentRequest>(_ request: R, fds: [Int32] = []) throws -> R.Reply {
        try post(request, fds: fds)
        return try collect(R.self)
    }

    // MARK: - Verbs

    /// Starts a local job and returns its parent once the command has been launched (or has
    /// failed to launch: then the job is Failed with the Reason).
    public func start(
        command: String, name: String? = nil, workingDirectory: String? = nil,
        environment: [String]? = nil, shell: String = "/bin/sh", input: Int32? = nil
    ) throws -> JobRecord {
        let request = StartRequest(
            command: command, name: name, workingDirectory: workingDirectory ?? JobHome.currentDirectory(),
            environment: environment ?? ProcessEnvironment.entries(), shell: shell, hasInput: input != nil,
            umask: Self.currentUmask())
        return try send(request, fds: input.map { [$0] } ?? []).job
    }

    /// Runs a command on computers as a RemoteJob parent with one child per computer (in the
    /// order given); returns the parent at once. `localhost` runs here without SSH.
    public func invoke(
        command: String, computers: [String], name: String? = nil, throttleLimit: Int = 32,
        sshOptions: [String] = [], remoteEnvironment: [String] = [], environment: [String]? = nil
    ) throws -> JobRecord {
        var request = StartRequest(
            command: command, name: name, workingDirectory: JobHome.currentDirectory(),
            environment: environment ?? ProcessEnvironment.entries(), umask: Self.currentUmask())
        request.computers = computers
        request.throttleLimit = throttleLimit
        request.sshOptions = sshOptions
        request.remoteEnvironment = remoteEnvironment
        return try send(request).job
    }

    public func get(_ request: GetRequest) throws -> JobsReply { try send(request) }

    public func get(_ selection: JobSelection = JobSelection()) throws -> JobsReply { try send(GetRequest(selection)) }

    /// Blocks until the selected jobs finished (or any one, with `any`), or the timeout
    /// passed (`timedOut`). It waits in slices of at most `waitSlice` seconds, so that an agent
    /// that stopped answering is noticed; after the first slice it waits for exactly the jobs
    /// that slice waited for.
    public func wait(_ request: WaitRequest) throws -> WaitReply {
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

    public func wait(_ selection: JobSelection = JobSelection()) throws -> WaitReply {
        try wait(WaitRequest(selection))
    }

    public static func monotonicNow() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    public func stop(_ selection: JobSelection, grace: Double = 5) throws -> JobsReply {
        try send(StopRequest(selection, grace: grace))
    }

    public func remove(_ selection: JobSelection, force: Bool = false, grace: Double = 5) throws -> JobsReply {
        try send(RemoveRequest(selection, force: force, grace: grace))
    }

    /// The output files of the selected children and where reading starts.
    public func receiveGrants(_ request: ReceiveRequest) throws -> ReceiveReply { try send(request) }

    public func advance(_ advances: [ReadAdvance]) throws {
        guard !advances.isEmpty else { return }
        _ = try send(AdvanceRequest(advances))
    }

    /// Blocks until anything changes after `generation`, or the timeout passes.
    public func waitEvent(after generation: UInt64, timeout: Double?) throws -> UInt64 {
        try send(WaitEventRequest(after: generation, timeout: timeout)).generation
    }

    public func status() throws -> AgentStatus { try send(StatusRequest()) }

    /// Ends the agent; running jobs keep running.
    public func shutdown() throws {
        _ = try send(ShutdownRequest())
    }
}
