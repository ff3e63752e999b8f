import JobCore
import JobProtocol

/// Persistent sessions (PowerShell's PSSessions): a long-lived shell per computer, kept by the
/// agent, whose state lasts between the commands sent to it. Sessions end with the agent.
extension JobClient {
    /// Opens one session per computer (`localhost` here, others over ssh) and returns those
    /// that opened; `problems` names the computers that could not be reached.
    public func newSessions(
        computers: [String], name: String? = nil, shell: String = "/bin/sh", sshOptions: [String] = [],
        environment: [String]? = nil
    ) throws -> Response {
        var request = Request(op: .sessionNew)
        var session = SessionRequest()
        session.computers = computers
        session.name = name
        session.shell = shell
        session.sshOptions = sshOptions
        session.workingDirectory = JobHome.currentDirectory()
        session.environment = environment ?? ProcessEnvironment.entries()
        session.umask = Self.currentUmask()
        request.session = session
        return try send(request)
    }

    /// The sessions whose Id or name matches (every one when none is given).
    public func sessions(_ selectors: [String] = []) throws -> Response {
        var request = Request(op: .sessionGet)
        request.selection = JobSelection(selectors: selectors)
        return try send(request)
    }

    /// Closes sessions; a Busy one only with `force` (its running command is stopped first).
    public func removeSessions(_ selectors: [String], force: Bool = false, grace: Double = 5) throws -> Response {
        var request = Request(op: .sessionRemove)
        request.selection = JobSelection(selectors: selectors)
        var options = SessionRequest()
        options.force = force
        options.grace = grace
        request.session = options
        return try send(request)
    }

    /// Runs a command in sessions (Ids or names): a parent with one child per session, each
    /// queued behind the session's earlier commands. `asInvoke` makes it a RemoteJob (as
    /// `job invoke --session`); otherwise a BackgroundJob (as `job start --session`). Refused,
    /// with no job made, when a session is not Opened.
    public func start(command: String, sessions: [String], name: String? = nil, asInvoke: Bool = false) throws
        -> JobRecord
    {
        var request = Request(op: .start)
        var start = StartRequest(
            command: command, name: name, workingDirectory: "", environment: [], shell: "/bin/sh", hasInput: false)
        start.sessions = sessions
        start.throttleLimit = asInvoke ? 32 : 0
        request.start = start
        guard let job = try send(request).jobs?.first else { throw JobClientError(.refused, "the agent made no job") }
        return job
    }
}
