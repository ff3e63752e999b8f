import Foundation
import JobCore

/// Where a job runs, decided when it is made and kept with it.
public enum Placement: Sendable, Equatable {
    /// A parent, which runs nothing itself.
    case parent
    /// A child run on this computer under its monitor.
    case local
    /// A child run on another computer over ssh, under a monitor here.
    case remote
    /// A child run in a session's shell (`session` says which).
    case session
}

/// One row of the store: a parent or a child job with everything the agent needs to
/// manage it. A parent's state is not stored; it is computed from its children.
public struct StoredJob: Sendable, Equatable {
    public var id: Int
    public var parentId: Int?
    public var instanceId: String
    public var name: String
    public var type: String
    public var location: String
    public var computer: String?
    public var command: String
    public var workingDirectory: String
    public var shell: String
    /// The child's own state; on parents always `NotStarted` (never read).
    public var state: JobState
    public var stopRequested: Bool
    public var reason: String?
    public var exitStatus: Int?
    public var signal: Int?
    public var pid: Int?
    /// The job's start time in clock ticks since boot: with `pid`, what tells the job from a
    /// later process that got the same pid.
    public var pidStart: Int64?
    /// The pid of the job's monitor (its parent), for the record; the agent finds the monitor
    /// by name, not by pid.
    public var waiterPid: Int?
    public var waiterStart: Int64?
    public var bootId: String?
    public var beginTime: Date?
    public var endTime: Date?
    public var outputRead: Int64
    public var errorRead: Int64
    /// Sizes of the output files when last looked at (at the end, and at each receive).
    public var outputSize: Int64
    public var errorSize: Int64
    /// On `invoke` parents: how many children run at once (0: no limit).
    public var throttleLimit: Int = 0
    /// On `invoke` parents: extra ssh options, and the `--env` entries for remote commands.
    public var sshOptions: [String] = []
    public var remoteEnvironment: [String] = []
    /// On a child run in a session: the session's Id (sessions live in the agent, so such a
    /// child can only finish while the agent that started it runs).
    public var session: Int?
    public var placement: Placement

    public init(
        id: Int = 0, parentId: Int? = nil, instanceId: String, name: String = "", type: String,
        location: String, computer: String? = nil, command: String, workingDirectory: String,
        shell: String, state: JobState = .notStarted, placement: Placement? = nil
    ) {
        self.placement = placement ?? (parentId == nil ? .parent : .local)
        self.id = id
        self.parentId = parentId
        self.instanceId = instanceId
        self.name = name
        self.type = type
        self.location = location
        self.computer = computer
        self.command = command
        self.workingDirectory = workingDirectory
        self.shell = shell
        self.state = state
        self.stopRequested = false
        self.outputRead = 0
        self.errorRead = 0
        self.outputSize = 0
        self.errorSize = 0
    }
}
