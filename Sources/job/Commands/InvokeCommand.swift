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

#if canImport(Glibc)
    import Glibc
#endif

enum InvokeVerb {
    static let spec = VerbSpec(
        name: "invoke", summary: "run a command on computers (over ssh), now or as a job",
        usage: ["invoke --computer NAME[,NAME...] [OPTIONS] [--] COMMAND..."],
        about: """
            Run a command on one or more computers: a RemoteJob parent with one child per
            computer, in the order given. `localhost` (or `.`) runs here; any other name
            (host, user@host, host:port, user@host:port) goes through the system ssh client with
            your ssh configuration (or JOB_SSH_CONFIG), BatchMode=yes and a connect timeout. On
            the other side the command runs under /bin/sh -c in the login environment plus --env.

            Without --as-job it streams every computer's output as it arrives, each line
            prefixed 'NAME: ', prints each failed computer's Reason at the end, and exits 0
            only if every computer completed; Ctrl-C stops them all. With --as-job it prints the
            job at once; use get, receive, wait, stop and remove on it.

            With --durable each remote child runs as a job in its computer's own agent, and this
            agent mirrors it over the shared connection: when the link is lost (seen within
            about 15 s) the child is Disconnected while its command goes on there; the agent
            links again by itself (every 1 s, doubling to 30 s; for reconnect-for, 1 h by
            default) and the output goes on exactly where it stopped. A stop meanwhile is
            delivered once the link is back. Without it a lost link ends the remote command.
            --deploy is --durable for computers that may lack job: on first use the agent copies
            its own job and job-agent to ~/.cache/job/VERSION/ there over the same connection,
            checked by SHA-256, when the computer's OS and architecture (uname) match this one's.
            """,
        operandCompletion: .command,
        options: [
            .option(
                "--computer", "NAMES", completes: .computers,
                "computers: web1,db1, ranges web[01-20,25] and rack[1-2]-n[01-16], groups @name from "
                    + "~/.config/job/groups (repeatable)"),
            .option(
                "--exclude", "NODES", completes: .computers, "leave these computers out (node sets, as --computer)"),
            .option(
                "--computer-file", "FILE", completes: .files, "computers from a file, one node set a line (# comments)"),
            .option(
                "--session", "IDS|NAMES", completes: .sessions,
                "run in these sessions instead (job session new), one child each, in their state"),
        ] + SchedulerArguments.options(what: "run it on a cluster instead (Slurm: sbatch), its lines tagged by task")
            + [
                .flag("--as-job", "return at once with the job"),
                .flag(
                    "--durable",
                    "run each remote child as a job in that computer's agent (job must be installed there), mirrored "
                        + "here: it keeps running through a lost link (Disconnected) and is picked up again"),
                .flag(
                    "--deploy",
                    "--durable, with this job copied to ~/.cache/job/ on each computer that lacks this version "
                        + "(checked by checksum; the computer's OS and architecture must match)"),
                .option(
                    "--file", "SCRIPT", completes: .files,
                    "run this local script on each computer instead of a command; what follows -- are its "
                        + "arguments (PowerShell's -FilePath; up to 96 KiB)"),
                .option("--name", "NAME", "the job's name (default Job<Id>)"),
                .option("--throttle-limit", "N", "at most N computers at once (default 32)"),
                .option("--ssh-option", "OPTION", "an option for ssh, e.g. -oPort=2222 (repeatable)"),
                .option("--env", "KEY=VALUE", "set a variable for the command (repeatable)"),
                .option(
                    "--input", "FILE|-", completes: .files,
                    "every child's stdin: this file, or - for this command's stdin (read once, sent to each computer)"),
                .flag("--prefix", "tag lines with the computer (default: when there are several computers)"),
                .flag("--no-prefix", "never tag lines with the computer"),
                .option(
                    "--format", "text|json|table|list",
                    "streamed output as text or JSON records; with --as-job: table, list or json for the job"),
                .flag("--quiet", short: "-q", "with --as-job: print only the job's Id"),
            ] + QueueArguments.options,
        stopsAtFirstPositional: true)

    static func run(_ parsed: ParsedArguments) throws {
        if let scheduler = parsed.value("--scheduler") {
            return try runInScheduler(scheduler, parsed)
        }
        let computers = try Terminal.computers(parsed, required: false)
        let sessions = parsed.all("--session").flatMap { $0.split(separator: ",").map(String.init) }
        guard sessions.isEmpty || computers.isEmpty else {
            throw CLIFailure.usage("give --computer or --session, not both")
        }
        let queue = try QueueArguments.parse(parsed)
        if !sessions.isEmpty {
            for option in ["--throttle-limit", "--env", "--ssh-option", "--durable", "--deploy", "--input"]
                + QueueArguments.options.map(\.name)
            where parsed.value(option) != nil || (option.hasPrefix("--d") && parsed.flag(option)) {
                throw CLIFailure.usage("\(option) does not go with --session: the command runs in the session's shell")
            }
        }
        guard !computers.isEmpty || !sessions.isEmpty else {
            throw CLIFailure.usage("job invoke needs --computer NAME[,NAME...] or --session S; see job invoke --help")
        }
        let words = parsed.positionals
        let command: String
        if let script = parsed.value("--file") {
            command = try scriptCommand(script, arguments: words)
        } else {
            guard !words.isEmpty else { throw CLIFailure.usage("job invoke needs a command, or --file SCRIPT") }
            command = words.count == 1 ? words[0] : words.map(ShellQuote.quote).joined(separator: " ")
        }
        try ShellQuote.refuseBlank(command)
        let client = try JobClient()
        // The input is copied into the jobs folder first: every child, also one that starts
        // later, gets the same bytes, and `-` can be a pipe.
        let input = try parsed.value("--input").map { try copyInput(StartVerb.openInput($0), home: client.home) }
        defer { if let input { close(input) } }
        let job: Job
        if !sessions.isEmpty {
            job = try client.start(command, inSessions: sessions, name: try parsed.newName(), asInvoke: true)
        } else {
            let throttle = try parsed.integer("--throttle-limit") ?? UserSettings.current().throttleLimit.value
            guard throttle >= 1 else {
                throw CLIFailure.usage("--throttle-limit takes a number of computers, 1 or more")
            }
            var environment: [String] = []
            for entry in parsed.all("--env") {
                try CLIFailure.checking { try InputCheck.environmentEntry(entry) }
                environment.append(entry)
            }

            var local = ProcessEnvironment.entries()
            for entry in environment {
                let key = entry[...entry.firstIndex(of: "=")!]
                local.removeAll { $0.hasPrefix(key) }
                local.append(entry)
            }
            job = try client.invoke(
                command, on: computers, name: try parsed.newName(), throttleLimit: throttle,
                sshOptions: try parsed.sshOptions(), remoteEnvironment: environment, environment: local,
                queue: queue, durable: parsed.flag("--durable"), deploy: parsed.flag("--deploy"), input: input)
        }
        try finish(job, client: client, parsed: parsed)
    }

    /// With `--as-job`, the job (or its Id) printed at once; else its output streamed.
    static func finish(_ job: Job, client: @autoclosure () throws -> JobClient, parsed: ParsedArguments) throws {
        if parsed.flag("--as-job") {
            if parsed.flag("--quiet") {
                Terminal.out("\(job.id)\n")
            } else {
                Terminal.show([job], format: try Terminal.format(parsed))
            }
            return
        }
        try stream(job, client: try client(), parsed: parsed)
    }

    /// `invoke --scheduler slurm`: submitted as `start --scheduler` does, then streamed (each
    /// line tagged by its task where there are several) until every task ended, and removed.
    static func runInScheduler(_ scheduler: String, _ parsed: ParsedArguments) throws {
        for option in ["--computer-file", "--session", "--file"] where parsed.value(option) != nil {
            throw CLIFailure.usage("\(option) does not go with --scheduler")
        }
        for option in ["--durable", "--deploy"] where parsed.flag(option) {
            throw CLIFailure.usage("\(option) does not go with --scheduler")
        }
        let words = parsed.positionals
        guard !words.isEmpty else { throw CLIFailure.usage("job invoke needs a command") }
        let command = try ShellQuote.commandLine(words)
        let queue = try QueueArguments.parse(parsed)
        let job = try StartVerb.submit(scheduler, command, parsed, timeout: queue.timeout)
        try finish(job, client: try JobClient(), parsed: parsed)
    }

    /// A private copy of the input in the jobs folder (`.input-XXXXXX`; the agent renames it
    /// to the parent's), open for reading; `source` is closed.
    static func copyInput(_ source: Int32, home: JobHome) throws -> Int32 {
        defer { if source != 0 { close(source) } }
        var template = Array((home.jobsPath + "/.input-XXXXXX").utf8CString)
        let copy = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if copy >= 0 { _ = fcntl(copy, F_SETFD, FD_CLOEXEC) }
        guard copy >= 0 else {
            throw CLIFailure.failed("cannot copy --input into \(home.jobsPath): \(String(cString: strerror(errno)))")
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 {
                let problem = String(cString: strerror(errno))
                close(copy)
                template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
                throw CLIFailure.failed("cannot read --input: \(problem)")
            }
            if count == 0 { break }
            var bytes = buffer[..<count]
            guard FileWriter.writeAll(copy, &bytes) == count else {
                let problem = String(cString: strerror(errno))
                close(copy)
                template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
                throw CLIFailure.failed("cannot copy --input into \(home.jobsPath): \(problem)")
            }
        }
        lseek(copy, 0, SEEK_SET)
        return copy
    }

    /// The most of a script `--file` ships: the command travels as one argument of the remote
    /// shell, which Linux caps at 128 KiB, and the script is quoted in it.
    static let scriptLimit = 96 * 1024

    /// `--file SCRIPT -- ARGS`: a command that writes the script to a private temporary file
    /// on the computer, runs it with the arguments (by its `#!` line, or by the shell when it
    /// has none), and removes it.
    static func scriptCommand(_ path: String, arguments: [String]) throws -> String {
        guard let text = readText(path) else {
            throw CLIFailure.usage("cannot read --file \(path): \(String(cString: strerror(errno)))")
        }
        guard text.utf8.count <= scriptLimit else {
            throw CLIFailure.usage(
                "--file \(path) is \(SizeText.text(Int64(text.utf8.count))); a script of at most 96 KB can be "
                    + "shipped (copy a larger one with scp, then invoke it)")
        }
        guard !text.utf8.contains(0) else { throw CLIFailure.usage("--file \(path) is not a text script") }
        return "f=$(mktemp \"${TMPDIR:-/tmp}/job-script.XXXXXX\") || exit 127; trap 'rm -f \"$f\"' EXIT; "
            + "printf '%s' \(ShellQuote.quote(text)) >\"$f\" && chmod 700 \"$f\" && \"$f\" "
            + arguments.map(ShellQuote.quote).joined(separator: " ")
    }

    /// Streams a job's output until it ends, then removes it (as Invoke-Command without
    /// -AsJob leaves no job behind). Ctrl-C stops every child first.
    static func stream(_ job: Job, client: JobClient, parsed: ParsedArguments) throws {
        let selection = JobSelection(selectors: [String(job.id)])
        let prefix: Bool? = parsed.flag("--prefix") ? true : parsed.flag("--no-prefix") ? false : nil
        var session = ReceiveSession(
            client: client, selection: selection, keep: false, fromStart: false, noRecurse: false, prefix: prefix,
            json: parsed.value("--format") == "json")
        // At a terminal (and not as JSON), a progress line on stderr; never on a pipe.
        if isatty(2) == 1 && parsed.value("--format") != "json" { session.progress = ProgressLine() }
        let interrupt = Interruption.install()
        let grants: [StreamGrant]
        do {
            grants = try session.streamUntilFinished(interrupt: interrupt)
        } catch is ReceiveSession.Interrupted {
            _ = try client.stopping(selection, grace: 5)
            _ = try client.removing(selection, force: true)
            throw CLIFailure(status: 130, message: "stopped on every computer")
        }
        for grant in grants where grant.state == .failed {
            Terminal.error("\(grant.computer): \(grant.reason ?? "failed")")
        }
        _ = try client.removing(selection, force: true)
        let status = ReceiveVerb.status(of: grants)
        if status != 0 { throw CLIFailure(status: status, message: "") }
    }
}

/// Ctrl-C while a command streams: the handler writes to a pipe the streaming loop polls.
enum Interruption {
    nonisolated(unsafe) static var pipeWriteEnd: Int32 = -1

    /// Empties the pipe after an interruption was handled.
    static func drain(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        var byte: UInt8 = 0
        while read(fd, &byte, 1) > 0 {}
        _ = fcntl(fd, F_SETFL, flags)
    }

    static func install() -> Int32 {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return -1 }
        pipeWriteEnd = fds[1]
        signal(SIGINT) { _ in
            var byte: UInt8 = 1
            _ = write(Interruption.pipeWriteEnd, &byte, 1)
        }
        signal(SIGTERM) { _ in
            var byte: UInt8 = 1
            _ = write(Interruption.pipeWriteEnd, &byte, 1)
        }
        return fds[0]
    }
}
