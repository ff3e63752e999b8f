import JobCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The version of the client–agent protocol; both sides refuse to talk across versions.
public enum ProtocolVersion {
    public static let current = 1
    /// The product's version, shown by `job --version` and `job agent status`.
    public static let product = "0.1.0"
}

/// What a client asks of the agent.
public enum Operation: String, Codable, Sendable {
    case status, start, get, receive, advance, wait, waitEvent, stop, remove, shutdown
}

/// One request frame. Only the fields of its operation are set.
public struct Request: Codable, Sendable {
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

    public init(op: Operation) {
        self.version = ProtocolVersion.current
        self.op = op
    }
}

public struct StartRequest: Codable, Sendable {
    /// The command text as the job shows it.
    public var command: String
    public var name: String?
    public var workingDirectory: String
    /// `KEY=VALUE` entries, the whole environment of the job.
    public var environment: [String]
    public var shell: String
    /// Whether a descriptor for the job's stdin is attached to the request frame.
    public var hasInput: Bool

    public init(
        command: String, name: String?, workingDirectory: String, environment: [String], shell: String,
        hasInput: Bool
    ) {
        self.command = command
        self.name = name
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.shell = shell
        self.hasInput = hasInput
    }
}

public struct GetOptions: Codable, Sendable {
    public var includeChildren: Bool = false
    public var childrenOf: String?
    public var command: String?
    public var hasMoreData: Bool?
    public var before: Date?
    public var after: Date?
    public var newest: Int?
    public init() {}
}

public struct ReceiveOptions: Codable, Sendable {
    public var keep: Bool = false
    public var fromStart: Bool = false
    public var noRecurse: Bool = false
    public init() {}
}

/// Where a client finished reading one child's streams; the agent moves the read positions.
public struct ReadAdvance: Codable, Sendable {
    public var instanceId: String
    public var output: Int64
    public var error: Int64
    public init(instanceId: String, output: Int64, error: Int64) {
        self.instanceId = instanceId
        self.output = output
        self.error = error
    }
}

public struct WaitOptions: Codable, Sendable {
    public var any: Bool = false
    /// Seconds; nil waits for ever, 0 polls.
    public var timeout: Double?
    public init() {}
}

public struct StopOptions: Codable, Sendable {
    public var grace: Double = 5
    public init() {}
}

public struct RemoveOptions: Codable, Sendable {
    public var force: Bool = false
    public init() {}
}

/// One child's output as the client is to read it: the files and where reading starts.
public struct StreamGrant: Codable, Sendable {
    public var id: Int
    public var instanceId: String
    public var name: String
    public var computer: String
    public var outputPath: String
    public var errorPath: String
    public var outputOffset: Int64
    public var errorOffset: Int64
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

public struct AgentStatus: Codable, Sendable {
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
public struct Response: Codable, Sendable {
    /// A failure of the whole request; nil when it was carried out.
    public var error: String?
    /// Problems with parts of the request (a selector matching nothing, a job refused);
    /// the rest was still handled.
    public var problems: [String]?
    public var jobs: [JobRecord]?
    /// Other jobs the client may need to show `jobs` (children named by a parent's list).
    public var related: [JobRecord]?
    public var streams: [StreamGrant]?
    public var status: AgentStatus?
    public var timedOut: Bool?
    public var generation: UInt64?

    public init() {}

    public static func failure(_ message: String) -> Response {
        var response = Response()
        response.error = message
        return response
    }
}
