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
import JobClient
import JobCore
import JobProtocol
import JobRemote

#if canImport(Glibc)
    import Glibc
#endif

/// `--computer` on get, receive, wait, stop and remove: the verb runs in each named computer's
/// own agent, through the `job` installed there (over ssh; `localhost` runs this program
/// here), all computers at once. What comes back is tagged with the computer: rows carry it
/// (the `Computer` column, the JSON key `computer`), output and message lines start with
/// `NAME: `.
struct RemoteAgents {
    static let options: [OptionSpec] = [
        .option(
            "--computer", "NAMES", completes: .computers,
            "do it in the agents of these computers, over ssh: web1,db1, web[01-20], @group (repeatable; "
                + "localhost is here)"),
        .option("--exclude", "NODES", completes: .computers, "leave these computers out (node sets, as --computer)"),
        .option(
            "--computer-file", "FILE", completes: .files, "computers from a file, one node set a line (# comments)"),
        .option("--remote-job", "PATH", "the job program there (default: job, from its PATH)"),
        .option("--ssh-option", "OPTION", "an option for ssh, e.g. -oPort=2222 (repeatable)"),
    ]
    static let names = Names(options.map(\.name))

    let computers: [ComputerName]
    let remoteJob: String
    let sshOptions: [String]

    /// The computers of `--computer`, or nil when it was not given (the verb runs here).
    init?(_ parsed: ParsedArguments) throws {
        let names = try Terminal.computers(parsed, required: false)
        guard !names.isEmpty else {
            if parsed.value("--remote-job") != nil || !parsed.all("--ssh-option").isEmpty {
                throw CLIFailure.usage("--remote-job and --ssh-option go with --computer NAME[,NAME...]")
            }
            return nil
        }
        let computers = names.compactMap { try? ComputerName($0) }
        let remoteJob = parsed.value("--remote-job") ?? "job"
        guard !remoteJob.isEmpty, !remoteJob.contains(where: { $0 == "\n" || $0 == "\0" }) else {
            throw CLIFailure.usage("--remote-job takes the path of job on the other computers")
        }
        self.computers = computers
        self.remoteJob = remoteJob
        self.sshOptions = try parsed.sshOptions()
    }

    /// What one computer answered.
    struct Outcome {
        var computer: String
        /// The exit status of `job` there (1 when it could not run).
        var status: Int32
        /// Its stdout, when collected.
        var output: [UInt8] = []
        /// Why the verb did not run there (ssh failed, no `job` there).
        var failure: String?
    }

    /// How the computers' stdout is handled: kept for the caller, or written as it arrives.
    enum Sink {
        case collect
        /// Each line tagged `NAME: ` (when `prefix`), or JSON records given their computer.
        case stream(prefix: Bool, json: Bool)
    }

    // MARK: - Verbs that print jobs, or nothing

    /// Runs a verb that prints jobs (`printsJobs`) or only messages, on every computer, and
    /// prints the rows together. Exits as the verb would, combining the computers' statuses.
    func runListing(verb: String, parsed: ParsedArguments, printsJobs: Bool) throws {
        let format = try Terminal.format(parsed)
        let arguments =
            [verb]
            + parsed.arguments(without: Self.names.union(["--format"]), adding: printsJobs ? ["--format=wire"] : [])
        let outcomes = run(arguments, sink: .collect)
        var statuses: [Int32] = []
        var groups: [[JobRecord]] = []
        for var outcome in outcomes {
            if outcome.failure == nil, printsJobs, !outcome.output.isEmpty {
                do {
                    var rows = try JobRows.decode(outcome.output)
                    for index in rows.indices { rows[index].computer = outcome.computer }
                    groups.append(rows)
                } catch {
                    outcome.failure = error.description
                }
            }
            if let failure = outcome.failure {
                Terminal.error("\(outcome.computer): \(failure)")
                outcome.status = 1
            }
            statuses.append(outcome.status)
        }
        if format == .list {
            // Each computer's jobs are listed with the names of that computer's jobs.
            Terminal.out(groups.filter { !$0.isEmpty }.map { JobFormatter.list($0, all: $0) }.joined(separator: "\n"))
        } else {
            Terminal.show(groups.flatMap { $0 }, format: format)
        }
        let status = Self.combined(statuses)
        if status != 0 { throw CLIFailure(status: status, message: "") }
    }

    /// One status for several computers: theirs when there is one computer; else 0 when all
    /// succeeded, 2 for bad usage, 124 when the only trouble was a timed-out wait, else 1.
    static func combined(_ statuses: [Int32]) -> Int32 {
        if statuses.count == 1 { return statuses[0] }
        if statuses.allSatisfy({ $0 == 0 }) { return 0 }
        if statuses.contains(2) { return 2 }
        if statuses.allSatisfy({ $0 == 0 || $0 == 124 }) { return 124 }
        return 1
    }

    // MARK: - Running `job` there

    /// Runs `job ARGUMENTS` on every computer at once. Their stderr is always written as it
    /// arrives, each line tagged `NAME: ` (unless the sink says no prefix).
    func run(_ arguments: [String], sink: Sink) -> [Outcome] {
        let environment = ProcessEnvironment.dictionary()
        let configuration = environment["JOB_SSH_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        let controlFolder = SSHCommand.controlFolder(home: JobHome.resolve(environment: environment))
        let ssh = SSHCommand.program(environment: ProcessEnvironment.entries())
        let remoteText = ([remoteJob] + arguments.map(SSHCommand.quote)).joined(separator: " ")
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(devNull) }

        var outcomes: [Outcome] = []
        var running: [Running] = []
        for computer in computers {
            var outcome = Outcome(computer: computer.text, status: 1)
            var diagnostics: String? = nil
            let program: String
            let argv: [String]
            if computer.isLocal {
                program = Self.ownPath()
                argv = ["job"] + arguments
            } else {
                // ssh's own messages go to a file of their own (-E): they explain a failure.
                var template = Array("/tmp/job-ssh-XXXXXX".utf8CString)
                let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
                if fd >= 0 { close(fd) }
                let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
                diagnostics = path
                program = ssh
                argv = SSHCommand.arguments(
                    computer: computer, remoteText: remoteText, options: sshOptions, diagnostics: path,
                    configuration: configuration, controlFolder: controlFolder)
            }
            var out: [Int32] = [0, 0]
            var err: [Int32] = [0, 0]
            guard cjob_pipe_cloexec(&out) == 0 else {
                outcome.failure = "could not make a pipe: \(String(cString: strerror(errno)))"
                outcomes.append(outcome)
                continue
            }
            guard cjob_pipe_cloexec(&err) == 0 else {
                close(out[0])
                close(out[1])
                outcome.failure = "could not make a pipe: \(String(cString: strerror(errno)))"
                outcomes.append(outcome)
                continue
            }
            let pid = withCStringArray(argv) { cjob_spawn_with_stdio(program, $0, nil, devNull, out[1], err[1], 0) }
            close(out[1])
            close(err[1])
            if pid < 0 {
                outcome.failure = "could not run \(program): \(String(cString: strerror(errno)))"
                close(out[0])
                close(err[0])
                if let diagnostics { unlink(diagnostics) }
                outcomes.append(outcome)
                continue
            }
            var json = false
            if case .stream(_, let wantsJSON) = sink { json = wantsJSON }
            let tag = Array((computer.text + ": ").utf8)
            running.append(
                Running(
                    index: outcomes.count, pid: pid, diagnostics: diagnostics,
                    output: out[0], error: err[0], outputLines: LineTagger(tag: tag, json: json ? computer.text : nil),
                    errorLines: LineTagger(tag: tag)))
            outcomes.append(outcome)
        }
        pump(&running, into: &outcomes, sink: sink)
        for process in running {
            var status: Int32 = 0
            while waitpid(process.pid, &status, 0) < 0 && errno == EINTR {}
            // WIFEXITED and WTERMSIG are macros Swift cannot see: decode by hand.
            let signal = status & 0x7f
            var outcome = outcomes[process.index]
            outcome.status = signal == 0 ? (status >> 8) & 0xff : 128 + signal
            if let diagnostics = process.diagnostics {
                if outcome.status == 255 {
                    outcome.failure = SSHCommand.diagnosis(path: diagnostics) ?? "ssh failed (exit status 255)"
                }
                unlink(diagnostics)
            }
            if outcome.status == 127 && outcome.failure == nil {
                outcome.failure =
                    "\(remoteJob) was not found there: install job on it, or give its path with --remote-job PATH"
            }
            outcomes[process.index] = outcome
        }
        return outcomes
    }

    /// One `job` (or ssh) process and what is still to be read from it.
    struct Running {
        var index: Int
        var pid: pid_t
        var diagnostics: String?
        var output: Int32
        var error: Int32
        var outputLines: LineTagger
        var errorLines: LineTagger
    }

    /// Reads every process's stdout and stderr until all have ended. When our own reader
    /// goes away (EPIPE), stops reading, so that the others see it too and stop.
    private func pump(_ running: inout [Running], into outcomes: inout [Outcome], sink: Sink) {
        var readerGone = false
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        func emit(_ fd: Int32, _ bytes: [UInt8]) {
            guard !readerGone, !bytes.isEmpty else { return }
            var slice = bytes[...]
            if FileWriter.writeAll(fd, &slice) < bytes.count { readerGone = true }
        }
        while true {
            var fds: [pollfd] = []
            var owners: [(Int, Bool)] = []
            for (position, process) in running.enumerated() {
                if process.output >= 0 {
                    fds.append(pollfd(fd: process.output, events: Int16(POLLIN), revents: 0))
                    owners.append((position, true))
                }
                if process.error >= 0 {
                    fds.append(pollfd(fd: process.error, events: Int16(POLLIN), revents: 0))
                    owners.append((position, false))
                }
            }
            if fds.isEmpty { return }
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                return
            }
            if readerGone {
                // Closing the pipes ends the others' writes too (EPIPE), so they stop.
                for process in running {
                    if process.output >= 0 { close(process.output) }
                    if process.error >= 0 { close(process.error) }
                }
                for position in running.indices { (running[position].output, running[position].error) = (-1, -1) }
                return
            }
            for (slot, descriptor) in fds.enumerated() where descriptor.revents != 0 {
                let (position, isOutput) = owners[slot]
                let n = buffer.withUnsafeMutableBytes { read(descriptor.fd, $0.baseAddress, $0.count) }
                if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                let bytes = n > 0 ? buffer[..<n] : []
                let atEnd = n <= 0 || readerGone
                if isOutput {
                    switch sink {
                    case .collect:
                        outcomes[running[position].index].output += bytes
                    case .stream(let prefix, let json):
                        emit(1, prefix || json ? running[position].outputLines.feed(bytes, final: atEnd) : Array(bytes))
                    }
                } else {
                    var tagged = true
                    if case .stream(let prefix, _) = sink { tagged = prefix }
                    emit(2, tagged ? running[position].errorLines.feed(bytes, final: atEnd) : Array(bytes))
                }
                if atEnd {
                    if isOutput {
                        close(running[position].output)
                        running[position].output = -1
                    } else {
                        close(running[position].error)
                        running[position].error = -1
                    }
                }
            }
        }
    }

    /// This program's own path, to run `localhost` here.
    static func ownPath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return n > 0 ? String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "/proc/self/exe"
    }
}

/// Splits a stream into lines and starts each with a tag (`NAME: `); a last line without a
/// newline is held until more comes or the stream ends. JSON records (one per line) instead
/// get their `computer` set to the computer's name, when it was `localhost` on the other side.
struct LineTagger {
    let tag: [UInt8]
    /// The computer's name, for JSON records; nil for text lines.
    let json: String?
    var carry: [UInt8] = []

    init(tag: [UInt8], json: String? = nil) {
        self.tag = tag
        self.json = json
    }

    mutating func feed(_ bytes: ArraySlice<UInt8>, final: Bool) -> [UInt8] {
        carry += bytes
        var out: [UInt8] = []
        var start = carry.startIndex
        while let newline = carry[start...].firstIndex(of: 10) {
            append(carry[start...newline], to: &out)
            start = newline + 1
        }
        carry.removeSubrange(..<start)
        if final && !carry.isEmpty {
            append(carry[...] + [10], to: &out)
            carry = []
        }
        return out
    }

    private func append(_ line: ArraySlice<UInt8>, to out: inout [UInt8]) {
        guard let name = json else {
            out += tag
            out += line
            return
        }
        let local = Array("\"computer\":\"localhost\"".utf8)
        if let range = line.firstRange(of: local) {
            out += line[..<range.lowerBound]
            out += Array(("\"computer\":" + JSONText.string(name)).utf8)
            out += line[range.upperBound...]
        } else {
            out += line
        }
    }
}
