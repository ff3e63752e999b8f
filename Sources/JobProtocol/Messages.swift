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
package protocol AgentRequest: TaggedMessage {
    associatedtype Reply: TaggedMessage
    static var verb: Verb { get }
    /// The capabilities this request uses beyond what its verb always had (`Capability`): an
    /// agent that lacks one refuses the request instead of skipping the fields it does not
    /// know. Empty for most.
    var needs: [String] { get }
}

extension AgentRequest {
    package var needs: [String] { [] }
}

/// The rule for versions: a request never asks for something an agent may silently skip.
/// What an agent of an older protocol cannot do either comes under a verb of its own (which
/// such an agent refuses as unknown: `startQueued`, `invoke`, `sessionStart`), or is named in
/// the request's `needs` (header field 5), which an agent checks against `known` and refuses
/// when it lacks one. Fields that only add to what is shown (a reply's new field) need neither.
package enum Capability {
    /// A start that names its parent's InstanceId (the remote side of a durable link).
    package static let instanceId = "instanceId"
    /// Every capability this agent has.
    package static let known: Set<String> = [instanceId]
}

/// The verbs an agent answers. A name the agent does not know (a newer client's verb) gets a
/// `Failure` with the code `unknownVerb` that names both sides' versions.
package enum Verb: String, Sendable, CaseIterable, NamedFieldValue {
    case status, start, get, receive, advance, wait, waitEvent, stop, remove, shutdown
    case sessionNew, sessionGet, sessionRemove
    case groupSet, groupGet, groupRemove
    case suspend, resume, signal, restart
    case startQueued
    case rename
    case invoke, sessionStart
    case schedulerStart

    /// The verb's request type (whose `Reply` is the verb's reply type). A new verb is a case
    /// above, its line here, and its request and reply types below.
    package var requestType: any AgentRequest.Type {
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
        case .schedulerStart: SchedulerStartRequest.self
        }
    }
}

// MARK: - Requests

package struct StatusRequest: AgentRequest {
    package typealias Reply = AgentStatus
    package static let verb = Verb.status
    package init() {}
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {}
}

/// `start`: a local job. Clients of protocol 6 and earlier sent `invoke` (with `computers`,
/// fields 8 to 11, 21 and 22) and `start --session` (with `sessions`, field 12) as this verb
/// too: an agent still reads those fields, and the agent's start works from this type for all
/// three. A client of protocol 7 sends `InvokeRequest` and `SessionStartRequest`, which an
/// older agent refuses instead of starting a remote command here.
package struct StartRequest: AgentRequest, QueueFields {
    package typealias Reply = StartReply
    package static let verb = Verb.start
    /// The command text as the job shows it.
    package var command = ""
    package var name: String?
    package var workingDirectory = "/"
    /// `KEY=VALUE` entries, the whole environment of the job.
    package var environment: [String] = []
    package var shell = "/bin/sh"
    /// Whether a descriptor for the job's stdin is attached to the request frame.
    package var hasInput = false
    /// The caller's file mode creation mask, which the job gets.
    package var umask = 0o022
    /// For `invoke`: the computers to run on, one child each, in order (empty for `start`).
    package var computers: [String] = []
    /// For `invoke`: how many children run at once (0: no limit).
    package var throttleLimit = 0
    /// For `invoke`: extra options for ssh, each one argument.
    package var sshOptions: [String] = []
    /// For `invoke`: the `--env` entries, the only local variables a remote command gets.
    package var remoteEnvironment: [String] = []
    /// For `start --session` and `invoke --session`: the sessions to run in (Ids or names), one
    /// child each, in order.
    package var sessions: [String] = []
    /// The queue (all optional): seconds it may run, jobs it waits for (ended Completed, or
    /// ended in any way), when it may start at the earliest, and its group.
    package var timeout: Double?
    package var after: [Int] = []
    package var afterAny: [Int] = []
    package var notBefore: Date?
    package var group: String?
    /// Bytes of stdout and stderr together past which the job is stopped.
    package var maxOutput: Int64?
    /// Seconds between SIGTERM and SIGKILL when its timeout or output cap stops it.
    package var stopGrace: Double?
    /// The parent's InstanceId, when the caller chooses it: a start that names one a job
    /// already has answers with that job instead (a durable child's remote job, started again
    /// after a lost answer, is not started twice).
    package var instanceId: String?
    /// For `invoke --durable`: each remote child runs as a job in its computer's agent,
    /// mirrored here, and outlives a lost link.
    package var durable = false
    /// For `invoke --deploy`: durable, and this `job` is copied to each computer that lacks it.
    package var deploy = false
    /// For `invoke --scheduler` with computers: each computer's agent submits the command to
    /// this scheduler (`slurm`), with these options of its own; the children are durable.
    package var scheduler: String?
    package var schedulerOptions: [String] = []

    package init() {}

    package init(
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

    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
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
        try coder.optional(23, &scheduler)
        try coder.array(24, &schedulerOptions)
    }

    package var needs: [String] { instanceId == nil ? [] : [Capability.instanceId] }
}

/// The queue's options of a start or an invoke, fields 13 to 19 of both.
package protocol QueueFields {
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
    package mutating func takeQueue(from other: some QueueFields) {
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
package struct InvokeRequest: AgentRequest, QueueFields {
    package typealias Reply = StartReply
    package static let verb = Verb.invoke
    package var command = ""
    package var name: String?
    package var workingDirectory = "/"
    /// `KEY=VALUE` entries: the local environment (ssh's), not the remote command's.
    package var environment: [String] = []
    package var umask = 0o022
    /// Whether a descriptor for every child's stdin is attached to the request frame.
    package var hasInput = false
    package var computers: [String] = []
    /// How many children run at once (0: no limit).
    package var throttleLimit = 0
    /// Extra options for ssh, each one argument.
    package var sshOptions: [String] = []
    /// The `--env` entries, the only local variables a remote command gets.
    package var remoteEnvironment: [String] = []
    /// Each remote child runs as a job in its computer's agent, mirrored here, and outlives a
    /// lost link; with `deploy`, this `job` is copied to each computer that lacks it.
    package var durable = false
    package var deploy = false
    /// The queue, as in `StartRequest`.
    package var timeout: Double?
    package var after: [Int] = []
    package var afterAny: [Int] = []
    package var notBefore: Date?
    package var group: String?
    package var maxOutput: Int64?
    package var stopGrace: Double?
    /// Each computer's agent submits the command to this scheduler (`slurm`), with these
    /// options of its own (`invoke --computer X --scheduler slurm`); the children are durable.
    package var scheduler: String?
    package var schedulerOptions: [String] = []

    package init() {}

    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
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
        try coder.optional(23, &scheduler)
        try coder.array(24, &schedulerOptions)
    }

    /// The same start as the agent works from it.
    package var start: StartRequest {
        var start = StartRequest(
            command: command, name: name, workingDirectory: workingDirectory, environment: environment,
            hasInput: hasInput, umask: umask)
        start.computers = computers
        start.throttleLimit = throttleLimit
        start.sshOptions = sshOptions
        start.remoteEnvironment = remoteEnvironment
        start.durable = durable
        start.deploy = deploy
        start.scheduler = scheduler
        start.schedulerOptions = schedulerOptions
        start.takeQueue(from: self)
        return start
    }
}

/// `start --session` and `invoke --session`: a command in sessions (Ids or names), one child
/// each, queued behind each session's earlier commands.
package struct SessionStartRequest: AgentRequest {
    package typealias Reply = StartReply
    package static let verb = Verb.sessionStart
    package var command = ""
    package var name: String?
    package var sessions: [String] = []
    /// A RemoteJob (`invoke --session`) rather than a BackgroundJob.
    package var asInvoke = false

    package init() {}
    package init(command: String, name: String?, sessions: [String], asInvoke: Bool) {
        self.command = command
        self.name = name
        self.sessions = sessions
        self.asInvoke = asInvoke
    }

    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &command)
        try coder.optional(2, &name)
        try coder.array(3, &sessions)
        try coder.value(4, &asInvoke)
    }

    /// The same start as the agent works from it.
    package var start: StartRequest {
        var start = StartRequest(command: command, name: name, workingDirectory: "", environment: [])
        start.sessions = sessions
        start.throttleLimit = asInvoke ? 32 : 0
        return start
    }
}

/// `start --scheduler slurm`: a command submitted to a cluster scheduler, as one batch job or an
/// array of `tasks` tasks (at most `throttle` at once), one child each.
package struct SchedulerStartRequest: AgentRequest {
    package typealias Reply = StartReply
    package static let verb = Verb.schedulerStart
    package var command = ""
    package var name: String?
    package var workingDirectory = "/"
    /// The job's environment (`KEY=VALUE`): sbatch exports all of it.
    package var environment: [String] = []
    package var umask = 0o022
    /// `slurm`, the one scheduler so far.
    package var scheduler = "slurm"
    /// An array of this many tasks; 0: one batch job.
    package var tasks = 0
    /// At most this many tasks at once (0: no limit).
    package var throttle = 0
    /// The scheduler's own options (`--sbatch-option`), each one argument.
    package var options: [String] = []
    /// Seconds it may run (the scheduler's time limit).
    package var timeout: Double?
    /// Jobs it runs after: ended Completed (`--after`), or ended in any way (`--after-any`).
    package var after: [Int] = []
    package var afterAny: [Int] = []
    /// A descriptor comes with the request: the job's stdin, a copy the client made in the jobs
    /// folder (the scheduler starts it later, on a node that reads the file there).
    package var hasInput = false
    /// The queue group it is filed under (listing and selection; the scheduler runs it in its
    /// own order).
    package var group: String?
    /// The parent's InstanceId, when the caller chooses it (a durable child's remote job): a
    /// start that names one a job already has answers with that job, submitting nothing.
    package var instanceId: String?

    package init() {}

    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &command)
        try coder.optional(2, &name)
        try coder.value(3, &workingDirectory)
        try coder.array(4, &environment)
        try coder.value(5, &umask)
        try coder.value(6, &scheduler)
        try coder.value(7, &tasks)
        try coder.value(8, &throttle)
        try coder.array(9, &options)
        try coder.optional(10, &timeout)
        try coder.array(11, &after)
        try coder.array(12, &afterAny)
        try coder.value(13, &hasInput)
        try coder.optional(14, &group)
        try coder.optional(15, &instanceId)
    }
}

/// A start with queue options (`--timeout`, `--after`, `--group`...): the same fields under a
/// verb of its own, so that an agent older than the queue refuses it ("does not know the verb
/// 'startQueued'") instead of skipping the options and starting the job at once.
package struct QueuedStartRequest: AgentRequest {
    package typealias Reply = StartReply
    package static let verb = Verb.startQueued
    package var request = StartRequest()
    package init() {}
    package init(_ request: StartRequest) { self.request = request }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try request.fields(&coder)
    }
}

package struct StartReply: TaggedMessage {
    /// The new parent job.
    package var job = JobRecord()
    package init() {}
    package init(job: JobRecord) { self.job = job }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &job)
    }
}

package struct GetRequest: AgentRequest {
    package typealias Reply = JobsReply
    package static let verb = Verb.get
    package var selection = JobSelection()
    package var includeChildren = false
    package var childrenOf: String?
    package var command: String?
    package var hasMoreData: Bool?
    package var before: Date?
    package var after: Date?
    package var newest: Int?
    /// Jobs of this queue group (`default`: those started without `--group`).
    package var group: String?
    package init() {}
    package init(_ selection: JobSelection) { self.selection = selection }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
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
package struct JobsReply: TaggedMessage {
    package var jobs: [JobRecord] = []
    package var problems: [String] = []
    package init() {}
    package init(jobs: [JobRecord], problems: [String] = []) {
        self.jobs = jobs
        self.problems = problems
    }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &jobs)
        try coder.array(2, &problems)
    }
}

/// A `get` whose answer is read as table rows (`JobRowsReply`): the same verb and payload as
/// `GetRequest`, so the agent sees a `get`.
package struct GetRowsRequest: AgentRequest {
    package typealias Reply = JobRowsReply
    package static let verb = Verb.get
    package var request = GetRequest()
    package init() {}
    package init(_ request: GetRequest) { self.request = request }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try request.fields(&coder)
    }
}

/// A `JobsReply` read as table rows.
package struct JobRowsReply: TaggedMessage {
    package var jobs: [JobRow] = []
    package var problems: [String] = []
    package init() {}
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &jobs)
        try coder.array(2, &problems)
    }
}

package struct ReceiveRequest: AgentRequest {
    package typealias Reply = ReceiveReply
    package static let verb = Verb.receive
    package var selection = JobSelection()
    package var keep = false
    package var fromStart = false
    package var noRecurse = false
    package init() {}
    package init(_ selection: JobSelection) { self.selection = selection }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &selection)
        try coder.value(2, &keep)
        try coder.value(3, &fromStart)
        try coder.value(4, &noRecurse)
    }
}

package struct ReceiveReply: TaggedMessage {
    package var streams: [StreamGrant] = []
    package var problems: [String] = []
    /// The agent's change counter when the grants were made, for a following `waitEvent`.
    package var generation: UInt64 = 0
    package init() {}
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &streams)
        try coder.array(2, &problems)
        try coder.value(3, &generation)
    }
}

/// One child's output as the client is to read it: the files and where reading starts.
package struct StreamGrant: TaggedMessage {
    package var id = 0
    package var instanceId = ""
    package var name = ""
    package var computer = ""
    package var outputPath = ""
    package var errorPath = ""
    package var outputOffset: Int64 = 0
    package var errorOffset: Int64 = 0
    /// Where this reader's part ends (exclusive): the bytes from the offset to here are its
    /// alone, claimed for it by the agent. -1 with `keep`: to the end of the file.
    package var outputEnd: Int64 = -1
    package var errorEnd: Int64 = -1
    package var state = JobState.notStarted
    package var reason: String?
    package var exitStatus: Int?
    package var signal: Int?
    /// Whether its timeout stopped it (`receive --wait` then exits 124, as timeout(1) does).
    package var timedOut: Bool?
    /// How messages name it: by the job the user started (`build (Job1)`), with the child's
    /// computer and Id where that job has several (`Job1 on server02 (Job3)`).
    package var title: String?
    /// A child a cluster scheduler runs: its id there (`42_3`), by which its lines are tagged.
    package var schedulerJobId: String?

    package init() {}

    package init(
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

    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
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
        try coder.optional(17, &schedulerJobId)
    }
}

/// Where a client got to within the part of each child's streams it claimed (short of the end
/// when its reader went away, or a partial line was held back); the agent moves the read
/// positions back to there, if no one has claimed after it.
package struct AdvanceRequest: AgentRequest {
    package typealias Reply = EmptyReply
    package static let verb = Verb.advance
    package var advances: [ReadAdvance] = []
    package init() {}
    package init(_ advances: [ReadAdvance]) { self.advances = advances }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &advances)
    }
}

package struct ReadAdvance: TaggedMessage {
    package var instanceId = ""
    package var output: Int64 = 0
    package var error: Int64 = 0
    package init() {}
    package init(instanceId: String, output: Int64, error: Int64) {
        self.instanceId = instanceId
        self.output = output
        self.error = error
    }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &instanceId)
        try coder.value(2, &output)
        try coder.value(3, &error)
    }
}

/// The reply of a verb that returns nothing but its success.
package struct EmptyReply: TaggedMessage {
    package init() {}
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {}
}

package struct WaitRequest: AgentRequest {
    package typealias Reply = WaitReply
    package static let verb = Verb.wait
    package var selection = JobSelection()
    /// Until any one of the jobs finished, rather than all.
    package var any = false
    /// Seconds; nil waits for ever, 0 polls.
    package var timeout: Double?
    package init() {}
    package init(_ selection: JobSelection, any: Bool = false, timeout: Double? = nil) {
        self.selection = selection
        self.any = any
        self.timeout = timeout
    }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &selection)
        try coder.value(2, &any)
        try coder.optional(3, &timeout)
    }
}

/// The jobs waited for, as they are now; `timedOut` when the timeout passed first.
package struct WaitReply: TaggedMessage {
    package var jobs: [JobRecord] = []
    package var problems: [String] = []
    package var timedOut = false
    package init() {}
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &jobs)
        try coder.array(2, &problems)
        try coder.value(3, &timedOut)
    }
}

/// Blocks until anything changes after `generation`, or the timeout passes.
package struct WaitEventRequest: AgentRequest {
    package typealias Reply = WaitEventReply
    package static let verb = Verb.waitEvent
    package var generation: UInt64 = 0
    package var timeout: Double?
    package init() {}
    package init(after generation: UInt64, timeout: Double?) {
        self.generation = generation
        self.timeout = timeout
    }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &generation)
        try coder.optional(2, &timeout)
    }
}

package struct WaitEventReply: TaggedMessage {
    package var generation: UInt64 = 0
    package init() {}
    package init(generation: UInt64) { self.generation = generation }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &generation)
    }
}

package struct StopRequest: AgentRequest {
    package typealias Reply = JobsReply
    package static let verb = Verb.stop
    package var selection = JobSelection()
    /// Seconds between SIGTERM and SIGKILL.
    package var grace: Double = 5
    /// The signal sent first instead of SIGTERM (`stop --signal`).
    package var signal: Int?
    package init() {}
    package init(_ selection: JobSelection, grace: Double = 5, signal: Int? = nil) {
        self.selection = selection
        self.grace = grace
        self.signal = signal
    }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &selection)
        try coder.value(2, &grace)
        try coder.optional(3, &signal)
    }
}

/// `restart`: finished jobs run again, each with a new InstanceId and fresh output.
package struct RestartRequest: AgentRequest {
    package typealias Reply = JobsReply
    package static let verb = Verb.restart
    package var selection = JobSelection()
    /// Only the Failed and Stopped children, in place.
    package var failedOnly = false
    /// Keeps the earlier runs' output, listed under the job, instead of removing it.
    package var keepHistory = false
    package init() {}
    package init(_ selection: JobSelection, failedOnly: Bool = false, keepHistory: Bool = false) {
        self.selection = selection
        self.failedOnly = failedOnly
        self.keepHistory = keepHistory
    }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &selection)
        try coder.value(2, &failedOnly)
        try coder.value(3, &keepHistory)
    }
}

/// `suspend`: SIGSTOP to the running children's process groups; they are Suspended.
package struct SuspendRequest: AgentRequest {
    package typealias Reply = JobsReply
    package static let verb = Verb.suspend
    package var selection = JobSelection()
    package init() {}
    package init(_ selection: JobSelection) { self.selection = selection }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &selection)
    }
}

/// `rename`: a new Name for the one job the selection names (a job the user started, not a
/// child); the reply has it renamed, or a problem that says why not.
package struct RenameRequest: AgentRequest {
    package typealias Reply = JobsReply
    package static let verb = Verb.rename
    package var selection = JobSelection()
    package var name = ""
    package init() {}
    package init(_ selection: JobSelection, to name: String) {
        self.selection = selection
        self.name = name
    }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &selection)
        try coder.value(2, &name)
    }
}

/// `resume`: SIGCONT to the suspended children's process groups; they run again.
package struct ResumeRequest: AgentRequest {
    package typealias Reply = JobsReply
    package static let verb = Verb.resume
    package var selection = JobSelection()
    package init() {}
    package init(_ selection: JobSelection) { self.selection = selection }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &selection)
    }
}

/// `signal`: a signal to the unfinished children's process groups, which go on (a reload on
/// SIGHUP); finished jobs are refused.
package struct SignalRequest: AgentRequest {
    package typealias Reply = JobsReply
    package static let verb = Verb.signal
    package var selection = JobSelection()
    package var signal = 0
    package init() {}
    package init(_ selection: JobSelection, signal: Int) {
        self.selection = selection
        self.signal = signal
    }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &selection)
        try coder.value(2, &signal)
    }
}

package struct RemoveRequest: AgentRequest {
    package typealias Reply = JobsReply
    package static let verb = Verb.remove
    package var selection = JobSelection()
    /// Stops running jobs first instead of refusing them.
    package var force = false
    package var grace: Double = 5
    /// Only jobs that ended at least this many seconds ago (`--older-than`); with an empty
    /// selection, every such job.
    package var olderThan: Double?
    package init() {}
    package init(_ selection: JobSelection, force: Bool = false, grace: Double = 5, olderThan: Double? = nil) {
        self.selection = selection
        self.force = force
        self.grace = grace
        self.olderThan = olderThan
    }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &selection)
        try coder.value(2, &force)
        try coder.value(3, &grace)
        try coder.optional(4, &olderThan)
    }
}

/// Ends the agent after it answered; running jobs keep running.
package struct ShutdownRequest: AgentRequest {
    package typealias Reply = EmptyReply
    package static let verb = Verb.shutdown
    package init() {}
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {}
}

/// `session new`: one session per computer.
package struct SessionNewRequest: AgentRequest {
    package typealias Reply = SessionsReply
    package static let verb = Verb.sessionNew
    package var computers: [String] = []
    package var name: String?
    /// The shell to run (the same path on every computer).
    package var shell = "/bin/sh"
    package var sshOptions: [String] = []
    /// A local session starts here, with this environment (a remote one in its login's).
    package var workingDirectory = "/"
    package var environment: [String] = []
    /// The caller's umask, which a local session's shell gets.
    package var umask = 0o022
    package init() {}
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &computers)
        try coder.optional(2, &name)
        try coder.value(3, &shell)
        try coder.array(4, &sshOptions)
        try coder.value(5, &workingDirectory)
        try coder.array(6, &environment)
        try coder.value(7, &umask)
    }
}

package struct SessionGetRequest: AgentRequest {
    package typealias Reply = SessionsReply
    package static let verb = Verb.sessionGet
    /// Ids or names (shell wildcards); every session when empty.
    package var selectors: [String] = []
    package init() {}
    package init(_ selectors: [String]) { self.selectors = selectors }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &selectors)
    }
}

package struct SessionRemoveRequest: AgentRequest {
    package typealias Reply = SessionsReply
    package static let verb = Verb.sessionRemove
    package var selectors: [String] = []
    /// Closes a Busy session too, stopping its running command first.
    package var force = false
    package var grace: Double = 5
    package init() {}
    package init(_ selectors: [String], force: Bool = false, grace: Double = 5) {
        self.selectors = selectors
        self.force = force
        self.grace = grace
    }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &selectors)
        try coder.value(2, &force)
        try coder.value(3, &grace)
    }
}

/// Sessions, and the parts of the request that could not be done.
package struct SessionsReply: TaggedMessage {
    package var sessions: [SessionRecord] = []
    package var problems: [String] = []
    package init() {}
    package init(sessions: [SessionRecord], problems: [String] = []) {
        self.sessions = sessions
        self.problems = problems
    }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
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

    package init() {}

    package init(
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

    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
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

    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &selectors)
        try coder.array(2, &names)
        try coder.array(3, &states)
        try coder.value(4, &all)
    }
}

extension JobRecord: TaggedMessage {
    package init() {
        self.init(
            id: 0, name: "", instanceId: "", type: "", state: .notStarted, hasMoreData: false, location: "",
            command: "", workingDirectory: "")
    }

    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
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
        try coder.optional(28, &schedulerJobId)
    }
}

/// A job's table row, read from the bytes of its `JobRecord`: the same tags, and the fields a
/// row does not show are skipped unread.
extension JobRow: TaggedMessage {
    package init() {
        self.init(id: 0, name: "", type: "", state: .notStarted, hasMoreData: false, location: "", command: "")
    }

    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
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
    package init() {
        self.init(id: 0, name: "", computerName: "", state: .opened, availability: .available, jobCount: 0, shell: "")
    }

    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
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
package struct PreEncoded: FieldValue, Equatable {
    /// Each element's bytes; written one after the other, straight into the frame.
    package var elements: [[UInt8]]

    package init(elements: [[UInt8]]) { self.elements = elements }

    package static var kind: FieldKind { .bytes }
    package func encode(into encoder: inout WireEncoder) {
        encoder.reserve(elements.reduce(0) { $0 + $1.count } + 64)
        encoder.lengthPrefixed { encoder in
            for element in elements { encoder.raw(element) }
        }
    }
    /// Read back as one element of all the bytes (only the agent writes these; a client reads
    /// the field as the array it is).
    package static func decode(from decoder: inout WireDecoder) throws(Malformed) -> PreEncoded {
        PreEncoded(elements: [Array(decoder.slice(try decoder.lengthPrefixed()))])
    }
}

/// A `JobsReply` whose records were encoded before: the same bytes, read as a `JobsReply`.
package struct EncodedJobsReply: TaggedMessage {
    package var jobs: PreEncoded?
    package var problems: [String] = []
    package init() {}
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.optional(1, &jobs)
        try coder.array(2, &problems)
    }
}

// MARK: - Queue groups

/// One queue group: its settings and what runs and waits in it.
package struct GroupRecord: TaggedMessage, Equatable {
    package var name = ""
    /// At most this many of its children run at once; 0: no limit.
    package var limit = 0
    /// Nothing new starts while paused; what runs goes on.
    package var paused = false
    package var running = 0
    package var queued = 0

    package init() {}

    package init(name: String, limit: Int, paused: Bool, running: Int, queued: Int) {
        self.name = name
        self.limit = limit
        self.paused = paused
        self.running = running
        self.queued = queued
    }

    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &name)
        try coder.value(2, &limit)
        try coder.value(3, &paused)
        try coder.value(4, &running)
        try coder.value(5, &queued)
    }
}

package struct GroupsReply: TaggedMessage {
    package var groups: [GroupRecord] = []
    package var problems: [String] = []
    package init() {}
    package init(groups: [GroupRecord], problems: [String] = []) {
        self.groups = groups
        self.problems = problems
    }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &groups)
        try coder.array(2, &problems)
    }
}

/// `group set`, `group pause`, `group resume`: changes what is given of groups' settings
/// (making the groups when new) and replies with them.
package struct GroupSetRequest: AgentRequest {
    package typealias Reply = GroupsReply
    package static let verb = Verb.groupSet
    package var names: [String] = []
    package var limit: Int?
    package var paused: Bool?
    package init() {}
    package init(_ names: [String], limit: Int? = nil, paused: Bool? = nil) {
        self.names = names
        self.limit = limit
        self.paused = paused
    }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &names)
        try coder.optional(2, &limit)
        try coder.optional(3, &paused)
    }
}

/// `group get`: these groups, or every group that has settings or jobs (and `default`).
package struct GroupGetRequest: AgentRequest {
    package typealias Reply = GroupsReply
    package static let verb = Verb.groupGet
    package var names: [String] = []
    package init() {}
    package init(_ names: [String]) { self.names = names }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &names)
    }
}

/// `group remove`: forgets empty groups' settings; replies with the groups removed.
package struct GroupRemoveRequest: AgentRequest {
    package typealias Reply = GroupsReply
    package static let verb = Verb.groupRemove
    package var names: [String] = []
    package init() {}
    package init(_ names: [String]) { self.names = names }
    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.array(1, &names)
    }
}
