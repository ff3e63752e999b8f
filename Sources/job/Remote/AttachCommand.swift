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

/// `job __attach INSTANCEID OUTPUT-FROM ERROR-FROM [--stop GRACE SIGNAL] [--start [--env K=V]...
/// -- COMMAND]`: the remote end of a durable child (`invoke --durable`), run over ssh by the
/// local agent. Not for people; not in the help.
///
/// It starts the job in this computer's agent with the child's InstanceId when `--start` says
/// so and no job has it yet, delivers a pending stop, then writes the job's output from the
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
        while let word = words.popFirst() {
            switch word {
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
        var link = Attachment(instanceId: instanceId, outputAt: outputFrom, errorAt: errorFrom)
        do {
            let client = try JobClient()
            if start, let command {
                try link.start(client, command: command, environment: environment, input: input)
            }
            if let stop {
                _ = try client.send(
                    StopRequest(JobSelection(selectors: [instanceId]), grace: stop.grace, signal: stop.signal))
            }
            return try link.stream(client)
        } catch {
            _ = link.send(MirrorFrame.problem, Array("\(error)".utf8))
            return 1
        }
    }
}

/// One run of `job __attach`: where its output goes on from, and what it sent last.
private struct Attachment {
    let instanceId: String
    var outputAt: Int64
    var errorAt: Int64
    var lastStatus: [UInt8] = []
    var lastSent = JobClient.monotonicNow()
    var acknowledged = false
    var commands: [UInt8] = []
    var stdinOpen = true

    init(instanceId: String, outputAt: Int64, errorAt: Int64) {
        self.instanceId = instanceId
        self.outputAt = outputAt
        self.errorAt = errorAt
    }

    var selection: JobSelection { JobSelection(selectors: [instanceId]) }

    /// Starts the job unless one has this InstanceId (the agent answers with that one then).
    /// With `input`, its stdin is the file the local agent sent (`SSHCommand.uploadInput`),
    /// removed once the job has it open.
    func start(_ client: JobClient, command: String, environment: [String], input: Bool) throws {
        var request = StartRequest(
            command: command, workingDirectory: JobHome.currentDirectory(),
            environment: ProcessEnvironment.entries() + environment, umask: JobClient.currentUmask())
        request.instanceId = instanceId
        var fds: [Int32] = []
        let path = (ProcessEnvironment.variable("HOME") ?? "") + "/" + SSHCommand.inputFolder + "/" + instanceId
        if input {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            // Gone: an earlier link started the job with it already (the agent answers with that job).
            if fd >= 0 { fds = [fd] }
            request.hasInput = fd >= 0
        }
        defer {
            fds.forEach { close($0) }
            if !fds.isEmpty { unlink(path) }
        }
        _ = try client.send(request, fds: fds)
    }

    /// Writes one frame to stdout; false when nobody reads it any more.
    mutating func send(_ kind: UInt8, _ payload: [UInt8]) -> Bool {
        var bytes = ArraySlice(MirrorFrame.header(kind, length: payload.count) + payload)
        let total = bytes.count
        lastSent = JobClient.monotonicNow()
        return FileWriter.writeAll(1, &bytes) == total
    }

    /// The job's one child, as a grant to read: nil when no job has the InstanceId.
    func grant(_ client: JobClient) throws -> (grant: StreamGrant, generation: UInt64)? {
        var request = ReceiveRequest(selection)
        request.keep = true
        request.fromStart = true
        let reply = try client.send(request)
        guard let grant = reply.streams.first else { return nil }
        return (grant, reply.generation)
    }

    /// Streams until the job has ended and its end was acknowledged (exit 0), or stdin ended.
    mutating func stream(_ client: JobClient) throws -> Int32 {
        guard var (grant, generation) = try grant(client) else {
            var gone = StreamGrant()
            gone.instanceId = instanceId
            gone.state = .failed
            gone.reason =
                "its job is no longer in this computer's agent (removed there, or never started): its end is unknown"
            _ = send(MirrorFrame.end, gone.encodedFields())
            return awaitAcknowledgement(client) ? 0 : 3
        }
        let output = open(grant.outputPath, O_RDONLY | O_CLOEXEC)
        let errors = open(grant.errorPath, O_RDONLY | O_CLOEXEC)
        defer {
            if output >= 0 { close(output) }
            if errors >= 0 { close(errors) }
        }
        // A larger pipe to ssh: fewer wake-ups per megabyte (Linux's F_SETPIPE_SZ).
        _ = fcntl(1, 1031, Int32(1 << 20))
        let events = try JobClient()
        let watcher = OutputWatcher()
        watcher.watch([grant])
        var pending = false
        var answerDue = 0.0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let status = statusBytes(grant)
            if status != lastStatus {
                guard send(MirrorFrame.status, status) else { return 0 }
                lastStatus = status
            }
            let finished = grant.state.isFinished
            // Output first; after the end is seen, to the end of the files.
            guard pump(output, kind: MirrorFrame.output, buffer: &buffer),
                pump(errors, kind: MirrorFrame.error, buffer: &buffer)
            else { return 0 }
            if finished {
                guard send(MirrorFrame.end, status) else { return 0 }
                guard awaitAcknowledgement(client) else { return 0 }
                _ = try? client.send(RemoveRequest(selection))
                return 0
            }
            if !pending {
                try events.post(WaitEventRequest(after: generation, timeout: JobClient.waitSlice))
                pending = true
                answerDue = JobClient.monotonicNow() + JobClient.waitSlice + JobClient.patience
            }
            let now = JobClient.monotonicNow()
            let wake = min(answerDue, lastSent + MirrorFrame.heartbeatSeconds)
            switch watcher.waitForChange(
                orReadable: events.socketFD, interrupt: stdinOpen ? 0 : -1, timeout: max(0, wake - now))
            {
            case .socket:
                generation = try events.collect(WaitEventRequest.self).generation
                pending = false
                guard let fresh = try self.grant(client) else { continue }
                grant = fresh.grant
            case .interrupted:
                guard readCommands(client) else { return 0 }
            case .output:
                break
            case .timedOut:
                if JobClient.monotonicNow() >= answerDue { throw events.unresponsive() }
                guard send(MirrorFrame.heartbeat, []) else { return 0 }
            }
        }
    }

    func statusBytes(_ grant: StreamGrant) -> [UInt8] {
        var status = StreamGrant()
        status.instanceId = instanceId
        status.state = grant.state
        status.reason = grant.reason
        status.exitStatus = grant.exitStatus
        status.signal = grant.signal
        status.timedOut = grant.timedOut
        return status.encodedFields()
    }

    /// Sends what a file has past its position, in frames of at most 1 MiB: the header, then
    /// the bytes straight from the file (sendfile, no copy here; read and write where the
    /// kernel cannot). False when the reader is gone.
    mutating func pump(_ fd: Int32, kind: UInt8, buffer: inout [UInt8]) -> Bool {
        guard fd >= 0 else { return true }
        while true {
            let position = kind == MirrorFrame.output ? outputAt : errorAt
            var info = stat()
            guard fstat(fd, &info) == 0, Int64(info.st_size) > position else { return true }
            let count = Int(min(Int64(info.st_size) - position, Int64(buffer.count)))
            var header = ArraySlice(MirrorFrame.header(kind, length: count))
            guard FileWriter.writeAll(1, &header) == 5 else { return false }
            var offset = off_t(position)
            var left = count
            while left > 0 {
                let sent = sendfile(1, fd, &offset, left)
                if sent < 0 && errno == EINTR { continue }
                if sent < 0 && (errno == EINVAL || errno == ENOSYS) {
                    // This file system cannot: the same bytes through a buffer.
                    let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, left, offset) }
                    guard got > 0 else { return false }
                    var bytes = buffer[..<got]
                    guard FileWriter.writeAll(1, &bytes) == got else { return false }
                    offset += off_t(got)
                    left -= got
                    continue
                }
                guard sent > 0 else { return false }
                left -= sent
            }
            lastSent = JobClient.monotonicNow()
            if kind == MirrorFrame.output { outputAt += Int64(count) } else { errorAt += Int64(count) }
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
            _ = try? JobClient().post(StopRequest(selection, grace: grace, signal: number))
        case .signal(let number):
            switch Int32(truncatingIfNeeded: number) {
            case SIGSTOP, SIGTSTP: _ = try? client.send(SuspendRequest(selection))
            case SIGCONT: _ = try? client.send(ResumeRequest(selection))
            default: _ = try? client.send(SignalRequest(selection, signal: number))
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
