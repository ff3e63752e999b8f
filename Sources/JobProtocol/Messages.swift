import JobCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The version of the client–agent protocol; both sides refuse to talk across versions.
public enum ProtocolVersion {
    public static let current = 4
    /// The product's version, shown by `job --version` and `job agent status`.
    public static let product = "0.1.0"
}

/// What a client asks of the agent.
public enum Operation: String, Codable, Sendable {
    case status, start, get, receive, advance, wait, waitEvent, stop, remove, shutdown
    case sessionNew, sessionGet, sessionRemove
}

/// One request frame. Only the fields of its operation are set.
public struct Request: Sendable {
    public var version: Int
    public var op: Operation
    public var start: StartRequest?
    public var selection: JobSelection?
    public var get: GetOptions?
    public var receive: ReceiveOptions?
    public var advance: [ReadAdvance]?
    public var wait: WaitOptions?
    public var stop: StopOptions?
    public var remove: RemoveOptions?
    public var generation: UInt64?
    public var timeout: Double?
    /// For `sessionNew` and `sessionRemove`.
    public var session: SessionRequest?

    public init(op: Operation) {
        self.version = ProtocolVersion.current
        self.op = op
    }
}

public struct StartRequest: Sendable {
    /// The command text as the job shows it.
    public var command: String
    public var name: String?
    public var workingDirectory: String
    /// `KEY=VALUE` entries, the whole environment of the job.
    public var environment: [String]
    public var shell: String
    /// Whether a descriptor for the job's stdin is attached to the request frame.
    public var hasInput: Bool
    /// The caller's file mode creation mask, which the job gets.
    public var umask: Int
    /// For `invoke`: the computers to run on, one child each, in order (empty for `start`).
    public var computers: [String] = []
    /// For `invoke`: how many children run at once (0: no limit).
    public var throttleLimit: Int = 0
    /// For `invoke`: extra options for ssh, each one argument.
    public var sshOptions: [String] = []
    /// For `invoke`: the `--env` entries, the only local variables a remote command gets.
    public var remoteEnvironment: [String] = []
    /// For `start --session` and `invoke --session`: the sessions to run in (Ids or names), one
    /// child each, in order.
    public var sessions: [String] = []

    public init(
        command: String, name: String?, workingDirectory: String, environment: [String], shell: String,
        hasInput: Bool, umask: Int = 0o022
    ) {
        self.umask = umask
        self.command = command
        self.name = name
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.shell = shell
        self.hasInput = hasInput
    }
}

/// `session new`: the computers to open a session on; `session remove`: force and grace.
public struct SessionRequest: Sendable {
    public var computers: [String] = []
    public var name: String?
    /// The shell to run (the same path on every computer).
    public var shell: String = "/bin/sh"
    public var sshOptions: [String] = []
    /// A local session starts here, with this environment (a remote one in its login's).
    public var workingDirectory: String = "/"
    public var environment: [String] = []
    public var force: Bool = false
    public var grace: Double = 5
    /// The caller's umask, which a local session's shell gets.
    public var umask: Int = 0o022
    public init() {}
}

public struct GetOptions: Sendable {
    public var includeChildren: Bool = false
    public var childrenOf: String?
    public var command: String?
    public var hasMoreData: Bool?
    public var before: Date?
    public var after: Date?
    public var newest: Int?
    public init() {}
}

public struct ReceiveOptions: Sendable {
    public var keep: Bool = false
    public var fromStart: Bool = false
    public var noRecurse: Bool = false
    public init() {}
}

/// Where a client got to within the part of one child's streams it claimed (short of the end
/// when its reader went away, or a partial line was held back); the agent moves the read
/// positions back to there, if no one has claimed after it.
public struct ReadAdvance: Sendable {
    public var instanceId: String
    public var output: Int64
    public var error: Int64
    public init(instanceId: String, output: Int64, error: Int64) {
        self.instanceId = instanceId
        self.output = output
        self.error = error
    }
}

public struct WaitOptions: Sendable {
    public var any: Bool = false
    /// Seconds; nil waits for ever, 0 polls.
    public var timeout: Double?
    public init() {}
}

public struct StopOptions: Sendable {
    public var grace: Double = 5
    public init() {}
}

public struct RemoveOptions: Sendable {
    public var force: Bool = false
    public init() {}
}

/// One child's output as the client is to read it: the files and where reading starts.
public struct StreamGrant: Sendable {
    public var id: Int
    public var instanceId: String
    public var name: String
    public var computer: String
    public var outputPath: String
    public var errorPath: String
    public var outputOffset: Int64
    public var errorOffset: Int64
    /// Where this reader's part ends (exclusive): the bytes from the offset to here are its
    /// alone, claimed for it by the agent. -1 with `keep`: to the end of the file.
    public var outputEnd: Int64 = -1
    public var errorEnd: Int64 = -1
    public var state: JobState
    public var reason: String?
    public var exitStatus: Int?
    public var signal: Int?

    public init(
        id: Int, instanceId: String, name: String, computer: String, outputPath: String, errorPath: String,
        outputOffset: Int64, errorOffset: Int64, state: JobState, reason: String?, exitStatus: Int?, signal: Int?
    ) {
        self.id = id
        self.instanceId = instanceId
        self.name = name
        self.computer = computer
        self.outputPath = outputPath
        self.errorPath = errorPath
        self.outputOffset = outputOffset
        self.errorOffset = errorOffset
        self.state = state
        self.reason = reason
        self.exitStatus = exitStatus
        self.signal = signal
    }
}

public struct AgentStatus: Sendable {
    public var pid: Int
    public var socket: String
    public var home: String
    public var version: String
    public var protocolVersion: Int
    public var jobs: [String: Int]
    public var startTime: Date

    public init(
        pid: Int, socket: String, home: String, version: String, protocolVersion: Int, jobs: [String: Int],
        startTime: Date
    ) {
        self.pid = pid
        self.socket = socket
        self.home = home
        self.version = version
        self.protocolVersion = protocolVersion
        self.jobs = jobs
        self.startTime = startTime
    }
}

/// One response frame.
public struct Response: Sendable {
    /// A failure of the whole request; nil when it was carried out.
    public var error: String?
    /// Problems with parts of the request (a selector matching nothing, a job refused);
    /// the rest was still handled.
    public var problems: [String]?
    public var jobs: [JobRecord]?
    public var streams: [StreamGrant]?
    public var status: AgentStatus?
    public var timedOut: Bool?
    public var generation: UInt64?
    public var sessions: [SessionRecord]?

    public init() {}

    public static func failure(_ message: String) -> Response {
        var response = Response()
        response.error = message
        return response
    }
}

// MARK: - Wire encoding

extension JobSelection {
    func write(to w: inout WireWriter) {
        w.strings(selectors)
        w.strings(names)
        w.array(states) { $0.string($1.rawValue) }
        w.bool(all)
    }
    init(from r: inout WireReader) throws {
        self.init(
            selectors: try r.strings(), names: try r.strings(),
            states: try r.array { try $0.enumeration(JobState.self) },
            all: try r.bool())
    }
}

extension JobRecord {
    func write(to w: inout WireWriter) {
        w.int(id)
        w.optional(parentId) { $0.int($1) }
        w.array(childIds) { $0.int($1) }
        w.string(name)
        w.string(instanceId)
        w.string(type)
        w.string(state.rawValue)
        w.bool(hasMoreData)
        w.string(location)
        w.string(command)
        w.string(workingDirectory)
        w.optional(reason) { $0.string($1) }
        w.optional(exitStatus) { $0.int($1) }
        w.optional(signal) { $0.int($1) }
        w.optional(pid) { $0.int($1) }
        w.optional(beginTime) { $0.date($1) }
        w.optional(endTime) { $0.date($1) }
        w.optional(computer) { $0.string($1) }
    }
    init(from r: inout WireReader) throws {
        self.init(
            id: try r.int(), parentId: try r.optional { try $0.int() }, childIds: try r.array { try $0.int() },
            name: try r.string(), instanceId: try r.string(), type: try r.string(),
            state: try r.enumeration(JobState.self), hasMoreData: try r.bool(), location: try r.string(),
            command: try r.string(), workingDirectory: try r.string(), reason: try r.optional { try $0.string() },
            exitStatus: try r.optional { try $0.int() }, signal: try r.optional { try $0.int() },
            pid: try r.optional { try $0.int() }, beginTime: try r.optional { try $0.date() },
            endTime: try r.optional { try $0.date() }, computer: try r.optional { try $0.string() })
    }
}

extension Request: WireMessage {
    public func write(to w: inout WireWriter) {
        w.int(version)
        w.string(op.rawValue)
        w.optional(start) { w, s in
            w.string(s.command)
            w.optional(s.name) { $0.string($1) }
            w.string(s.workingDirectory)
            w.strings(s.environment)
            w.string(s.shell)
            w.bool(s.hasInput)
            w.int(s.umask)
            w.strings(s.computers)
            w.int(s.throttleLimit)
            w.strings(s.sshOptions)
            w.strings(s.remoteEnvironment)
            w.strings(s.sessions)
        }
        w.optional(selection) { $1.write(to: &$0) }
        w.optional(get) { w, g in
            w.bool(g.includeChildren)
            w.optional(g.childrenOf) { $0.string($1) }
            w.optional(g.command) { $0.string($1) }
            w.optional(g.hasMoreData) { $0.bool($1) }
            w.optional(g.before) { $0.date($1) }
            w.optional(g.after) { $0.date($1) }
            w.optional(g.newest) { $0.int($1) }
        }
        w.optional(receive) { w, o in
            w.bool(o.keep)
            w.bool(o.fromStart)
            w.bool(o.noRecurse)
        }
        w.optional(advance) { w, list in
            w.array(list) { w, a in
                w.string(a.instanceId)
                w.int(Int(a.output))
                w.int(Int(a.error))
            }
        }
        w.optional(wait) { w, o in
            w.bool(o.any)
            w.optional(o.timeout) { $0.double($1) }
        }
        w.optional(stop) { $0.double($1.grace) }
        w.optional(remove) { $0.bool($1.force) }
        w.optional(generation) { $0.uint64($1) }
        w.optional(timeout) { $0.double($1) }
        w.optional(session) { w, s in
            w.strings(s.computers)
            w.optional(s.name) { $0.string($1) }
            w.string(s.shell)
            w.strings(s.sshOptions)
            w.string(s.workingDirectory)
            w.strings(s.environment)
            w.bool(s.force)
            w.double(s.grace)
            w.int(s.umask)
        }
    }

    public init(from r: inout WireReader) throws {
        let version = try r.int()
        self.init(op: .status)
        self.version = version
        // A client of another version may not even have the same operations: read no further.
        guard version == ProtocolVersion.current else { return }
        op = try r.enumeration(Operation.self)
        start = try r.optional { r in
            var start = StartRequest(
                command: try r.string(), name: try r.optional { try $0.string() }, workingDirectory: try r.string(),
                environment: try r.strings(), shell: try r.string(), hasInput: try r.bool(), umask: try r.int())
            start.computers = try r.strings()
            start.throttleLimit = try r.int()
            start.sshOptions = try r.strings()
            start.remoteEnvironment = try r.strings()
            start.sessions = try r.strings()
            return start
        }
        selection = try r.optional { try JobSelection(from: &$0) }
        get = try r.optional { r in
            var g = GetOptions()
            g.includeChildren = try r.bool()
            g.childrenOf = try r.optional { try $0.string() }
            g.command = try r.optional { try $0.string() }
            g.hasMoreData = try r.optional { try $0.bool() }
            g.before = try r.optional { try $0.date() }
            g.after = try r.optional { try $0.date() }
            g.newest = try r.optional { try $0.int() }
            return g
        }
        receive = try r.optional { r in
            var o = ReceiveOptions()
            o.keep = try r.bool()
            o.fromStart = try r.bool()
            o.noRecurse = try r.bool()
            return o
        }
        advance = try r.optional { r in
            try r.array { r in
                ReadAdvance(instanceId: try r.string(), output: Int64(try r.int()), error: Int64(try r.int()))
            }
        }
        wait = try r.optional { r in
            var o = WaitOptions()
            o.any = try r.bool()
            o.timeout = try r.optional { try $0.double() }
            return o
        }
        stop = try r.optional { r in
            var o = StopOptions()
            o.grace = try r.double()
            return o
        }
        remove = try r.optional { r in
            var o = RemoveOptions()
            o.force = try r.bool()
            return o
        }
        generation = try r.optional { try $0.uint64() }
        timeout = try r.optional { try $0.double() }
        session = try r.optional { r in
            var s = SessionRequest()
            s.computers = try r.strings()
            s.name = try r.optional { try $0.string() }
            s.shell = try r.string()
            s.sshOptions = try r.strings()
            s.workingDirectory = try r.string()
            s.environment = try r.strings()
            s.force = try r.bool()
            s.grace = try r.double()
            s.umask = try r.int()
            return s
        }
    }
}

extension Response: WireMessage {
    public func write(to w: inout WireWriter) {
        w.optional(error) { $0.string($1) }
        w.optional(problems) { $0.strings($1) }
        w.optional(jobs) { w, list in w.array(list) { $1.write(to: &$0) } }
        w.optional(streams) { w, list in
            w.array(list) { w, g in
                w.int(g.id)
                w.string(g.instanceId)
                w.string(g.name)
                w.string(g.computer)
                w.string(g.outputPath)
                w.string(g.errorPath)
                w.int(Int(g.outputOffset))
                w.int(Int(g.errorOffset))
                w.int(Int(g.outputEnd))
                w.int(Int(g.errorEnd))
                w.string(g.state.rawValue)
                w.optional(g.reason) { $0.string($1) }
                w.optional(g.exitStatus) { $0.int($1) }
                w.optional(g.signal) { $0.int($1) }
            }
        }
        w.optional(status) { w, s in
            w.int(s.pid)
            w.string(s.socket)
            w.string(s.home)
            w.string(s.version)
            w.int(s.protocolVersion)
            w.array(s.jobs.sorted { $0.key < $1.key }) { w, pair in
                w.string(pair.key)
                w.int(pair.value)
            }
            w.date(s.startTime)
        }
        w.optional(timedOut) { $0.bool($1) }
        w.optional(generation) { $0.uint64($1) }
        w.optional(sessions) { w, list in
            w.array(list) { w, s in
                w.int(s.id)
                w.string(s.name)
                w.string(s.computerName)
                w.string(s.state.rawValue)
                w.string(s.availability.rawValue)
                w.int(s.jobCount)
                w.string(s.shell)
                w.optional(s.reason) { $0.string($1) }
            }
        }
    }

    public init(from r: inout WireReader) throws {
        self.init()
        error = try r.optional { try $0.string() }
        problems = try r.optional { try $0.strings() }
        jobs = try r.optional { r in try r.array { try JobRecord(from: &$0) } }
        streams = try r.optional { r in
            try r.array { r in
                let id = try r.int()
                let instanceId = try r.string()
                let name = try r.string()
                let computer = try r.string()
                let outputPath = try r.string()
                let errorPath = try r.string()
                let outputOffset = Int64(try r.int())
                let errorOffset = Int64(try r.int())
                let outputEnd = Int64(try r.int())
                let errorEnd = Int64(try r.int())
                var grant = StreamGrant(
                    id: id, instanceId: instanceId, name: name, computer: computer, outputPath: outputPath,
                    errorPath: errorPath, outputOffset: outputOffset, errorOffset: errorOffset,
                    state: try r.enumeration(JobState.self), reason: try r.optional { try $0.string() },
                    exitStatus: try r.optional { try $0.int() }, signal: try r.optional { try $0.int() })
                grant.outputEnd = outputEnd
                grant.errorEnd = errorEnd
                return grant
            }
        }
        status = try r.optional { r in
            let pid = try r.int()
            let socket = try r.string()
            let home = try r.string()
            let version = try r.string()
            let protocolVersion = try r.int()
            let pairs = try r.array { r in (try r.string(), try r.int()) }
            return AgentStatus(
                pid: pid, socket: socket, home: home, version: version, protocolVersion: protocolVersion,
                jobs: Dictionary(pairs, uniquingKeysWith: { first, _ in first }), startTime: try r.date())
        }
        timedOut = try r.optional { try $0.bool() }
        generation = try r.optional { try $0.uint64() }
        sessions = try r.optional { r in
            try r.array { r in
                SessionRecord(
                    id: try r.int(), name: try r.string(), computerName: try r.string(),
                    state: try r.enumeration(SessionState.self),
                    availability: try r.enumeration(SessionAvailability.self), jobCount: try r.int(),
                    shell: try r.string(), reason: try r.optional { try $0.string() })
            }
        }
    }
}
