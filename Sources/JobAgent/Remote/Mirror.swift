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
import Foundation
import JobCore
import JobProtocol
import JobRemote
import JobStore

/// Durable remote children (`invoke --durable`). Each runs as a job in its computer's own
/// agent; here a thread per child keeps an `ssh HOST job __attach ...` open on the computer's
/// shared connection and mirrors that job: its output is appended to the child's files from
/// where they end (their sizes are the read positions, so a new link goes on exactly where the
/// last one stopped: nothing lost, nothing twice), its state and its end are the child's.
/// When the link is lost the child is Disconnected, and the thread tries again with backoff
/// (1 s, doubling, at most 30 s) until the link is back or `reconnect-for` has passed. A stop
/// meanwhile is stored and delivered by the next link. The thread is not needed to keep the
/// job alive: after an agent restart the next agent starts it again.
///
/// A link's changing fields are in `Mirrors`, a part of the registry's state, reached only
/// under its lock; its thread holds a `MirrorHandle`, which changes nothing, so a child
/// restarted while the thread of its last run is still ending gets a link of its own (the
/// part names the current one, and an old thread's word is ignored).
final class MirrorHandle: Sendable {
    let id: Int
    /// Written to cut a wait between tries short (a stop came).
    let wake = cjob_eventfd_create()

    init(id: Int) { self.id = id }

    deinit { if wake >= 0 { close(wake) } }

    /// Cuts the thread's wait between tries short.
    func wakeUp() {
        var one: UInt64 = 1
        _ = write(wake, &one, 8)
    }
}

/// One durable child's link as the registry knows it.
struct MirrorLink {
    let handle: MirrorHandle
    /// ssh's pid while a link runs.
    var pid: pid_t = 0
    /// ssh's stdin, where commands go; -1 while no link runs.
    var commands: Int32 = -1
    /// Whether the current link has sent anything yet, and whether any link of this agent has.
    var connected = false
    var everConnected = false
    /// Tries since the link was last up.
    var attempts = 0
    /// Started by this agent's launch (not taken over after a restart): until a link came
    /// up, nothing ran there, so a first link that cannot connect fails the child.
    var fresh = false
    var cancelled = false

    /// Ends the link for good: its ssh is ended and its thread's wait cut short.
    mutating func cancel() {
        cancelled = true
        if pid > 0 { kill(pid, SIGTERM) }
        handle.wakeUp()
    }
}

/// Durable children's links, one part of the registry's state. Its rules: a child has at
/// most one current link; only the thread of the current link changes it (`update` ignores
/// any other); a link taken out is not current any more, whatever its thread still does.
struct Mirrors {
    private var links: [Int: MirrorLink] = [:]
    /// How a link's thread is started (set by the registry).
    var spawn: ((MirrorHandle) -> Void)?

    /// The current link of a child.
    subscript(id: Int) -> MirrorLink? { links[id] }

    /// The link, if `handle` is the current one of its child.
    func current(_ handle: MirrorHandle) -> MirrorLink? {
        guard let link = links[handle.id], link.handle === handle else { return nil }
        return link
    }

    /// Changes the current link of `handle`'s child; nil (and nothing changed) when it is not current.
    @discardableResult
    mutating func update<Result>(_ handle: MirrorHandle, _ body: (inout MirrorLink) -> Result) -> Result? {
        guard links[handle.id]?.handle === handle else { return nil }
        return body(&links[handle.id]!)
    }

    /// A new link for a child that has none: its handle, for its thread.
    mutating func begin(_ id: Int, fresh: Bool) -> MirrorHandle? {
        guard links[id] == nil else { return nil }
        let handle = MirrorHandle(id: id)
        links[id] = MirrorLink(handle: handle, fresh: fresh)
        return handle
    }

    /// Takes out the link of `handle`, if it is the current one.
    mutating func end(_ handle: MirrorHandle) {
        if links[handle.id]?.handle === handle { links[handle.id] = nil }
    }

    /// Ends a child's link for good (its job is removed here).
    mutating func cancel(_ id: Int) {
        links[id]?.cancel()
    }

    /// Ends every link (a stopping agent).
    mutating func cancelAll() {
        for id in Array(links.keys) { links[id]?.cancel() }
    }

    /// Forgets every link (a stopping agent, once their threads ended).
    mutating func removeAll() { links = [:] }
}

/// What one link needs, taken under the lock and used outside it.
struct MirrorPlan: Sendable {
    var program: String
    /// The ssh command line without its remote text, and what `job __attach` is told.
    var ssh: [String]
    var computer: String
    var instanceId: String
    var outputFrom: Int64
    var errorFrom: Int64
    var stop: (grace: Double, signal: Int)?
    var start: (command: String, environment: [String])?
    /// With `start`: the scheduler the computer's agent submits it to, and its options.
    var scheduler: (name: String, options: [String])?
    /// The input file to send before the remote job starts.
    var input: String?
    var deploy: Bool
    var environment: [String]
    var stdout: String
    var stderr: String
    var diagnostics: String
    var wake: Int32
}

/// How a link ended.
enum MirrorOutcome {
    /// The remote job ended; its last status.
    case ended(StreamGrant)
    /// The link went away; ssh's exit status, and what the other side said was wrong, if anything.
    case lost(status: Int32, problem: String?)
}

extension RegistryState {
    /// Seconds a lost link keeps being tried (`reconnect-for`, `JOB_RECONNECT_FOR`).
    static let reconnectFor: Double = agentSettings?.reconnectFor.value ?? 3600

    /// Starts the thread of a durable child unless it has one. Lock held.
    func beginMirror(_ id: Int, fresh: Bool = false) {
        guard !stopping, let handle = mirrors.begin(id, fresh: fresh) else { return }
        mirrors.spawn?(handle)
    }

    /// The next link of a durable child; nil when it needs none (ended, removed, given up).
    /// Lock held.
    func mirrorPlan(_ handle: MirrorHandle) -> MirrorPlan? {
        let id = handle.id
        guard let link = mirrors.current(handle), !link.cancelled, let job = jobs[id], !job.state.isFinished,
            let parentId = job.parentId, let parent = jobs[parentId], let computer = try? ComputerName(job.location)
        else {
            mirrors.end(handle)
            return nil
        }
        let environment = (try? database.environment(of: id)) ?? []
        let configuration = environment.first { $0.hasPrefix("JOB_SSH_CONFIG=") }.map {
            String($0.dropFirst("JOB_SSH_CONFIG=".count))
        }
        let (outputSize, errorSize) = files.sizes(job.instanceId)
        // While nothing came back, the remote job may not exist yet: the link may start it
        // (a job that has the InstanceId already is not started again).
        let start = outputSize == 0 && errorSize == 0 ? (job.command, parent.remoteEnvironment) : nil
        let stop = job.stopRequested ? (job.stopGrace ?? 5, Int(SIGTERM)) : nil
        let diagnostics = files.sshLog(job.instanceId)
        return MirrorPlan(
            program: SSHCommand.program(environment: environment),
            ssh: SSHCommand.arguments(
                computer: computer, remoteText: "", options: parent.sshOptions, diagnostics: diagnostics,
                configuration: configuration?.isEmpty == false ? configuration : nil,
                controlFolder: SSHCommand.controlFolder(home: home)
            ).dropLast(),
            computer: job.location, instanceId: job.instanceId, outputFrom: outputSize, errorFrom: errorSize,
            stop: stop, start: start, scheduler: job.scheduler.map { ($0, parent.schedulerOptions) },
            input: start == nil ? nil : job.inputFile, deploy: job.deploy,
            environment: environment,
            stdout: home.outputPath(job.instanceId),
            stderr: home.errorPath(job.instanceId), diagnostics: diagnostics, wake: link.handle.wake)
    }

    /// A link's ssh runs. Lock held.
    func mirrorSpawned(_ handle: MirrorHandle, pid: pid_t, commands: Int32) {
        let current = mirrors.update(handle) { link in
            link.pid = pid
            link.commands = commands
            link.connected = false
            return !link.cancelled
        }
        // The agent began to stop, or the child was removed, while ssh was starting.
        if current != true { kill(pid, SIGTERM) }
    }

    /// The remote job's status came: the child takes its state. Lock held.
    func mirrorStatus(_ handle: MirrorHandle, _ status: StreamGrant) {
        let id = handle.id
        guard mirrors.current(handle) != nil, var job = jobs[id], !job.state.isFinished else { return }
        let first =
            mirrors.update(handle) { link in
                defer {
                    link.connected = true
                    link.everConnected = true
                    link.attempts = 0
                }
                return !link.connected
            } ?? false
        let before = job
        let wasDisconnected = job.disconnectedAt != nil
        if job.scheduler != nil {
            // A scheduler's child there: its state, Reason and scheduler id as they are there.
            job.follow(scheduler: status.state, reason: status.reason, location: nil)
            if first { job.disconnectedAt = nil }
            // It began when the scheduler ran it.
            if before.state == .notStarted && job.state == .running { job.beginTime = Date() }
            if let id = status.schedulerJobId { job.schedulerJobId = id }
        } else {
            // Linked (first): no longer Disconnected, and a pending stop went with this link.
            job.follow(remote: status.state, relinked: first)
        }
        guard first || job.state != before.state || job != before else { return }
        if first && wasDisconnected {
            log.write("Job\(id)'s link to \(job.location) is back")
        }
        jobs[id] = job
        persist([job])
    }

    /// The remote job ended: so does the child, as it did there. True once stored (the other
    /// side may then remove its job). Lock held.
    func mirrorEnded(_ handle: MirrorHandle, _ status: StreamGrant) -> Bool {
        let id = handle.id
        guard mirrors.current(handle) != nil else { return true }
        guard var job = jobs[id], !job.state.isFinished else {
            // Stored before (the acknowledgement was lost with a link), or removed here.
            mirrorSend(handle, .acknowledge)
            mirrors.end(handle)
            return true
        }
        job.remoteEnded(
            status.state, exitStatus: status.exitStatus, signal: status.signal, reason: status.reason,
            timedOut: status.timedOut == true)
        applyLimits(&job)
        refreshSizes(&job)
        if job.state == .failed { log.warning("\(messageName(of: job)) failed: \(job.reason ?? "failed")") }
        jobs[id] = job
        let stored = persist([job])
        if stored {
            // The other side may remove its job now; a restart of the child gets a link of its own.
            mirrorSend(handle, .acknowledge)
            mirrors.end(handle)
        }
        if let parent = job.parentId { startQueued(parentId: parent) }
        return stored
    }

    /// A link ended without the job's end. The child is Disconnected and the seconds to wait
    /// before the next try come back; nil when there is none (it failed for good). Lock held.
    func mirrorLost(_ handle: MirrorHandle, status: Int32, problem: String?) -> Double? {
        let id = handle.id
        guard var link = mirrors.current(handle), var job = jobs[id], !job.state.isFinished, !link.cancelled else {
            mirrors.end(handle)
            return nil
        }
        link.pid = 0
        link.commands = -1
        let wasConnected = link.connected
        link.connected = false
        defer { mirrors.update(handle) { $0 = link } }
        let diagnosis = SSHCommand.diagnosis(path: files.sshLog(job.instanceId))
        let host = job.location
        var failure: String?
        if status == 127 && !link.everConnected && job.disconnectedAt == nil {
            failure =
                "job is not installed on \(host) (\(diagnosis ?? "command not found")): install it there, "
                + "or leave out --durable"
        } else if status == 255 && link.fresh && !link.everConnected && job.disconnectedAt == nil
            && !job.stopRequested && files.sizes(job.instanceId) == (0, 0)
        {
            // The first link never came up: nothing ran there, as with a child without --durable.
            failure = diagnosis ?? "ssh could not reach \(host)"
        } else if status != 255, problem == nil, !wasConnected, status != 0 {
            failure = "job __attach on \(host) failed (exit \(status)): \(diagnosis ?? "no message")"
        }
        let now = Date()
        let since = job.disconnectedAt ?? now
        if failure == nil, now.timeIntervalSince(since) > Self.reconnectFor {
            failure =
                "lost the link to \(host) at \(Self.clock(since)) and could not reach it again within "
                + DurationText.text(Self.reconnectFor) + "; the command may still run there "
                + "(job get --computer \(host) --all)"
        }
        if let failure {
            mirrorFailed(handle, failure)
            return nil
        }
        if wasConnected { link.attempts = 0 }
        link.attempts += 1
        let delay = min(30, pow(2, Double(link.attempts - 1)))
        if job.disconnectedAt == nil {
            log.write("Job\(id) lost its link to \(host): \(problem ?? diagnosis ?? "ssh exited \(status)")")
        }
        job.disconnect(
            since: since,
            reason: "the link to \(host) was lost at \(Self.clock(since))"
                + ((problem ?? diagnosis).map { " (\($0))" } ?? "") + "; trying again every \(Int(delay)) s"
                + (job.stopRequested ? Self.stopPending : ""))
        jobs[id] = job
        persist([job])
        return delay
    }

    /// A durable child cannot be linked at all (its deployment failed): it fails, and why. Lock held.
    func mirrorFailed(_ handle: MirrorHandle, _ why: String) {
        let id = handle.id
        // A stopping agent's links were cut by it: the child is left as stored, for the next.
        guard mirrors.current(handle) != nil, !stopping else { return }
        mirrors.end(handle)
        guard var job = jobs[id], !job.state.isFinished else { return }
        job.fail(why)
        refreshSizes(&job)
        log.warning("\(messageName(of: job)) failed: \(why)")
        jobs[id] = job
        persist([job])
        if let parent = job.parentId { startQueued(parentId: parent) }
    }

    /// Sends a command down a durable child's link; false when no link runs. Lock held.
    @discardableResult
    func mirrorSend(_ id: Int, _ command: MirrorCommand) -> Bool {
        guard let link = mirrors[id] else { return false }
        return mirrorSend(link, command)
    }

    /// Sends a command down the link of `handle`, if it is current and runs. Lock held.
    @discardableResult
    func mirrorSend(_ handle: MirrorHandle, _ command: MirrorCommand) -> Bool {
        guard let link = mirrors.current(handle) else { return false }
        return mirrorSend(link, command)
    }

    /// Sends a command down this link, if it runs. Lock held.
    private func mirrorSend(_ link: MirrorLink, _ command: MirrorCommand) -> Bool {
        guard link.commands >= 0 else { return false }
        return FileWriter.writeAll(link.commands, ArraySlice(Array((command.line + "\n").utf8)))
    }

    /// Cuts a durable child's wait between tries short. Lock held.
    func mirrorWake(_ id: Int) {
        mirrors[id]?.handle.wakeUp()
    }

    /// Cuts every link of a stopping agent: the remote jobs run on, and the next agent links
    /// again from where the output ends. Nothing is stored. Lock held.
    func endMirrorLinks() {
        mirrors.cancelAll()
    }

    /// Ends a durable child's link for good (its job is removed here). Lock held.
    func mirrorCancel(_ id: Int) {
        mirrors.cancel(id)
    }

    static func clock(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        localtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    }
}

extension JobRegistry {
    /// The thread of one durable child: links, one after the other, until the child ended.
    func runMirror(_ link: MirrorHandle) {
        while true {
            guard let plan = withState({ $0.mirrorPlan(link) }) else { return }
            var remoteProgram = "job"
            if plan.deploy {
                switch Deployment.ensure(
                    computer: plan.computer, ssh: plan.ssh, program: plan.program, environment: plan.environment)
                {
                case .ready(let program): remoteProgram = program
                case .failed(let why):
                    withState { $0.mirrorFailed(link, why) }
                    return
                case .unreachable:
                    guard lost(link, status: 255, problem: nil, wake: plan.wake) else { return }
                    continue
                }
            }
            if let input = plan.input {
                // The input goes first, to where `job __attach --input` opens it.
                let fd = open(input, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else {
                    withState {
                        $0.mirrorFailed(
                            link, "cannot read its input file \(input): \(String(cString: strerror(errno)))")
                    }
                    return
                }
                let sent = Deployment.capture(
                    plan.program, plan.ssh + [SSHCommand.uploadInput(name: plan.instanceId)],
                    environment: plan.environment, input: fd)
                close(fd)
                if sent.status != 0 {
                    guard lost(link, status: sent.status, problem: nil, wake: plan.wake) else { return }
                    continue
                }
            }
            let text = SSHCommand.attachCommand(
                program: remoteProgram, instanceId: plan.instanceId, outputFrom: plan.outputFrom,
                errorFrom: plan.errorFrom, stop: plan.stop, start: plan.start, scheduler: plan.scheduler,
                input: plan.input != nil)
            let outcome = connect(link, plan, argv: plan.ssh + [text])
            switch outcome {
            case .ended:
                return
            case .lost(let status, let problem):
                guard lost(link, status: status, problem: problem, wake: plan.wake) else { return }
            }
        }
    }

    /// A link was lost (or could not be made): the child is Disconnected and the thread waits
    /// for the next try (a stop cuts the wait short). False when there is none.
    private func lost(_ link: MirrorHandle, status: Int32, problem: String?, wake: Int32) -> Bool {
        guard let delay = withState({ $0.mirrorLost(link, status: status, problem: problem) }) else { return false }
        var ready = pollfd(fd: wake, events: Int16(POLLIN), revents: 0)
        if poll(&ready, 1, delay.pollMilliseconds()) > 0 { cjob_eventfd_drain(wake) }
        return true
    }

    /// One link: ssh runs `job __attach` there; its frames are read until the end or EOF.
    private func connect(_ link: MirrorHandle, _ plan: MirrorPlan, argv: [String]) -> MirrorOutcome {
        var toRemote: [Int32] = [-1, -1]
        var fromRemote: [Int32] = [-1, -1]
        // ssh's messages of this link only: the last of them says why it was lost.
        let diagnostics = open(plan.diagnostics, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o600)
        // Written at their ends by this thread alone (no O_APPEND: splice cannot write to such a file).
        let output = open(plan.stdout, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        let errors = open(plan.stderr, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        defer { [diagnostics, output, errors].filter { $0 >= 0 }.forEach { close($0) } }
        guard diagnostics >= 0, output >= 0, errors >= 0, cjob_pipe_cloexec(&toRemote) == 0 else {
            return .lost(status: 255, problem: "cannot open the job's files: \(String(cString: strerror(errno)))")
        }
        guard cjob_pipe_cloexec(&fromRemote) == 0 else {
            toRemote.forEach { close($0) }
            return .lost(status: 255, problem: "cannot make a pipe: \(String(cString: strerror(errno)))")
        }
        let pid = withCStringArray(argv) { argv in
            withCStringArray(plan.environment) { envp in
                cjob_spawn_with_stdio(plan.program, argv, envp, toRemote[0], fromRemote[1], diagnostics, 1)
            }
        }
        close(toRemote[0])
        close(fromRemote[1])
        guard pid > 0 else {
            close(toRemote[1])
            close(fromRemote[0])
            return .lost(status: 255, problem: "cannot run \(plan.program): \(String(cString: strerror(errno)))")
        }
        withState { $0.mirrorSpawned(link, pid: pid, commands: toRemote[1]) }
        // A larger pipe from ssh: fewer wake-ups per megabyte (Linux's F_SETPIPE_SZ).
        _ = fcntl(fromRemote[0], 1031, Int32(1 << 20))
        var reader = FrameReader(fd: fromRemote[0])
        var problem: String?
        var ended: StreamGrant?
        var outputAt = lseek(output, 0, SEEK_END)
        var errorAt = lseek(errors, 0, SEEK_END)
        while ended == nil, let (kind, length) = reader.header() {
            if kind == MirrorFrame.output || kind == MirrorFrame.error {
                // Straight from the pipe into the file. A frame cut short by a lost link
                // leaves exactly the bytes that came: the next link goes on from there.
                let moved =
                    kind == MirrorFrame.output
                    ? reader.move(length, to: output, at: &outputAt) : reader.move(length, to: errors, at: &errorAt)
                guard moved else { break }
                continue
            }
            guard let payload = reader.payload(length) else { break }
            switch kind {
            case MirrorFrame.status:
                if let status = try? StreamGrant(decodingFields: Array(payload)) {
                    withState { $0.mirrorStatus(link, status) }
                }
            case MirrorFrame.end:
                if let status = try? StreamGrant(decodingFields: Array(payload)) {
                    let stored = withState { state in
                        state.mirrorStatus(link, status)
                        return state.mirrorEnded(link, status)
                    }
                    if stored { ended = status }
                }
            case MirrorFrame.problem: problem = String(decoding: payload, as: UTF8.self)
            default: break
            }
        }
        withState { $0.mirrors.update(link) { $0.commands = -1 } }
        close(toRemote[1])
        // What is left (the other side exits after the acknowledgement) is drained, then ssh reaped.
        reader.drain()
        close(fromRemote[0])
        let exit = Deployment.reap(pid)
        if let ended { return .ended(ended) }
        return .lost(status: exit, problem: problem)
    }

}

/// Reads `MirrorFrame`s from a pipe: headers and small frames through a buffer, exactly as
/// long as they are (never a byte more), and output straight into its file (splice).
private struct FrameReader {
    let fd: Int32
    var buffer = [UInt8](repeating: 0, count: 1 << 16)

    init(fd: Int32) { self.fd = fd }

    /// The next frame's kind and length; nil at end of file, or when the stream is not frames.
    mutating func header() -> (UInt8, Int)? {
        guard read(5) else { return nil }
        return MirrorFrame.parse(buffer[0..<5])
    }

    /// A frame's bytes (status, end, problem); nil at end of file.
    mutating func payload(_ length: Int) -> ArraySlice<UInt8>? {
        if buffer.count < length { buffer = [UInt8](repeating: 0, count: length) }
        return read(length) ? buffer[0..<length] : nil
    }

    /// Moves a frame's bytes into `file` at `offset` (which advances by what was written);
    /// false when the pipe ended first.
    mutating func move(_ length: Int, to file: Int32, at offset: inout off_t) -> Bool {
        var left = length
        while left > 0 {
            var at = Int64(offset)
            let moved = cjob_splice_to_file(fd, file, &at, UInt(left))
            if moved < 0 && errno == EINTR { continue }
            if moved < 0 && errno == EINVAL {
                // A file splice cannot write: through the buffer.
                let count = min(left, buffer.count)
                guard read(count) else { return false }
                guard buffer.withUnsafeBytes({ pwrite(file, $0.baseAddress, count, offset) }) == count else {
                    return false
                }
                offset += off_t(count)
                left -= count
                continue
            }
            guard moved > 0 else { return false }
            offset = off_t(at)
            left -= moved
        }
        return true
    }

    /// Reads and drops everything up to end of file.
    mutating func drain() {
        while buffer.withUnsafeMutableBytes({ Glibc.read(fd, $0.baseAddress, $0.count) }) > 0 {}
    }

    /// Reads exactly `count` bytes into the buffer's start; false at end of file.
    private mutating func read(_ count: Int) -> Bool {
        var got = 0
        while got < count {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, count - got) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            got += n
        }
        return true
    }
}
