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

import JobClient
import JobCore
import JobProtocol
import JobRemote

#if canImport(Glibc)
    import Glibc
#endif

/// `job __attach INSTANCEID OUTPUT-FROM ERROR-FROM [--stop GRACE SIGNAL] [--start [--input]
/// [--scheduler NAME [--sbatch-option OPT]...] [--env K=V]... -- COMMAND]`: the remote end of a durable child (`invoke --durable`), run over ssh by the
/// local agent. Not for people; not in the help.
///
/// It starts the job in this computer's agent with the child's InstanceId when `--start` says
/// so and no job has it yet (with `--scheduler`, that agent submits it to the scheduler), delivers a pending stop, then writes the job's output from the
/// given read positions, its status when it changes, and its end as `MirrorFrame`s on stdout.
/// It reads commands from stdin, one per line: `stop GRACE SIGNAL`, `signal N`, and `ack`,
/// which says the end is stored on the other side; the job is then removed here. End of file
/// on stdin (the link or the local agent went away) ends this command, never the job.
enum AttachVerb {
    static let name = "__attach"

    static func run(_ arguments: [String]) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        var words = arguments[...]
        guard words.count >= 3, let outputFrom = Int64(words[words.startIndex + 1]),
            let errorFrom = Int64(words[words.startIndex + 2])
        else {
            Terminal.error("usage: job __attach INSTANCEID OUTPUT-FROM ERROR-FROM [...] (used by invoke --durable)")
            return 2
        }
        let instanceId = words.removeFirst()
        words.removeFirst(2)
        var stop: (grace: Double, signal: Int)?
        var start = false
        var input = false
        var environment: [String] = []
        var command: String?
        var scheduler: (name: String, options: [String])?
        while let word = words.popFirst() {
            switch word {
            case "--scheduler":
                guard let name = words.popFirst() else { return 2 }
                scheduler = (name, scheduler?.options ?? [])
            case "--sbatch-option":
                guard let option = words.popFirst(), scheduler != nil else { return 2 }
                scheduler?.options.append(option)
            case "--stop":
                guard let grace = words.popFirst().flatMap(Double.init), let number = words.popFirst().flatMap(Int.init)
                else { return 2 }
                stop = (grace, number)
            case "--start": start = true
            case "--input": input = true
            case "--env": if let entry = words.popFirst() { environment.append(entry) }
            case "--":
                command = words.joined(separator: " ")
                words.removeAll()
            default: return 2
            }
        }
        do {
            let client = try JobClient()
            var link = Attachment(client: client, instanceId: instanceId, outputAt: outputFrom, errorAt: errorFrom)
            if start, let command {
                try link.start(client, command: command, environment: environment, scheduler: scheduler, input: input)
            }
            if let stop {
                _ = try client.stopping(JobSelection(selectors: [instanceId]), grace: stop.grace, signal: stop.signal)
            }
            return try link.stream(client)
        } catch {
            var frames = MirrorFrameSink(instanceId: instanceId)
            _ = frames.send(MirrorFrame.problem, Array("\(error)".utf8))
            return 1
        }
    }
}

/// One run of `job __attach`: the engine that reads the child's output from where the other
/// side has it, the frames it writes, and the commands it reads.
private struct Attachment {
    let instanceId: String
    var engine: ReceiveEngine
    var sink: MirrorFrameSink
    var acknowledged = false
    var commands: [UInt8] = []
    var stdinOpen = true

    init(client: JobClient, instanceId: String, outputAt: Int64, errorAt: Int64) {
        self.instanceId = instanceId
        engine = ReceiveEngine(
            connection: client, selection: JobSelection(selectors: [instanceId]), keep: true, fromStart: true)
        engine.start(output: outputAt, error: errorAt)
        sink = MirrorFrameSink(instanceId: instanceId)
    }

    var selection: JobSelection { JobSelection(selectors: [instanceId]) }

    /// Starts the job unless one has this InstanceId (the agent answers with that one then).
    /// With `input`, its stdin is the file the local agent sent (`SSHCommand.uploadInput`),
    /// removed once the job has it open.
    func start(
        _ client: JobClient, command: String, environment: [String], scheduler: (name: String, options: [String])?,
        input: Bool
    ) throws {
        var request = StartRequest(
            command: command, workingDirectory: JobHome.currentDirectory(),
            environment: ProcessEnvironment.entries() + environment, umask: JobClient.currentUmask())
        request.instanceId = instanceId
        var fds: [Int32] = []
        let path = (ProcessEnvironment.variable("HOME") ?? "") + "/" + SSHCommand.inputFolder + "/" + instanceId
        if input {
            var fd = open(path, O_RDONLY | O_CLOEXEC)
            // A scheduler starts the job later, on a node: the agent keeps a copy in its jobs folder.
            if fd >= 0 && scheduler != nil { fd = try InvokeVerb.copyInput(fd, home: client.home) }
            // Gone: an earlier link started the job with it already (the agent answers with that job).
            if fd >= 0 { fds = [fd] }
            request.hasInput = fd >= 0
        }
        defer {
            fds.forEach { close($0) }
            if !fds.isEmpty { unlink(path) }
        }
        guard let scheduler else {
            _ = try client.start(request, input: fds.first)
            return
        }
        // Submitted by this computer's agent, which follows it there.
        var submission = SchedulerStartRequest()
        submission.command = command
        submission.workingDirectory = request.workingDirectory
        submission.environment = request.environment
        submission.umask = request.umask
        submission.scheduler = scheduler.name
        submission.options = scheduler.options
        submission.instanceId = instanceId
        submission.hasInput = !fds.isEmpty
        _ = try client.start(submission, input: fds.first)
    }

    /// Streams until the job has ended and its end was acknowledged (exit 0), or stdin ended.
    mutating func stream(_ client: JobClient) throws -> Int32 {
        // A larger pipe to ssh: fewer wake-ups per megabyte (Linux's F_SETPIPE_SZ).
        _ = fcntl(1, 1031, Int32(1 << 20))
        engine.follow()
        var known: StreamGrant?
        while true {
            // Status first, then output; after the end is seen, to the end of the files.
            let grants = try engine.round(into: &sink)
            if engine.readerGone { return 0 }
            // A job removed here meanwhile: what was last seen of it stands.
            guard let grant = grants.first ?? known else {
                var gone = StreamGrant()
                gone.instanceId = instanceId
                gone.state = .failed
                gone.reason =
                    "its job is no longer in this computer's agent (removed there, or never started): its end is "
                    + "unknown"
                _ = sink.send(MirrorFrame.end, gone.encodedFields())
                return awaitAcknowledgement(client) ? 0 : 3
            }
            known = grant
            if grant.state.isFinished {
                guard sink.send(MirrorFrame.end, sink.status(of: grant)) else { return 0 }
                guard awaitAcknowledgement(client) else { return 0 }
                _ = try? client.removing(selection)
                return 0
            }
            let wake = try engine.awaitChange(
                [grant], interrupt: stdinOpen ? 0 : -1, until: sink.lastSent + MirrorFrame.heartbeatSeconds)
            switch wake {
            case .interrupted:
                guard readCommands(client) else { return 0 }
            case .timer:
                guard sink.send(MirrorFrame.heartbeat, []) else { return 0 }
            case .changed, .output:
                break
            }
        }
    }

    /// Reads what stdin has; carries out each whole line. False once stdin has ended.
    mutating func readCommands(_ client: JobClient) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if count < 0 && (errno == EINTR || errno == EAGAIN) { return true }
        guard count > 0 else {
            stdinOpen = false
            return false
        }
        commands += chunk[..<count]
        while let newline = commands.firstIndex(of: 10) {
            let line = String(decoding: commands[..<newline], as: UTF8.self)
            commands.removeSubrange(...newline)
            if let command = MirrorCommand(line: line) { carryOut(command, client) }
        }
        return true
    }

    mutating func carryOut(_ command: MirrorCommand, _ client: JobClient) {
        switch command {
        case .acknowledge: acknowledged = true
        case .stop(let grace, let number):
            // Sent without waiting: the stop's end comes back as status.
            _ = try? JobClient().postStop(selection, grace: grace, signal: number)
        case .signal(let number):
            switch Int32(truncatingIfNeeded: number) {
            case SIGSTOP, SIGTSTP: _ = try? client.suspending(selection)
            case SIGCONT: _ = try? client.resuming(selection)
            default: _ = try? client.signalling(selection, number)
            }
        }
    }

    /// Waits (up to a minute) for the other side to say it stored the end.
    mutating func awaitAcknowledgement(_ client: JobClient) -> Bool {
        let deadline = JobClient.monotonicNow() + 60
        while !acknowledged && stdinOpen {
            var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0)]
            let left = deadline - JobClient.monotonicNow()
            guard left > 0 else { return false }
            let ready = poll(&fds, 1, left.pollMilliseconds())
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0, readCommands(client) else { return false }
        }
        return acknowledged
    }
}
