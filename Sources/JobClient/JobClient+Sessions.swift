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
    ) throws -> SessionsReply {
        var request = SessionNewRequest()
        request.computers = computers
        request.name = name
        request.shell = shell
        request.sshOptions = sshOptions
        request.workingDirectory = JobHome.currentDirectory()
        request.environment = environment ?? ProcessEnvironment.entries()
        request.umask = Self.currentUmask()
        return try send(request)
    }

    /// The sessions whose Id or name matches (every one when none is given).
    public func sessions(_ selectors: [String] = []) throws -> SessionsReply {
        try send(SessionGetRequest(selectors))
    }

    /// Closes sessions; a Busy one only with `force` (its running command is stopped first).
    public func removeSessions(_ selectors: [String], force: Bool = false, grace: Double = 5) throws -> SessionsReply {
        try send(SessionRemoveRequest(selectors, force: force, grace: grace))
    }

    /// Runs a command in sessions (Ids or names): a parent with one child per session, each
    /// queued behind the session's earlier commands. `asInvoke` makes it a RemoteJob (as
    /// `job invoke --session`); otherwise a BackgroundJob (as `job start --session`). Refused,
    /// with no job made, when a session is not Opened.
    public func start(command: String, sessions: [String], name: String? = nil, asInvoke: Bool = false) throws
        -> JobRecord
    {
        var request = StartRequest(command: command, name: name, workingDirectory: "", environment: [])
        request.sessions = sessions
        request.throttleLimit = asInvoke ? 32 : 0
        return try send(request).job
    }
}
