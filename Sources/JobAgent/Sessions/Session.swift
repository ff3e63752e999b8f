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
import Synchronization

/// A persistent session: one long-lived shell on one computer (here, or over one ssh
/// connection) that runs the commands sent to it one at a time and keeps its state (working
/// directory, variables, functions, aliases, umask) between them.
///
/// The shell reads commands on its stdin. Each is sent as one line:
///
///     command eval 'CMD' </dev/null [>>OUT 2>>ERR]; printf 'TOKEN:SEQ %d\n' "$?"; printf 'TOKEN:SEQ\n' >&2
///
/// `command eval` runs it in the shell itself (so its state stays) without a syntax error
/// ending the shell; `</dev/null` gives it end-of-file, not the next command. The markers carry
/// a random token no command can guess, so whatever a command prints cannot end its output
/// early: what comes before the stdout marker is its output, byte for byte (a last line with
/// no newline included), and the number after it is its exit status. Only a chunk that ends in
/// a beginning of the token is held back until more arrives, so output streams as produced. Here, the command's output goes straight
/// into its job's files and only the markers come back; over ssh both come down the
/// connection and the reader writes the files.
///
/// The shell runs under a wrapper, in a process group of its own:
///
///     (cat; kill -TERM 0; sleep 2; kill -KILL 0) | (read -r t; SHELL; printf '%s:end %d\n' "$t" "$?"; kill -KILL 0)
///
/// When the commands' stream ends (the session is removed, the agent is gone, the connection
/// dropped), everything the session ran is ended; when the shell ends (`exit`, `exec`, killed),
/// its status is reported and the connection closes, so the session is seen Broken at once.
///
/// Not Sendable: the registry's state holds it, and changes it only under its lock. The
/// reader thread gets a `SessionReader`, which holds only what reading needs.
final class Session {
    let id: Int
    let name: String
    let computer: String
    let shell: String
    let isLocal: Bool
    /// Where a local session started; `~` for a remote one.
    let workingDirectory: String
    let token: String

    var state: SessionState = .opened
    var reason: String?
    var jobCount = 0
    /// Child Ids waiting to run, in order; the first one runs while `runningSequence` is set.
    var queue: [Int] = []
    var runningJob: Int?
    var sequence = 0
    /// The shell's pid on its computer (from its first answer).
    var shellPid = 0

    let wrapperPid: pid_t
    private let input: Int32
    private let output: Int32
    private let errors: Int32
    /// ssh's own messages, for a remote session.
    let diagnostics: String?
    /// The ssh command line up to the remote command, to run a helper on the same computer.
    let sshPrefix: [String]
    let sshProgram: String

    /// What the reader writes the current command's streamed output to (over ssh).
    let files = SessionFiles()

    init(
        id: Int, name: String, computer: ComputerName, shell: String, workingDirectory: String, environment: [String],
        umask: Int, sshOptions: [String], home: JobHome
    ) throws(SessionError) {
        self.id = id
        self.name = name
        self.computer = computer.text
        self.shell = shell
        self.isLocal = computer.isLocal
        self.workingDirectory = computer.isLocal ? workingDirectory : "~"
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        token = "JOBSESSION" + bytes.map { String($0, radix: 16).leftPadded(2) }.joined()

        let wrapper =
            "umask \(String(umask, radix: 8)); "
            + "(cat; trap '' TERM; kill -TERM 0; sleep 2; kill -KILL 0) 2>/dev/null | "
            + "(read -r t; \(SSHCommand.quote(shell)); s=$?; printf '%s:end %d\\n' \"$t\" \"$s\"; kill -KILL 0)"
        var program = "/bin/sh"
        var argv = ["sh", "-c", wrapper]
        var diagnostics: String? = nil
        var prefix: [String] = []
        let ssh = SSHCommand.program(environment: environment)
        if !computer.isLocal {
            let path = home.path + "/ssh-session-\(id)-\(getpid()).log"
            unlink(path)
            diagnostics = path
            let configuration = environment.first { $0.hasPrefix("JOB_SSH_CONFIG=") }
                .map { String($0.dropFirst("JOB_SSH_CONFIG=".count)) }
            argv = SSHCommand.arguments(
                computer: computer, remoteText: "/bin/sh -c " + SSHCommand.quote(wrapper), options: sshOptions,
                diagnostics: path, configuration: configuration?.isEmpty == false ? configuration : nil,
                controlFolder: SSHCommand.controlFolder(home: home))
            prefix = Array(argv.dropLast())
            program = ssh
        }
        self.diagnostics = diagnostics
        self.sshPrefix = prefix
        self.sshProgram = ssh

        var toShell: [Int32] = [0, 0]
        var fromOut: [Int32] = [0, 0]
        var fromErr: [Int32] = [0, 0]
        guard cjob_pipe_cloexec(&toShell) == 0 else { throw SessionError("could not make a pipe") }
        guard cjob_pipe_cloexec(&fromOut) == 0 else {
            Glibc.close(toShell[0])
            Glibc.close(toShell[1])
            throw SessionError("could not make a pipe")
        }
        guard cjob_pipe_cloexec(&fromErr) == 0 else {
            [toShell[0], toShell[1], fromOut[0], fromOut[1]].forEach { Glibc.close($0) }
            throw SessionError("could not make a pipe")
        }
        let pid = withCStringArray(argv) { argv in
            withCStringArray(environment) { envp in
                cjob_spawn_with_stdio(program, argv, envp, toShell[0], fromOut[1], fromErr[1], 1)
            }
        }
        Glibc.close(toShell[0])
        Glibc.close(fromOut[1])
        Glibc.close(fromErr[1])
        guard pid > 0 else {
            [toShell[1], fromOut[0], fromErr[0]].forEach { Glibc.close($0) }
            throw SessionError("could not start \(program): \(String(cString: strerror(errno)))")
        }
        OwnChildren.add(pid)
        wrapperPid = pid
        input = toShell[1]
        output = fromOut[0]
        errors = fromErr[0]
        // The first line: where to start (posix_spawn has no chdir), and the shell's pid (to
        // stop a command's processes).
        // The token goes down the pipe, not on a command line where ps would show it.
        send(token + "\n")
        let cd = computer.isLocal ? "cd " + SSHCommand.quote(workingDirectory) + " 2>/dev/null; " : ""
        send(cd + "printf '\(token):0 %d\\n' \"$$\"; printf '\(token):0\\n' >&2\n")
        send(Self.lineRunner)
    }

    /// Each line runs in a function, `__job_run`, so that SIGINT or SIGTERM to the shell while
    /// it runs drops the rest of the line, as an interactive shell drops it on Ctrl-C
    /// (`sleep 30; echo not-here` prints nothing once the sleep is interrupted): the trap
    /// returns from the function. The shell defers the trap until its foreground command has
    /// ended, and does nothing with the signal between lines. The traps are set again for each
    /// line: a line may set its own (then that one runs, as in an interactive shell) or clear
    /// them. The line comes in a variable, so that `$1` in it is the session's, not the
    /// function's.
    static let lineRunner =
        "__job_run() { "
        + "trap 'if [ -n \"${__job_running-}\" ]; then __job_running=; return 130; fi' INT; "
        + "trap 'if [ -n \"${__job_running-}\" ]; then __job_running=; return 143; fi' TERM; "
        + "__job_running=1; command eval \"$__job_line\"; __job_status=$?; __job_running=; "
        + "return $__job_status; }\n"

    /// Writes a line to the shell. Lock held (a line is small; the shell is reading).
    @discardableResult
    func send(_ line: String) -> Bool {
        FileWriter.writeAll(input, LosslessText.encode(line)[...])
    }

    /// Sends a job's command. Locally its output goes straight into the job's files.
    @discardableResult
    func run(command: String, sequence: Int, outputPath: String, errorPath: String) -> Bool {
        let redirections: String
        if isLocal {
            redirections = " >>" + SSHCommand.quote(outputPath) + " 2>>" + SSHCommand.quote(errorPath)
        } else {
            let out = open(outputPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o600)
            let err = open(errorPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o600)
            files.set(out, err)
            redirections = ""
        }
        return send(
            "__job_line=" + SSHCommand.quote(command) + "; __job_run </dev/null" + redirections
                + "; printf '\(token):\(sequence) %d\\n' \"$?\"; "
                + "printf '\(token):\(sequence)\\n' >&2\n")
    }

    /// Ends the session: its stream of commands ends, so the wrapper ends everything it ran.
    func endInput() {
        Glibc.close(input)
    }

    /// What the reader thread needs: the shell's two streams, the token and the files.
    var reader: SessionReader {
        SessionReader(sessionId: id, output: output, errors: errors, token: token, files: files)
    }

    /// Sends a signal to every process the shell started (its descendants). SIGINT and SIGTERM
    /// go to the shell too, first, so that it drops the rest of the line once the command ends
    /// (`lineRunner`); the shell is not ended by them. Returns how many were signalled.
    @discardableResult
    func signalCommand(_ signal: Int32) -> Int {
        guard shellPid > 0 else { return 0 }
        let toShell = signal == SIGINT || signal == SIGTERM
        if isLocal {
            let descendants = ProcFS.descendants(of: shellPid)
            if toShell { kill(pid_t(shellPid), signal) }
            for pid in descendants { kill(pid_t(pid), signal) }
            return descendants.count
        }
        // On the other computer, over the shared connection: walk the tree with pgrep -P.
        let script =
            "d() { for c in $(pgrep -P \"$1\"); do d \"$c\"; echo \"$c\"; done; }; p=$(d \(shellPid)); "
            + (toShell ? "kill -\(signal) \(shellPid) 2>/dev/null; " : "")
            + "[ -n \"$p\" ] && kill -\(signal) $p 2>/dev/null"
        SSHCommand.runQuietly(sshProgram, sshPrefix + ["/bin/sh -c " + SSHCommand.quote(script)])
        return 1
    }

    /// Ends the shell and everything it runs (a command that cannot be stopped otherwise).
    func killShell() {
        if isLocal {
            Glibc.kill(-wrapperPid, SIGKILL)
        } else {
            if shellPid > 0 { SSHCommand.runQuietly(sshProgram, sshPrefix + ["kill -KILL \(shellPid)"]) }
            Glibc.kill(wrapperPid, SIGKILL)
        }
    }

    var record: SessionRecord {
        SessionRecord(
            id: id, name: name, computerName: computer, state: state,
            availability: state != .opened ? .none : runningJob == nil ? .available : .busy, jobCount: jobCount,
            shell: shell, reason: reason)
    }
}

/// The reading side of a session, for the thread that reads its shell's output: Sendable, as
/// it holds only descriptors, the token and the files (which have a lock of their own).
struct SessionReader: Sendable {
    let sessionId: Int
    let output: Int32
    let errors: Int32
    let token: String
    let files: SessionFiles

    /// What the reader saw.
    enum Event {
        /// A command's two markers have arrived: its exit status (for 0, the shell's pid).
        case finished(sequence: Int, status: Int)
        /// The shell ended; nil when no status came (killed, or the connection dropped).
        case ended(status: Int?)
    }

    /// Reads the shell's stdout and stderr until both end, writing each command's output to
    /// its files and reporting its end. Runs on a thread of its own.
    func read(_ report: (Event) -> Void) {
        var out = MarkerStream(marker: Array((token + ":").utf8))
        var err = MarkerStream(marker: Array((token + ":").utf8))
        var finishedOut: [Int: Int] = [:]
        var finishedErr: Set<Int> = []
        var endStatus: Int? = nil
        var fds = [
            pollfd(fd: output, events: Int16(POLLIN), revents: 0),
            pollfd(fd: errors, events: Int16(POLLIN), revents: 0),
        ]
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while fds.contains(where: { $0.fd >= 0 }) {
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for index in 0..<2 where fds[index].fd >= 0 && fds[index].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fds[index].fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    Glibc.close(fds[index].fd)
                    fds[index].fd = -1
                    continue
                }
                let isError = index == 1
                var lines: [String] = []
                if isError {
                    err.feed(buffer[..<n], emit: { files.store($0, toError: true) }, found: { lines.append($0) })
                } else {
                    out.feed(buffer[..<n], emit: { files.store($0, toError: false) }, found: { lines.append($0) })
                }
                for line in lines {
                    let parts = line.split(separator: " ")
                    if isError {
                        if let sequence = Int(line) { finishedErr.insert(sequence) }
                    } else if parts.first == "end" {
                        endStatus = parts.count > 1 ? Int(parts[1]) : nil
                    } else if parts.count == 2, let sequence = Int(parts[0]), let status = Int(parts[1]) {
                        finishedOut[sequence] = status
                    }
                }
                for (sequence, status) in finishedOut where finishedErr.contains(sequence) {
                    finishedOut[sequence] = nil
                    finishedErr.remove(sequence)
                    report(.finished(sequence: sequence, status: status))
                }
            }
        }
        // What was held back in case it began a marker is output too.
        files.store(out.rest(), toError: false)
        files.store(err.rest(), toError: true)
        files.set(-1, -1)
        report(.ended(status: endStatus))
    }
}

/// The files a remote session's current command writes to, which the reader thread writes and
/// the registry changes between commands.
final class SessionFiles: Sendable {
    private let descriptors = Mutex<(output: Int32, error: Int32)>((-1, -1))

    func set(_ output: Int32, _ error: Int32) {
        descriptors.withLock { files in
            if files.output >= 0 { Glibc.close(files.output) }
            if files.error >= 0 { Glibc.close(files.error) }
            files = (output, error)
        }
    }

    func store(_ bytes: ArraySlice<UInt8>, toError: Bool) {
        guard !bytes.isEmpty else { return }
        descriptors.withLock { files in
            let fd = toError ? files.error : files.output
            guard fd >= 0 else { return }
            _ = FileWriter.writeAll(fd, bytes)
        }
    }
}

struct SessionError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A byte stream with markers in it: `MARKER` + text + newline. Bytes before a marker are
/// output; a tail that could be the start of a marker is held until more arrives.
struct MarkerStream {
    let marker: [UInt8]
    private var pending: [UInt8] = []

    init(marker: [UInt8]) { self.marker = marker }

    mutating func feed(_ bytes: ArraySlice<UInt8>, emit: (ArraySlice<UInt8>) -> Void, found: (String) -> Void) {
        pending += bytes
        var start = 0
        while true {
            guard let at = pending[start...].firstRange(of: marker)?.lowerBound else {
                // Keep what could be the beginning of a marker.
                let keep = min(pending.count - start, marker.count - 1)
                var cut = pending.count - keep
                while cut < pending.count, !marker.starts(with: pending[cut...]) { cut += 1 }
                emit(pending[start..<cut])
                pending.removeSubrange(0..<cut)
                return
            }
            let textStart = at + marker.count
            guard let newline = pending[textStart...].firstIndex(of: 10) else {
                emit(pending[start..<at])
                pending.removeSubrange(0..<at)
                return
            }
            emit(pending[start..<at])
            found(String(decoding: pending[textStart..<newline], as: UTF8.self))
            start = newline + 1
        }
    }

    /// What is held back, at the end of the stream.
    mutating func rest() -> ArraySlice<UInt8> {
        defer { pending = [] }
        return pending[...]
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
