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

/// `job session new | get | remove`: persistent sessions, PowerShell's PSSessions.
enum SessionVerb {
    static let family = VerbFamily(
        name: "session", summary: "persistent sessions: a shell per computer (new | get | remove)",
        about: """
            A session is a long-lived shell on one computer (localhost here, others over one ssh
            connection each) that keeps its working directory, variables, functions, aliases and
            umask between the commands run in it: job start --session S CMD, job invoke --session
            S[,S...] CMD, or interactively with job enter S. Its commands run one at a time, in
            order; each is a job of its own. A session whose shell ends (exit, exec, killed) or
            whose connection drops is Broken and takes no more commands. Sessions belong to the
            agent and end with it.
            """,
        verbs: [newSpec, getSpec, removeSpec])

    static let newSpec = VerbSpec(
        name: "session new", summary: "open sessions", usage: ["session new [--computer NAME[,NAME...]] [OPTIONS]"],
        about: """
            Open one session per computer (here, without --computer) and print them. With --name
            and several computers, each is named NAME@COMPUTER.
            """,
        options: [
            .option(
                "--computer", "NAMES", completes: .computers,
                "localhost, or computers reached over ssh: node sets, as invoke takes them (repeatable)"),
            .option("--exclude", "NODES", completes: .computers, "leave these computers out"),
            .option(
                "--computer-file", "FILE", completes: .files, "computers from a file, one node set a line (# comments)"),
            .option("--name", "NAME", "the session's name (default Session<Id>; NAME@COMPUTER for several)"),
            .option("--shell", "PATH", completes: .files, "the shell to run (default /bin/sh)"),
            .option("--ssh-option", "OPTION", "an option for ssh (repeatable)"),
            SelectionArguments.format(),
        ])
    static let getSpec = VerbSpec(
        name: "session get", summary: "list sessions", usage: ["session get [ID|NAME...] [--format table|list|json]"],
        about: """
            List sessions: Id, Name, ComputerName, State (Opened, Broken, Closed), Availability
            (Available, Busy) and how many commands were sent to each.
            """,
        operandCompletion: .sessions, options: [SelectionArguments.format()])
    static let removeSpec = VerbSpec(
        name: "session remove", summary: "close sessions", usage: ["session remove ID|NAME... [OPTIONS]"],
        about: """
            Close sessions: their shells end. A Busy session is refused unless --force, which
            stops its running command first. Commands still waiting in it are Stopped.
            """,
        operandCompletion: .sessions,
        options: [
            .flag("--force", "stop the running command, then close"),
            .option("--grace", "SECONDS", "with --force: time between SIGTERM and SIGKILL"),
            .flag("--pass-thru", "print the removed sessions (State Closed)"),
            SelectionArguments.format(),
        ])

    static func run(_ arguments: ArraySlice<String>) throws {
        guard let sub = arguments.first else { throw CLIFailure(status: 2, message: "", errorOutput: family.help) }
        let rest = arguments.dropFirst()
        switch sub {
        case "new": try new(ArgumentParsing.parse(rest, newSpec))
        case "get": try get(ArgumentParsing.parse(rest, getSpec))
        case "remove": try remove(ArgumentParsing.parse(rest, removeSpec))
        case "--help", "-h", "help": Terminal.out(family.help)
        default: throw CLIFailure.usage("unknown session verb '\(sub)'; use new, get or remove")
        }
    }

    static func new(_ parsed: ParsedArguments) throws {
        // Here when no computer is named, as enter and start run here.
        let given = !parsed.all("--computer").isEmpty || !parsed.all("--computer-file").isEmpty
        let computers =
            given ? try Terminal.computers(parsed, required: true, verb: "job session new").uniqued() : ["localhost"]
        let shell = try parsed.value("--shell") ?? UserSettings.current().shell.value
        guard shell.hasPrefix("/") else { throw CLIFailure.usage("--shell takes an absolute path, not '\(shell)'") }
        let format = try Terminal.format(parsed)
        let response = try JobClient().openingSessions(
            on: computers, name: try parsed.newName(), shell: shell, sshOptions: try parsed.sshOptions())
        show(response.value, format: format)
        if Terminal.report(response.problems) { throw CLIFailure.failed() }
    }

    static func get(_ parsed: ParsedArguments) throws {
        let format = try Terminal.format(parsed)
        let response = try JobClient().sessionsNamed(parsed.positionals)
        show(response.value, format: format)
        if Terminal.report(response.problems) { throw CLIFailure.failed() }
    }

    static func remove(_ parsed: ParsedArguments) throws {
        guard !parsed.positionals.isEmpty else {
            throw CLIFailure.usage("job session remove needs a session: give its Id or name")
        }
        let format = try Terminal.format(parsed)
        let response = try JobClient().removingSessions(
            parsed.positionals, force: parsed.flag("--force"),
            grace: try parsed.number("--grace") ?? UserSettings.current().grace.value)
        if parsed.flag("--pass-thru") { show(response.value, format: format) }
        if Terminal.report(response.problems) { throw CLIFailure.failed() }
    }

    static func show(_ sessions: [SessionRecord], format: JobFormat) {
        switch format {
        case .table: Terminal.out(SessionFormatter.table(sessions))
        case .list: Terminal.out(SessionFormatter.list(sessions))
        case .json: Terminal.out(SessionFormatter.json(sessions))
        }
    }
}

extension Array where Element == String {
    /// The names in order, each once (one session per computer).
    func uniqued() -> [String] {
        var seen: [String] = []
        for name in self where !seen.contains(name) { seen.append(name) }
        return seen
    }
}
