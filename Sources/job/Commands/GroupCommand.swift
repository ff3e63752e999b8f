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

/// `job group set | get | pause | resume | remove`: the queue's groups.
enum GroupVerb {
    static let family = VerbFamily(
        name: "group", summary: "the queue's groups: limits and pauses (set | get | pause | resume | remove)",
        about: """
            A group holds jobs started with --group NAME: at most its limit of their children run
            at once (0: no limit), the rest wait NotStarted and start in order as places free.
            A paused group starts nothing new; what runs goes on (to drain it before maintenance).
            Jobs without --group are in the group default, which has no limit unless set. Groups
            and their settings are kept in the store, across restarts of the agent.
            """,
        verbs: [setSpec, getSpec, pauseSpec, resumeSpec, removeSpec])

    static let setSpec = VerbSpec(
        name: "group set", summary: "set groups' limits", usage: ["group set NAME... --limit N"],
        about: """
            Set groups' limit (made when new): at most N of their jobs' children run at once;
            0 means no limit. Jobs waiting in them start at once if the new limit lets them.
            """,
        operandCompletion: .groups,
        options: [
            .option("--limit", "N", "the most that run at once, 0 for no limit"),
            .option("--format", "table|json", "how to print the groups"),
        ])
    static let getSpec = VerbSpec(
        name: "group get", summary: "list groups", usage: ["group get [NAME...] [--format table|json]"],
        about: """
            List groups: Name, Limit (none: no limit), Running, Queued (waiting NotStarted) and
            Paused. Without names: every group that has settings or jobs, and default.
            """,
        operandCompletion: .groups, options: [.option("--format", "table|json", "how to print the groups")])
    static let pauseSpec = VerbSpec(
        name: "group pause", summary: "start nothing new in groups", usage: ["group pause NAME..."],
        about: "Start nothing new in these groups; what runs goes on. job group resume undoes it.",
        operandCompletion: .groups, options: [.option("--format", "table|json", "how to print the groups")])
    static let resumeSpec = VerbSpec(
        name: "group resume", summary: "let paused groups start jobs again", usage: ["group resume NAME..."],
        about: "Let paused groups start jobs again, in order, within their limits.",
        operandCompletion: .groups, options: [.option("--format", "table|json", "how to print the groups")])
    static let removeSpec = VerbSpec(
        name: "group remove", summary: "forget empty groups", usage: ["group remove NAME..."],
        about: """
            Forget groups' settings. Only a group with nothing running or waiting in it can be
            removed; default cannot.
            """,
        operandCompletion: .groups, options: [.option("--format", "table|json", "how to print the groups")])

    static func run(_ arguments: ArraySlice<String>) throws {
        guard let sub = arguments.first else { throw CLIFailure(status: 2, message: "", errorOutput: family.help) }
        let rest = arguments.dropFirst()
        switch sub {
        case "set": try set(ArgumentParsing.parse(rest, setSpec))
        case "get": try get(ArgumentParsing.parse(rest, getSpec))
        case "pause": try pause(ArgumentParsing.parse(rest, pauseSpec), paused: true)
        case "resume": try pause(ArgumentParsing.parse(rest, resumeSpec), paused: false)
        case "remove": try remove(ArgumentParsing.parse(rest, removeSpec))
        case "--help", "-h", "help": Terminal.out(family.help)
        default: throw CLIFailure.usage("unknown group verb '\(sub)'; use set, get, pause, resume or remove")
        }
    }

    static func names(_ parsed: ParsedArguments, verb: String) throws -> [String] {
        guard !parsed.positionals.isEmpty else { throw CLIFailure.usage("job group \(verb) needs a group's name") }
        for name in parsed.positionals { try CLIFailure.checking { try InputCheck.groupName(name) } }
        return parsed.positionals
    }

    static func set(_ parsed: ParsedArguments) throws {
        let names = try names(parsed, verb: "set")
        guard let limit = try parsed.integer("--limit") else {
            throw CLIFailure.usage("job group set needs --limit N (0 for no limit)")
        }
        guard limit >= 0 else { throw CLIFailure.usage("--limit takes a number of jobs, 0 (no limit) or more") }
        try finish(try JobClient().settingGroups(names, limit: limit, paused: nil), parsed: parsed, show: true)
    }

    static func pause(_ parsed: ParsedArguments, paused: Bool) throws {
        let names = try names(parsed, verb: paused ? "pause" : "resume")
        try finish(try JobClient().settingGroups(names, limit: nil, paused: paused), parsed: parsed, show: false)
    }

    static func get(_ parsed: ParsedArguments) throws {
        try finish(try JobClient().groupsNamed(parsed.positionals), parsed: parsed, show: true)
    }

    static func remove(_ parsed: ParsedArguments) throws {
        let names = try names(parsed, verb: "remove")
        try finish(try JobClient().removingGroups(names), parsed: parsed, show: false)
    }

    static func finish(_ reply: Partly<[JobGroup]>, parsed: ParsedArguments, show: Bool) throws {
        let format = try Terminal.format(parsed)
        if show || format == .json {
            switch format {
            case .json: Terminal.out(json(reply.value))
            case .table, .list: Terminal.out(table(reply.value))
            }
        }
        if Terminal.report(reply.problems) { throw CLIFailure.failed() }
    }

    static func table(_ groups: [JobGroup]) -> String {
        TextTable.render(
            columns: ["Name", "Limit", "Running", "Queued", "Paused"],
            rows: groups.map {
                [
                    $0.name, $0.limit.map(String.init) ?? "none", String($0.running), String($0.queued),
                    $0.paused ? "True" : "False",
                ]
            })
    }

    /// `[{"name": "build", "limit": 4, "running": 4, "queued": 12, "paused": false}]`.
    static func json(_ groups: [JobGroup]) -> String {
        guard !groups.isEmpty else { return "[]\n" }
        let objects = groups.map { group in
            "  {\"name\": \(JSONText.string(group.name)), \"limit\": \(group.limit ?? 0), \"running\": \(group.running), "
                + "\"queued\": \(group.queued), \"paused\": \(group.paused)}"
        }
        return "[\n" + objects.joined(separator: ",\n") + "\n]\n"
    }
}
