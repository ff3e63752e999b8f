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
import JobProtocol

/// `job`: background jobs for Unix shells, with PowerShell's job model.
enum JobCommand {
    static var help: String {
        let entries = CLISpec.entries
        return """
            job: background jobs for Unix shells, with the job model of PowerShell.

            Usage: job VERB [OPTIONS] [ARGUMENTS]
                   job                  the same as job get

            Verbs:
            \(entries.map { "  " + $0.name.padding(12) + $0.summary }.joined(separator: "\n"))

            `job help VERB` or `job VERB --help` describes a verb; `man job` describes them all.
            The jobs of a JOB_HOME (default ~/.local/state/job) are kept by one agent, started by
            the first verb that finds none.

            Exit statuses: 0 success; 1 an operation failed or was refused (a selector that matches
            nothing, a running job not removed); 2 bad usage; 124 a wait timed out. `receive --wait`
            exits with the job's own status when it selects one job that did not complete (128+N
            for signal N).

            """
    }

    /// `job --version`: the version and the commit it was built from.
    static var version: String { "job \(ProtocolVersion.product) (commit \(buildCommit))\n" }

    /// What works without reading the user's settings.
    static let verbsWithoutSettings: Names = [
        "help", "completions", CompletionsVerb.valuesVerb, AttachVerb.name, "--version", "-V", "version", "--help",
        "-h",
    ]

    /// The edit distance of two words (insertions, deletions, substitutions), for "did you mean".
    static func distance(_ one: String, _ other: String) -> Int {
        let a = Array(one.utf8)
        let b = Array(other.utf8)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// Runs the verb named by the first argument; none lists the jobs.
    static func run(_ arguments: [String]) throws {
        guard let verb = arguments.first else {
            _ = try UserSettings.current()
            return try GetVerb.run(ArgumentParsing.parse([], GetVerb.spec))
        }
        let rest = arguments.dropFirst()
        // A config file that cannot be used stops every verb the same way (exit 2, its file, line
        // and key), whether or not this verb needs a setting: a typo never goes unnoticed. Help,
        // the version and completions work all the same.
        let asksForHelp = rest.contains("--help") || rest.contains("-h")
        if !asksForHelp && !Self.verbsWithoutSettings.contains(verb) { _ = try UserSettings.current() }
        switch verb {
        case "start": try StartVerb.run(ArgumentParsing.parse(rest, StartVerb.spec))
        case "get": try GetVerb.run(ArgumentParsing.parse(rest, GetVerb.spec))
        case "invoke": try InvokeVerb.run(ArgumentParsing.parse(rest, InvokeVerb.spec))
        case "receive": try ReceiveVerb.run(ArgumentParsing.parse(rest, ReceiveVerb.spec))
        case "log": try LogVerb.run(ArgumentParsing.parse(rest, LogVerb.spec))
        case "wait": try WaitVerb.run(ArgumentParsing.parse(rest, WaitVerb.spec))
        case "stop": try StopVerb.run(ArgumentParsing.parse(rest, StopVerb.spec))
        case "remove": try RemoveVerb.run(ArgumentParsing.parse(rest, RemoveVerb.spec))
        case "session": try SessionVerb.run(rest)
        case "group": try GroupVerb.run(rest)
        case "restart": try RestartVerb.run(ArgumentParsing.parse(rest, RestartVerb.spec))
        case "rename": try RenameVerb.run(ArgumentParsing.parse(rest, RenameVerb.spec))
        case "suspend": try SuspendVerb.suspend(ArgumentParsing.parse(rest, SuspendVerb.suspendSpec))
        case "resume": try SuspendVerb.resume(ArgumentParsing.parse(rest, SuspendVerb.resumeSpec))
        case "signal": try SuspendVerb.signal(ArgumentParsing.parse(rest, SuspendVerb.signalSpec))
        case "enter": try EnterVerb.run(ArgumentParsing.parse(rest, EnterVerb.spec))
        case "agent": try AgentVerb.run(rest)
        case "config": try ConfigVerb.run(ArgumentParsing.parse(rest, ConfigVerb.spec))
        case "events": try EventsVerb.run(ArgumentParsing.parse(rest, EventsVerb.spec))
        case "help": try HelpVerb.run(ArgumentParsing.parse(rest, HelpVerb.spec))
        case "completions": try CompletionsVerb.run(ArgumentParsing.parse(rest, CompletionsVerb.spec))
        case CompletionsVerb.valuesVerb: CompletionsVerb.values(Array(rest))
        case AttachVerb.name:
            let status = AttachVerb.run(Array(rest))
            if status != 0 { throw CLIFailure(status: status, message: "") }
        case "--version", "-V", "version": Terminal.out(version)
        case "--help", "-h": Terminal.out(help)
        default:
            let names = CLISpec.entries.map(\.name)
            let near = names.filter { !$0.contains(" ") && Self.distance($0, verb) <= (verb.count < 3 ? 1 : 2) }
            let hint = near.isEmpty ? "" : "did you mean \(near.joined(separator: " or "))? "
            throw CLIFailure.usage("unknown verb '\(verb)'; \(hint)the verbs are \(names.joined(separator: ", "))")
        }
    }
}

/// `job help [VERB [VERB]]`: the help of `job`, of a verb, or the whole manual.
enum HelpVerb {
    static let spec = VerbSpec(
        name: "help", summary: "describe job or one of its verbs", usage: ["help [VERB [VERB]] [--man]"],
        about: """
            Print the help of job, or of a verb (job help stop, job help group set): the same
            text as job VERB --help. With --man, the manual page job(1) in roff, every verb in it.
            """,
        operandCompletion: .subverbs,
        options: [.flag("--man", "print the manual page (roff; man -l - reads it)")])

    static func run(_ parsed: ParsedArguments) throws {
        if parsed.flag("--man") { return Terminal.out(Manual.page()) }
        let words = parsed.positionals
        guard let first = words.first else { return Terminal.out(JobCommand.help) }
        guard let entry = CLISpec.entries.first(where: { $0.name == first }) else {
            throw CLIFailure.usage("no verb is named '\(first)'; job help lists them")
        }
        switch entry {
        case .verb(let verb):
            guard words.count == 1 else { throw CLIFailure.usage("job \(first) has no verbs of its own") }
            Terminal.out(verb.help)
        case .family(let family):
            guard words.count > 1 else { return Terminal.out(family.help) }
            guard words.count == 2, let verb = family.verb(words[1]) else {
                let verbs = family.verbs.map { String($0.name.split(separator: " ").last!) }
                throw CLIFailure.usage(
                    "job \(first) has no verb '\(words[1...].joined(separator: " "))'; its verbs are "
                        + verbs.joined(separator: ", "))
            }
            Terminal.out(verb.help)
        }
    }
}

/// An outcome that ends the command with a given status, a message on stderr (`job: ...`),
/// and optionally text for stdout or stderr as it is.
struct CLIFailure: Error {
    var status: Int32
    var message: String
    var output: String = ""
    var errorOutput: String = ""

    static func usage(_ message: String) -> CLIFailure { CLIFailure(status: 2, message: message) }
    static func failed(_ message: String = "") -> CLIFailure { CLIFailure(status: 1, message: message) }

    /// Runs a check of the input; what it refuses is a usage error (exit 2).
    @discardableResult
    static func checking<T>(_ check: () throws -> T) throws -> T {
        do {
            return try check()
        } catch let error as InputError {
            throw CLIFailure.usage(error.description)
        }
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
