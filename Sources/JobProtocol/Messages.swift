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

import JobCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A verb's request: its payload type, the name it travels under and the type of its reply.
/// A client sends one and gets exactly that reply, or a `Failure`.
public protocol AgentRequest: TaggedMessage {
    associatedtype Reply: TaggedMessage
    static var verb: Verb { get }
    /// The capabilities this request uses beyond what its verb always had (`Capability`): an
    /// agent that lacks one refuses the request instead of skipping the fields it does not
    /// know. Empty for most.
    var needs: [String] { get }
}

extension AgentRequest {
    public var needs: [String] { [] }
}

/// The rule for versions: a request never asks for something an agent may silently skip.
/// What an agent of an older protocol cannot do either comes under a verb of its own (which
/// such an agent refuses as unknown: `startQueued`, `invoke`, `sessionStart`), or is named in
/// the request's `needs` (header field 5), which an agent checks against `known` and refuses
/// when it lacks one. Fields that only add to what is shown (a reply's new field) need neither.
public enum Capability {
    /// A start that names its parent's InstanceId (the remote side of a durable link).
    public static let instanceId = "instanceId"
    /// Every capability this agent has.
    public static let known: Set<String> = [instanceId]
}

/// The verbs an agent answers. A name the agent does not know (a newer client's verb) gets a
/// `Failure` with the code `unknownVerb` that names both sides' versions.
public enum Verb: String, Sendable, CaseIterable, NamedFieldValue {
    case status, start, get, receive, advance, wait, waitEvent, stop, remove, shutdown
    case sessionNew, sessionGet, sessionRemove
    case groupSet, groupGet, groupRemove
    case suspend, resume, signal, restart
    case startQueued
    case rename
    case invoke, sessionStart

    /// The verb's request type (whose `Reply` is the verb's reply type). A new verb is a case
    /// above, its line here, and its request and reply types below.
    public var requestType: any AgentRequest.Type {
        switch self {
        case .status: StatusRequest.self
        case .start: StartRequest.self
        case .get: GetRequest.self
        case .receive: ReceiveRequest.self
        case .advance: AdvanceRequest.self
        case .wait: WaitRequest.self
        case .waitEvent: WaitEventRequest.self
        case .stop: StopRequest.self
        case .remove: RemoveRequest.self
        case .shutdown: ShutdownRequest.self
        case .sessionNew: SessionNewRequest.self
        case .sessionGet: SessionGetRequest.self
        case .sessionRemove: SessionRemoveRequest.self
        case .groupSet: GroupSetRequest.self
        case .groupGet: GroupGetRequest.self
        case .groupRemove: GroupRemoveRequest.self
        case .suspend: SuspendRequest.self
        case .resume: ResumeRequest.self
        case .signal: SignalRequest.self
        case .restart: RestartRequest.self
        case .startQueued: QueuedStartRequest.self
        case .rename: RenameRequest.self
        case .invoke: InvokeRequest.self
        case .sessionStart: SessionStartRequest.self
        }
    }
}

// MARK: - Requests

public struct StatusRequest: AgentRequest {
    public typealias Reply = AgentStatus
    public static let verb = Verb.status
    public init() {}
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {}
}

/// `start`: a local job. Clients of protocol 6 and earlier sent `invoke` (with `computers`,
/// fields 8 to 11, 21 and 22) and `start --session` (with `sessions`, field 12) as this verb
/// too: an agent still reads those fields, and the agent's start works from this type for all
/// three. A client of protocol 7 sends `InvokeRequest` and `SessionStartRequest`, which an
/// older agent refuses instead of starting a remote command here.
public struct StartRequest: AgentRequest, QueueFields {
    public typealias Reply = StartReply
    public static let verb = Verb.start
    /// The command text as the job shows it.
    public var command = ""
    public var name: String?
    public var workingDirectory = "/"
    /// `KEY=VALUE` entries, the whole environment of the job.
    public var environment: [String] = []
    public var shell = "/bin/sh"
    /// Whether a descriptor for the job's stdin is attached to the request frame.
    public var hasInput = false
    /// The caller's file mode creation mask, which the job gets.
    public var umask = 0o022
    /// For `invoke`: the computers to run on, one child each, in order (empty for `start`).
    public var computers: [String] = []
    /// For `invoke`: how many children run at once (0: no limit).
    public var throttleLimit = 0
    /// For `invoke`: extra options for ssh, each one argument.
    public var sshOptions: [String] = []
    /// For `invoke`: the `--env` entries, the only local variables a remote command gets.
    public var remoteEnvironment: [String] = []
    /// For `start --session` and `invoke --session`: the sessions to run in (Ids or names), one
    /// child each, in order.
    public var sessions: [String] = []
    /// The queue (all optional): seconds it may run, jobs it waits for (ended Completed, or
    /// ended in any way), when it may start at the earliest, and its group.
    public var timeout: Double?
    public var after: [Int] = []
    public var afterAny: [Int] = []
    public var notBefore: Date?
    public var group: String?
    /// Bytes of stdout and stderr together past which the job is stopped.
    public var maxOutput: Int64?
    /// Seconds between SIGTERM and SIGKILL when its timeout or output cap stops it.
    public var stopGrace: Double?
    /// The parent's InstanceId, when the caller chooses it: a start that names one a job
    /// already has answers with that job instead (a durable child's remote job, started again
    /// after a lost answer, is not started twice).
    public var instanceId: String?
    /// For `invoke --durable`: each remote child runs as a job in its computer's agent,
    /// mirrored here, and outlives a lost link.
    public var durable = false
    /// For `invoke --deploy`: durable, and this `job` is copied to each computer that lacks it.
    public var deploy = false

    public init() {}

    public init(
        command: String, name: String? = nil, workingDirectory: String, environment: [String],
        shell: String = "/bin/sh",
        hasInput: Bool = false, umask: Int = 0o022
    ) {
        self.command = command
        self.name = name
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.shell = shell
        self.hasInput = hasInput
        self.umask = umask
    }

    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &command)
        try coder.optional(2, &name)
        try coder.value(3, &workingDirectory)
        try coder.array(4, &environment)
        try coder.value(5, &shell)
        try coder.value(6, &hasInput)
        try coder.value(7, &umask)
        try coder.array(8, &computers)
        try coder.value(9, &throttleLimit)
        try coder.array(10, &sshOptions)
        try coder.array(11, &remoteEnvironment)
        try coder.array(12, &sessions)
        try queueFields(&coder)
        try coder.optional(20, &instanceId)
        // Written only when set, so that every other start is the same frame as before them.
        var durableFlag = durable ? true : nil
        var deployFlag = deploy ? true : nil
        try coder.optional(21, &durableFlag)
        try coder.optional(22, &deployFlag)
        durable = durableFlag ?? false
        deploy = deployFlag ?? false
    }

    public var needs: [String] { instanceId == nil ? [] : [Capability.instanceId] }
}

/// The queue's options of a start or an invoke, fields 13 to 19 of both.
public protocol QueueFields {
    /// Seconds it may run.
    var timeout: Double? { get set }
    /// Jobs it waits for: ended Completed, or ended in any way.
    var after: [Int] { get set }
    var afterAny: [Int] { get set }
    /// When it may start at the earliest.
    var notBefore: Date? { get set }
    var group: String? { get set }
    /// Bytes of stdout and stderr together past which it is stopped.
    var maxOutput: Int64? { get set }
    /// Seconds between SIGTERM and SIGKILL when its timeout or output cap stops it.
    var stopGrace: Double? { get set }
}

extension QueueFields {
    mutating func queueFields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.optional(13, &timeout)
        try coder.array(14, &after)
        try coder.array(15, &afterAny)
        try coder.optional(16, &notBefore)
        try coder.optional(17, &group)
        try coder.optional(18, &maxOutput)
        try coder.optional(19, &stopGrace)
    }

    /// The queue's options of another start.
    public mutating func takeQueue(from other: some QueueFields) {
        timeout = other.timeout
        after = other.after
        afterAny = other.afterAny
        notBefore = other.notBefore
        group = other.group
        maxOutput = other.maxOutput
        stopGrace = other.stopGrace
    }
}

/// `invoke`: a command on computers, one child each, in order; the queue's options too.
public struct InvokeRequest: AgentRequest, QueueFields {
    public typealias Reply = StartReply
    public static let verb = Verb.invoke
    public var command = ""
    public var name: String?
    public var workingDirectory = "/"
    /// `KEY=VALUE` entries: the local environment (ssh's), not the remote command's.
    public var environment: [String] = []
    public var umask = 0o022
    /// Whether a descriptor for every child's stdin is attached to the request frame.
    public var hasInput = false
    public var computers: [String] = []
    /// How many children run at once (0: no limit).
    public var throttleLimit = 0
    /// Extra options for ssh, each one argument.
    public var sshOptions: [String] = []
    /// The `--env` entries, the only local variables a remote command gets.
    public var remoteEnvironment: [String] = []
    /// Each remote child runs as a job in its computer's agent, mirrored here, and outlives a
    /// lost link; with `deploy`, this `job` is copied to each computer that lacks it.
    public var durable = false
    public var deploy = false
    /// The queue, as in `StartRequest`.
    public var timeout: Double?
    public var after: [Int] = []
    public var afterAny: [Int] = []
    public var notBefore: Date?
    public var group: String?
    public var maxOutput: Int64?
    public var stopGrace: Double?

    public init() {}

    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &command)
        try coder.optional(2, &name)
        try coder.value(3, &workingDirectory)
        try coder.array(4, &environment)
        try coder.value(5, &umask)
        try coder.value(6, &hasInput)
        try coder.array(7, &computers)
        try coder.value(8, &throttleLimit)
        try coder.array(9, &sshOptions)
        try coder.array(10, &remoteEnvironment)
        try coder.value(11, &durable)
        try coder.value(12, &deploy)
        try queueFields(&coder)
    }

    /// The same start as the agent works from it.
    public var start: StartRequest {
        var start = StartRequest(
            command: command, name: name, workingDirectory: workingDirectory, environment: environment,
            hasInput: hasInput, umask: umask)
        start.computers = computers
        start.throttleLimit = throttleLimit
        start.sshOptions = sshOptions
        start.remoteEnvironment = remoteEnvironment
        start.durable = durable
        start.deploy = deploy
        start.takeQueue(from: self)
        return start
    }
}

/// `start --session` and `invoke --session`: a command in sessions (Ids or names), one child
/// each, queued behind each session's earlier commands.
public struct SessionStartRequest: AgentRequest {
    public typealias Reply = StartReply
    public static let verb = Verb.sessionStart
    public var command = ""
    public var name: String?
    public var sessions: [String] = []
    /// A RemoteJob (`invoke --session`) rather than a BackgroundJob.
    public var asInvoke = false

    public init() {}
    public init(command: String, name: String?, sessions: [String], asInvoke: Bool) {
        self.command = command
        self.name = name
        self.sessions = sessions
        self.asInvoke = asInvoke
    }

    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &command)
        try coder.optional(2, &name)
        try coder.array(3, &sessions)
        try coder.value(4, &asInvoke)
    }

    /// The same start as the agent works from it.
    public var start: StartRequest {
        var start = StartRequest(command: command, name: name, workingDirectory: "", environment: [])
        start.sessions = sessions
        start.throttleLimit = asInvoke ? 32 : 0
        return start
    }
}

/// A start with queue options (`--timeout`, `--after`, `--group`...): the same fields under a
/// verb of its own, so that an agent older than the queue refuses it ("does not know the verb
/// 'startQueued'") instead of skipping the options and starting the job at once.
public struct QueuedStartRequest: AgentRequest {
    public typealias Reply = StartReply
    public static let verb = Verb.startQueued
    public var request = StartRequest()
    public init() {}
    public init(_ request: StartRequest) { self.request = request }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try request.fields(&coder)
    }
}

public struct StartReply: TaggedMessage {
    /// The new parent job.
    public var job = JobRecord()
    public init() {}
    public init(job: JobRecord) { self.job = job }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &job)
    }
}

public struct GetRequest: AgentRequest {
    public typealias Reply = JobsReply
    public static let verb = Verb.get
    public var selection = JobSelection()
    public var includeChildren = false
    public var childrenOf: String?
    public var command: String?
    public var hasMoreData: Bool?
    public var before: Date?
    public var after: Date?
    public var newest: Int?
    /// Jobs of this queue group (`default`: those started without `--group`).
    public var group: String?
    public init() {}
    public init(_ selection: JobSelection) { self.selection = selection }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &selection)
        try coder.value(2, &includeChildren)
        try coder.optional(3, &childrenOf)
        try coder.optional(4, &command)
        try coder.optional(5, &hasMoreData)
        try coder.optional(6, &before)
        try coder.optional(7, &after)
        try coder.optional(8, &newest)
        try coder.optional(9, &group)
    }
}

/// Jobs, and what went wrong with parts of the request (a selector that matched nothing, a job
/// that was refused); the rest was still carried out. The reply of `get`, `stop` and `remove`.
public struct JobsReply: TaggedMessage {
    public var jobs: [JobRecord] = []
    public var problems: [String] = []
    public init() {}
    public init(jobs: [JobRecord], problems: [String] = []) {
        self.jobs = jobs
        self.problems = problems
    }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &jobs)
        try coder.array(2, &problems)
    }
}

/// A `get` whose answer is read as table rows (`JobRowsReply`): the same verb and payload as
/// `GetRequest`, so the agent sees a `get`.
public struct GetRowsRequest: AgentRequest {
    public typealias Reply = JobRowsReply
    public static let verb = Verb.get
    public var request = GetRequest()
    public init() {}
    public init(_ request: GetRequest) { self.request = request }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try request.fields(&coder)
    }
}

/// A `JobsReply` read as table rows.
public struct JobRowsReply: TaggedMessage {
    public var jobs: [JobRow] = []
    public var problems: [String] = []
    public init() {}
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &jobs)
        try coder.array(2, &problems)
    }
}

public struct ReceiveRequest: AgentRequest {
    public typealias Reply = ReceiveReply
    public static let verb = Verb.receive
    public var selection = JobSelection()
    public var keep = false
    public var fromStart = false
    public var noRecurse = false
    public init() {}
    public init(_ selection: JobSelection) { self.selection = selection }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &selection)
        try coder.value(2, &keep)
        try coder.value(3, &fromStart)
        try coder.value(4, &noRecurse)
    }
}

public struct ReceiveReply: TaggedMessage {
    public var streams: [StreamGrant] = []
    public var problems: [String] = []
    /// The agent's change counter when the grants were made, for a following `waitEvent`.
    public var generation: UInt64 = 0
    public init() {}
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &streams)
        try coder.array(2, &problems)
        try coder.value(3, &generation)
    }
}

/// One child's output as the client is to read it: the files and where reading starts.
public struct StreamGrant: TaggedMessage {
    public var id = 0
    public var instanceId = ""
    public var name = ""
    public var computer = ""
    public var outputPath = ""
    public var errorPath = ""
    public var outputOffset: Int64 = 0
    public var errorOffset: Int64 = 0
    /// Where this reader's part ends (exclusive): the bytes from the offset to here are its
    /// alone, claimed for it by the agent. -1 with `keep`: to the end of the file.
    public var outputEnd: Int64 = -1
    public var errorEnd: Int64 = -1
    public var state = JobState.notStarted
    public var reason: String?
    public var exitStatus: Int?
    public var signal: Int?
    /// Whether its timeout stopped it (`receive --wait` then exits 124, as timeout(1) does).
    public var timedOut: Bool?
    /// How messages name it: by the job the user started (`build (Job1)`), with the child's
    /// computer and Id where that job has several (`Job1 on server02 (Job3)`).
    public var title: String?

    public init() {}

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

    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &id)
        try coder.value(2, &instanceId)
        try coder.value(3, &name)
        try coder.value(4, &computer)
        try coder.value(5, &outputPath)
        try coder.value(6, &errorPath)
        try coder.value(7, &outputOffset)
        try coder.value(8, &errorOffset)
        try coder.value(9, &outputEnd)
        try coder.value(10, &errorEnd)
        try coder.value(11, &state)
        try coder.optional(12, &reason)
        try coder.optional(13, &exitStatus)
        try coder.optional(14, &signal)
        try coder.optional(15, &timedOut)
        try coder.optional(16, &title)
    }
}

/// Where a client got to within the part of each child's streams it claimed (short of the end
/// when its reader went away, or a partial line was held back); the agent moves the read
/// positions back to there, if no one has claimed after it.
public struct AdvanceRequest: AgentRequest {
    public typealias Reply = EmptyReply
    public static let verb = Verb.advance
    public var advances: [ReadAdvance] = []
    public init() {}
    public init(_ advances: [ReadAdvance]) { self.advances = advances }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &advances)
    }
}

public struct ReadAdvance: TaggedMessage {
    public var instanceId = ""
    public var output: Int64 = 0
    public var error: Int64 = 0
    public init() {}
    public init(instanceId: String, output: Int64, error: Int64) {
        self.instanceId = instanceId
        self.output = output
        self.error = error
    }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &instanceId)
        try coder.value(2, &output)
        try coder.value(3, &error)
    }
}

/// The reply of a verb that returns nothing but its success.
public struct EmptyReply: TaggedMessage {
    public init() {}
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {}
}

public struct WaitRequest: AgentRequest {
    public typealias Reply = WaitReply
    public static let verb = Verb.wait
    public var selection = JobSelection()
    /// Until any one of the jobs finished, rather than all.
    public var any = false
    /// Seconds; nil waits for ever, 0 polls.
    public var timeout: Double?
    public init() {}
    public init(_ selection: JobSelection, any: Bool = false, timeout: Double? = nil) {
        self.selection = selection
        self.any = any
        self.timeout = timeout
    }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &selection)
        try coder.value(2, &any)
        try coder.optional(3, &timeout)
    }
}

/// The jobs waited for, as they are now; `timedOut` when the timeout passed first.
public struct WaitReply: TaggedMessage {
    public var jobs: [JobRecord] = []
    public var problems: [String] = []
    public var timedOut = false
    public init() {}
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &jobs)
        try coder.array(2, &problems)
        try coder.value(3, &timedOut)
    }
}

/// Blocks until anything changes after `generation`, or the timeout passes.
public struct WaitEventRequest: AgentRequest {
    public typealias Reply = WaitEventReply
    public static let verb = Verb.waitEvent
    public var generation: UInt64 = 0
    public var timeout: Double?
    public init() {}
    public init(after generation: UInt64, timeout: Double?) {
        self.generation = generation
        self.timeout = timeout
    }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &generation)
        try coder.optional(2, &timeout)
    }
}

public struct WaitEventReply: TaggedMessage {
    public var generation: UInt64 = 0
    public init() {}
    public init(generation: UInt64) { self.generation = generation }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &generation)
    }
}

public struct StopRequest: AgentRequest {
    public typealias Reply = JobsReply
    public static let verb = Verb.stop
    public var selection = JobSelection()
    /// Seconds between SIGTERM and SIGKILL.
    public var grace: Double = 5
    /// The signal sent first instead of SIGTERM (`stop --signal`).
    public var signal: Int?
    public init() {}
    public init(_ selection: JobSelection, grace: Double = 5, signal: Int? = nil) {
        self.selection = selection
        self.grace = grace
        self.signal = signal
    }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &selection)
        try coder.value(2, &grace)
        try coder.optional(3, &signal)
    }
}

/// `restart`: finished jobs run again, each with a new InstanceId and fresh output.
public struct RestartRequest: AgentRequest {
    public typealias Reply = JobsReply
    public static let verb = Verb.restart
    public var selection = JobSelection()
    /// Only the Failed and Stopped children, in place.
    public var failedOnly = false
    /// Keeps the earlier runs' output, listed under the job, instead of removing it.
    public var keepHistory = false
    public init() {}
    public init(_ selection: JobSelection, failedOnly: Bool = false, keepHistory: Bool = false) {
        self.selection = selection
        self.failedOnly = failedOnly
        self.keepHistory = keepHistory
    }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &selection)
        try coder.value(2, &failedOnly)
        try coder.value(3, &keepHistory)
    }
}

/// `suspend`: SIGSTOP to the running children's process groups; they are Suspended.
public struct SuspendRequest: AgentRequest {
    public typealias Reply = JobsReply
    public static let verb = Verb.suspend
    public var selection = JobSelection()
    public init() {}
    public init(_ selection: JobSelection) { self.selection = selection }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &selection)
    }
}

/// `rename`: a new Name for the one job the selection names (a job the user started, not a
/// child); the reply has it renamed, or a problem that says why not.
public struct RenameRequest: AgentRequest {
    public typealias Reply = JobsReply
    public static let verb = Verb.rename
    public var selection = JobSelection()
    public var name = ""
    public init() {}
    public init(_ selection: JobSelection, to name: String) {
        self.selection = selection
        self.name = name
    }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &selection)
        try coder.value(2, &name)
    }
}

/// `resume`: SIGCONT to the suspended children's process groups; they run again.
public struct ResumeRequest: AgentRequest {
    public typealias Reply = JobsReply
    public static let verb = Verb.resume
    public var selection = JobSelection()
    public init() {}
    public init(_ selection: JobSelection) { self.selection = selection }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &selection)
    }
}

/// `signal`: a signal to the unfinished children's process groups, which go on (a reload on
/// SIGHUP); finished jobs are refused.
public struct SignalRequest: AgentRequest {
    public typealias Reply = JobsReply
    public static let verb = Verb.signal
    public var selection = JobSelection()
    public var signal = 0
    public init() {}
    public init(_ selection: JobSelection, signal: Int) {
        self.selection = selection
        self.signal = signal
    }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &selection)
        try coder.value(2, &signal)
    }
}

public struct RemoveRequest: AgentRequest {
    public typealias Reply = JobsReply
    public static let verb = Verb.remove
    public var selection = JobSelection()
    /// Stops running jobs first instead of refusing them.
    public var force = false
    public var grace: Double = 5
    /// Only jobs that ended at least this many seconds ago (`--older-than`); with an empty
    /// selection, every such job.
    public var olderThan: Double?
    public init() {}
    public init(_ selection: JobSelection, force: Bool = false, grace: Double = 5, olderThan: Double? = nil) {
        self.selection = selection
        self.force = force
        self.grace = grace
        self.olderThan = olderThan
    }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &selection)
        try coder.value(2, &force)
        try coder.value(3, &grace)
        try coder.optional(4, &olderThan)
    }
}

/// Ends the agent after it answered; running jobs keep running.
public struct ShutdownRequest: AgentRequest {
    public typealias Reply = EmptyReply
    public static let verb = Verb.shutdown
    public init() {}
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {}
}

/// `session new`: one session per computer.
public struct SessionNewRequest: AgentRequest {
    public typealias Reply = SessionsReply
    public static let verb = Verb.sessionNew
    public var computers: [String] = []
    public var name: String?
    /// The shell to run (the same path on every computer).
    public var shell = "/bin/sh"
    public var sshOptions: [String] = []
    /// A local session starts here, with this environment (a remote one in its login's).
    public var workingDirectory = "/"
    public var environment: [String] = []
    /// The caller's umask, which a local session's shell gets.
    public var umask = 0o022
    public init() {}
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &computers)
        try coder.optional(2, &name)
        try coder.value(3, &shell)
        try coder.array(4, &sshOptions)
        try coder.value(5, &workingDirectory)
        try coder.array(6, &environment)
        try coder.value(7, &umask)
    }
}

public struct SessionGetRequest: AgentRequest {
    public typealias Reply = SessionsReply
    public static let verb = Verb.sessionGet
    /// Ids or names (shell wildcards); every session when empty.
    public var selectors: [String] = []
    public init() {}
    public init(_ selectors: [String]) { self.selectors = selectors }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &selectors)
    }
}

public struct SessionRemoveRequest: AgentRequest {
    public typealias Reply = SessionsReply
    public static let verb = Verb.sessionRemove
    public var selectors: [String] = []
    /// Closes a Busy session too, stopping its running command first.
    public var force = false
    public var grace: Double = 5
    public init() {}
    public init(_ selectors: [String], force: Bool = false, grace: Double = 5) {
        self.selectors = selectors
        self.force = force
        self.grace = grace
    }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &selectors)
        try coder.value(2, &force)
        try coder.value(3, &grace)
    }
}

/// Sessions, and the parts of the request that could not be done.
public struct SessionsReply: TaggedMessage {
    public var sessions: [SessionRecord] = []
    public var problems: [String] = []
    public init() {}
    public init(sessions: [SessionRecord], problems: [String] = []) {
        self.sessions = sessions
        self.problems = problems
    }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &sessions)
        try coder.array(2, &problems)
    }
}

/// The reply of `status`.
public struct AgentStatus: TaggedMessage {
    public var pid = 0
    public var socket = ""
    public var home = ""
    /// The agent's product version.
    public var version = ""
    public var protocolVersion = 0
    /// How many jobs (parents and children) are in each state.
    public var jobs: [String: Int] = [:]
    public var startTime = Date(timeIntervalSince1970: 0)
    /// What the agent found wrong at its start and did about it (a damaged store set aside,
    /// files of jobs the store does not know moved to `jobs/lost+found`), for a person to read.
    public var notices: [String] = []

    public init() {}

    public init(
        pid: Int, socket: String, home: String, version: String, protocolVersion: Int, jobs: [String: Int],
        startTime: Date, notices: [String] = []
    ) {
        self.notices = notices
        self.pid = pid
        self.socket = socket
        self.home = home
        self.version = version
        self.protocolVersion = protocolVersion
        self.jobs = jobs
        self.startTime = startTime
    }

    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &pid)
        try coder.value(2, &socket)
        try coder.value(3, &home)
        try coder.value(4, &version)
        try coder.value(5, &protocolVersion)
        var counts = jobs.sorted { $0.key < $1.key }.map { StateCount(state: $0.key, count: $0.value) }
        try coder.array(6, &counts)
        jobs = Dictionary(counts.map { ($0.state, $0.count) }, uniquingKeysWith: { first, _ in first })
        try coder.value(7, &startTime)
        try coder.array(8, &notices)
    }
}

struct StateCount: TaggedMessage {
    var state = ""
    var count = 0
    init() {}
    init(state: String, count: Int) {
        self.state = state
        self.count = count
    }
    mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &state)
        try coder.value(2, &count)
    }
}

// MARK: - Types of the core

extension JobState: NamedFieldValue {}
extension SessionState: NamedFieldValue {}
extension SessionAvailability: NamedFieldValue {}

extension JobSelection: TaggedMessage {
    public init() { self.init(selectors: []) }

    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &selectors)
        try coder.array(2, &names)
        try coder.array(3, &states)
        try coder.value(4, &all)
    }
}

extension JobRecord: TaggedMessage {
    public init() {
        self.init(
            id: 0, name: "", instanceId: "", type: "", state: .notStarted, hasMoreData: false, location: "",
            command: "", workingDirectory: "")
    }

    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &id)
        try coder.optional(2, &parentId)
        try coder.array(3, &childIds)
        try coder.value(4, &name)
        try coder.value(5, &instanceId)
        try coder.value(6, &type)
        try coder.value(7, &state)
        try coder.value(8, &hasMoreData)
        try coder.value(9, &location)
        try coder.value(10, &command)
        try coder.value(11, &workingDirectory)
        try coder.optional(12, &reason)
        try coder.optional(13, &exitStatus)
        try coder.optional(14, &signal)
        try coder.optional(15, &pid)
        try coder.optional(16, &beginTime)
        try coder.optional(17, &endTime)
        try coder.optional(18, &computer)
        try coder.optional(19, &group)
        try coder.optional(20, &timeout)
        try coder.array(21, &after)
        try coder.array(22, &afterAny)
        try coder.optional(23, &startAt)
        try coder.optional(24, &maxOutput)
        try coder.optional(25, &restarts)
        try coder.array(26, &history)
        try coder.optional(27, &stateChanges)
    }
}

/// A job's table row, read from the bytes of its `JobRecord`: the same tags, and the fields a
/// row does not show are skipped unread.
extension JobRow: TaggedMessage {
    public init() {
        self.init(id: 0, name: "", type: "", state: .notStarted, hasMoreData: false, location: "", command: "")
    }

    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &id)
        try coder.value(4, &name)
        try coder.value(6, &type)
        try coder.value(7, &state)
        try coder.value(8, &hasMoreData)
        try coder.value(9, &location)
        try coder.value(10, &command)
        try coder.optional(18, &computer)
    }
}

extension SessionRecord: TaggedMessage {
    public init() {
        self.init(id: 0, name: "", computerName: "", state: .opened, availability: .available, jobCount: 0, shell: "")
    }

    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &id)
        try coder.value(2, &name)
        try coder.value(3, &computerName)
        try coder.value(4, &state)
        try coder.value(5, &availability)
        try coder.value(6, &jobCount)
        try coder.value(7, &shell)
        try coder.optional(8, &reason)
    }
}

// MARK: - Replies from bytes encoded before

/// Elements encoded before (each in its own form, length first), written as one array field:
/// the bytes of an array of those elements. What lets the agent answer a `get` of every job by
/// copying each record's bytes, kept since it last changed.
public struct PreEncoded: FieldValue, Equatable {
    /// Each element's bytes; written one after the other, straight into the frame.
    public var elements: [[UInt8]]

    public init(elements: [[UInt8]]) { self.elements = elements }

    public static var kind: FieldKind { .bytes }
    public func encode(into encoder: inout WireEncoder) {
        encoder.reserve(elements.reduce(0) { $0 + $1.count } + 64)
        encoder.lengthPrefixed { encoder in
            for element in elements { encoder.raw(element) }
        }
    }
    /// Read back as one element of all the bytes (only the agent writes these; a client reads
    /// the field as the array it is).
    public static func decode(from decoder: inout WireDecoder) throws(Malformed) -> PreEncoded {
        PreEncoded(elements: [Array(decoder.slice(try decoder.lengthPrefixed()))])
    }
}

/// A `JobsReply` whose records were encoded before: the same bytes, read as a `JobsReply`.
public struct EncodedJobsReply: TaggedMessage {
    public var jobs: PreEncoded?
    public var problems: [String] = []
    public init() {}
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.optional(1, &jobs)
        try coder.array(2, &problems)
    }
}

// MARK: - Queue groups

/// One queue group: its settings and what runs and waits in it.
public struct GroupRecord: TaggedMessage, Equatable {
    public var name = ""
    /// At most this many of its children run at once; 0: no limit.
    public var limit = 0
    /// Nothing new starts while paused; what runs goes on.
    public var paused = false
    public var running = 0
    public var queued = 0

    public init() {}

    public init(name: String, limit: Int, paused: Bool, running: Int, queued: Int) {
        self.name = name
        self.limit = limit
        self.paused = paused
        self.running = running
        self.queued = queued
    }

    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &name)
        try coder.value(2, &limit)
        try coder.value(3, &paused)
        try coder.value(4, &running)
        try coder.value(5, &queued)
    }
}

public struct GroupsReply: TaggedMessage {
    public var groups: [GroupRecord] = []
    public var problems: [String] = []
    public init() {}
    public init(groups: [GroupRecord], problems: [String] = []) {
        self.groups = groups
        self.problems = problems
    }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &groups)
        try coder.array(2, &problems)
    }
}

/// `group set`, `group pause`, `group resume`: changes what is given of groups' settings
/// (making the groups when new) and replies with them.
public struct GroupSetRequest: AgentRequest {
    public typealias Reply = GroupsReply
    public static let verb = Verb.groupSet
    public var names: [String] = []
    public var limit: Int?
    public var paused: Bool?
    public init() {}
    public init(_ names: [String], limit: Int? = nil, paused: Bool? = nil) {
        self.names = names
        self.limit = limit
        self.paused = paused
    }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &names)
        try coder.optional(2, &limit)
        try coder.optional(3, &paused)
    }
}

/// `group get`: these groups, or every group that has settings or jobs (and `default`).
public struct GroupGetRequest: AgentRequest {
    public typealias Reply = GroupsReply
    public static let verb = Verb.groupGet
    public var names: [String] = []
    public init() {}
    public init(_ names: [String]) { self.names = names }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &names)
    }
}

/// `group remove`: forgets empty groups' settings; replies with the groups removed.
public struct GroupRemoveRequest: AgentRequest {
    public typealias Reply = GroupsReply
    public static let verb = Verb.groupRemove
    public var names: [String] = []
    public init() {}
    public init(_ names: [String]) { self.names = names }
    public mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &names)
    }
}
