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

#if canImport(Glibc)
    import Glibc
#endif

enum AgentVerb {
    static let family = VerbFamily(
        name: "agent", summary: "run, stop or inspect the agent (run | stop | status)",
        about: "The agent keeps the jobs of one JOB_HOME; the first verb that finds none starts it.",
        verbs: [runSpec, stopSpec, statusSpec, logSpec])

    static let runSpec = VerbSpec(
        name: "agent run", summary: "run the agent in the foreground", usage: ["agent run [OPTIONS]"],
        about: """
            Run the agent in the foreground, as a service manager runs it (what a verb that finds
            none starts in the background). It ends on SIGTERM or job agent stop; running jobs
            keep running.
            """,
        options: [
            .option(
                "--home", "DIR", completes: .directories,
                "the JOB_HOME to keep (default: JOB_HOME, else ~/.local/state/job)"),
            .option("--ready-fd", "N", "a descriptor on which to say, by closing it, that the agent answers"),
        ])
    static let stopSpec = VerbSpec(
        name: "agent stop", summary: "end the agent", usage: ["agent stop"],
        about: "End the agent; running jobs keep running. Exits 0 also when none ran.")
    static let logSpec = VerbSpec(
        name: "agent log", summary: "the agent's log", usage: ["agent log [--tail N] [--follow]"],
        about: """
            Print the agent's log, JOB_HOME/agent.log: one line per event (starts, adoptions of the
            last agent's jobs, failures, refusals, restarts), with its time, level and the agent's
            pid. It is capped at 1 MiB: past that it becomes agent.log.1, which this prints first.
            With --tail N only its last N lines; with --follow it goes on printing what is added,
            until Ctrl-C.
            """,
        options: [
            .option("--tail", "N", "only the last N lines"),
            .flag("--follow", short: "-f", "go on printing lines as they are written, until Ctrl-C"),
        ])
    static let statusSpec = VerbSpec(
        name: "agent status", summary: "the agent's pid, socket, version and job counts",
        usage: ["agent status [--format list|json]"],
        about: "The agent's pid, socket, home, version, start time and job counts. Exits 1 when none runs.",
        options: [.option("--format", "list|json", "how to print it")])

    static func run(_ arguments: ArraySlice<String>) throws {
        guard let sub = arguments.first else { throw CLIFailure(status: 2, message: "", errorOutput: family.help) }
        let rest = arguments.dropFirst()
        switch sub {
        case "run":
            try runAgent(Array(rest))
        case "stop":
            try stop(ArgumentParsing.parse(rest, stopSpec))
        case "log":
            try showLog(ArgumentParsing.parse(rest, logSpec))
        case "status":
            try status(ArgumentParsing.parse(rest, statusSpec))
        case "--help", "-h", "help":
            Terminal.out(family.help)
        default:
            throw CLIFailure.usage("unknown agent command '\(sub)'; use run, stop or status")
        }
    }

    /// Runs the agent in the foreground: `job-agent run`, which lives beside `job`.
    static func runAgent(_ arguments: [String]) throws {
        _ = try ArgumentParsing.parse(arguments[...], runSpec)
        let program = JobClient.defaultAgentExecutable()
        withCStringArray(["job-agent", "run"] + arguments) { argv in _ = execv(program, argv) }
        throw CLIFailure.failed("cannot run the agent \(program): \(String(cString: strerror(errno)))")
    }

    static func stop(_ parsed: ParsedArguments) throws {
        let client: JobClient
        do {
            client = try JobClient(autoStart: false)
        } catch {
            if error.code == .noAgent { return }
            throw error
        }
        let pid: Int
        do {
            pid = try client.status().pid
            try client.shutdown()
        } catch {
            // An agent of another version, or one that does not answer: end it by its pid.
            guard let pid = JobClient.terminateAgent(home: client.home) else { throw error }
            Terminal.out("stopped the agent (pid \(pid))\n")
            return
        }
        // The agent removes its socket and then exits, which closes this connection: once
        // it reads end-of-file the next verb finds no agent.
        var byte: UInt8 = 0
        while read(client.socketFD, &byte, 1) > 0 {}
        Terminal.out("stopped the agent (pid \(pid))\n")
    }

    static func status(_ parsed: ParsedArguments) throws {
        let format = try Terminal.format(parsed)
        let client: JobClient
        do {
            client = try JobClient(autoStart: false)
        } catch {
            if error.code == .noAgent { throw CLIFailure.failed(error.message) }
            throw error
        }
        let status = try client.status()
        let counts = status.jobs.keys.sorted().map { "\($0) \(status.jobs[$0]!)" }.joined(separator: ", ")
        let unit = systemdUnit(of: status.pid)
        let log = status.home + "/agent.log"
        let executable = linkTarget("/proc/\(status.pid)/exe")
        let warning = executable.flatMap(executableWarning)
        if format == .json {
            let pairs = [
                "\"pid\": \(status.pid)", "\"socket\": \(JSONText.string(status.socket))",
                "\"home\": \(JSONText.string(status.home))", "\"version\": \(JSONText.string(status.version))",
                "\"protocolVersion\": \(status.protocolVersion)",
                "\"startTime\": \(JSONText.string(Timestamp.format(status.startTime)))",
                "\"systemdUnit\": \(unit.map(JSONText.string) ?? "null")", "\"log\": \(JSONText.string(log))",
                "\"jobs\": {"
                    + status.jobs.keys.sorted().map { "\(JSONText.string($0)): \(status.jobs[$0]!)" }
                    .joined(separator: ", ") + "}",
                "\"notices\": [" + status.notices.map(JSONText.string).joined(separator: ", ") + "]",
                "\"executable\": \(executable.map(JSONText.string) ?? "null")",
                "\"warning\": \(warning.map(JSONText.string) ?? "null")",
            ]
            Terminal.out("{\n  " + pairs.joined(separator: ",\n  ") + "\n}\n")
        } else {
            Terminal.out(
                """
                Pid       : \(status.pid)
                Socket    : \(status.socket)
                Home      : \(status.home)
                Version   : \(status.version)
                StartTime : \(Timestamp.format(status.startTime))
                Jobs      : \(counts.isEmpty ? "none" : counts)
                Managed   : \(unit.map { "by systemd, unit \($0)" } ?? "no: started on demand by job")
                Log       : \(log)
                Program   : \(executable ?? "unknown")

                """)
            if let warning { Terminal.out("Warning   : \(warning)\n") }
            // What the agent found wrong at its start: one line each, to read before anything else.
            for notice in status.notices { Terminal.out("Notice    : \(notice)\n") }
        }
    }

    /// The file a symbolic link names (`/proc/PID/exe`: the program a process runs), or nil.
    static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// What is wrong with the program the agent runs, if anything: it was replaced or removed
    /// since it started (an install while it ran), or it is not the `job-agent` this client
    /// starts (`JOB_AGENT_EXECUTABLE`, else the one beside `job`): an old agent of another build
    /// may be serving. Either way `job agent stop` lets the next verb start the right one.
    static func executableWarning(_ executable: String) -> String? {
        let fix = "`job agent stop`, and the next verb starts the right one"
        if executable.hasSuffix(" (deleted)") {
            return "the agent's program was replaced or removed since it started (an install?): \(fix)"
        }
        let expected = ProcessEnvironment.variable("JOB_AGENT_EXECUTABLE") ?? JobClient.defaultAgentExecutable()
        guard let wanted = realPath(expected), realPath(executable) != wanted else { return nil }
        return "the agent runs \(executable), not \(wanted), which this job starts: \(fix)"
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The systemd unit whose cgroup holds a process (`job-agent.service`), or nil when no
    /// service manages it (started on demand, or systemd is not there).
    static func systemdUnit(of pid: Int) -> String? {
        guard let text = readText("/proc/\(pid)/cgroup") else { return nil }
        for line in text.split(separator: "\n") {
            guard let path = line.split(separator: ":", maxSplits: 2).last else { continue }
            for part in path.split(separator: "/").reversed() where part.hasSuffix(".service") {
                // user@UID.service is the user's manager, not a unit of the agent's.
                if part.hasPrefix("user@") { break }
                return String(part)
            }
        }
        return nil
    }

    /// `job agent log`: the rotated file, then the current one; with --follow, what is added,
    /// across rotations (a new file at the path is read from its start).
    static func showLog(_ parsed: ParsedArguments) throws {
        let home = JobHome.resolve(environment: ProcessEnvironment.dictionary())
        let path = home.logPath
        let tail = try parsed.integer("--tail")
        var fd = open(path, O_RDONLY | O_CLOEXEC)
        if let tail {
            // The last N lines of the two files together: from the current file, and from the
            // rotated one when the current holds fewer.
            let current = (fd >= 0 ? readText(path, limit: 1 << 21) : nil) ?? ""
            let lines =
                (readText(path + ".1") ?? "").split(separator: "\n", omittingEmptySubsequences: false)
                .dropLast() + current.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            let shown = lines.suffix(tail)
            if !shown.isEmpty { Terminal.out(shown.joined(separator: "\n") + "\n") }
            if fd >= 0 { lseek(fd, 0, SEEK_END) }
        } else if let old = readText(path + ".1") {
            Terminal.out(old)
        }
        guard fd >= 0 || parsed.flag("--follow") else {
            if errno == ENOENT { return }
            throw CLIFailure.failed("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        func drain() {
            guard fd >= 0 else { return }
            while true {
                let count = read(fd, &buffer, buffer.count)
                guard count > 0 else { return }
                var slice = buffer[0..<count]
                _ = FileWriter.writeAll(1, &slice)
            }
        }
        if tail == nil { drain() }
        guard parsed.flag("--follow") else { return }
        while true {
            usleep(200_000)
            drain()
            // Rotated: the path names a new file; read it from its start.
            var atPath = stat()
            var open = stat()
            let moved =
                stat(path, &atPath) == 0 && (fd < 0 || (fstat(fd, &open) == 0 && open.st_ino != atPath.st_ino))
            if moved {
                if fd >= 0 { close(fd) }
                fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
                drain()
            }
        }
    }
}
