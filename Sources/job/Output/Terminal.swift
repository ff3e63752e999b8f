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

/// Where the command's own text goes: results to stdout, messages to stderr.
enum Terminal {
    static func error(_ message: String) {
        errorText("job: " + message + "\n")
    }

    static func errorText(_ text: String) {
        var bytes = Array(text.utf8)[...]
        _ = FileWriter.writeAll(2, &bytes)
    }

    /// Writes text to stdout unbuffered, so that it is in order with direct writes.
    static func out(_ text: String) {
        out(bytes: Array(text.utf8))
    }

    static func out(bytes: [UInt8]) {
        var bytes = bytes[...]
        _ = FileWriter.writeAll(1, &bytes)
    }

    /// The width to fit tables into when stdout is a terminal; nil into a pipe or file.
    static func tableWidth() -> Int? {
        guard isatty(1) == 1 else { return nil }
        if let text = getenv("COLUMNS"), let columns = Int(String(cString: text)), columns > 0 {
            return columns
        }
        let width = Int(cjob_terminal_columns(1))
        return width > 0 ? width : 80
    }

    static func show(_ jobs: [Job], format: JobFormat) { show(jobs.map(\.record), format: format) }

    static func show(_ jobs: [Job], parsed: ParsedArguments) throws { try show(jobs.map(\.record), parsed: parsed) }

    static func show(_ jobs: [JobRecord], format: JobFormat) {
        switch format {
        case .table: showTable(jobs.map(JobRow.init))
        case .list: out(JobFormatter.list(jobs, all: jobs))
        case .json: out(bytes: JobFormatter.jsonBytes(jobs))
        }
    }

    /// Rows as the table, fitted to the terminal when stdout is one, States in colour when
    /// `colors` says so.
    static func showTable(_ rows: [JobRow], wide: Bool = false) {
        out(bytes: JobFormatter.tableBytes(rows, width: tableWidth(), wide: wide, colors: colors))
    }

    /// `--color`: auto (the default), always or never.
    enum ColorChoice: String { case auto, always, never }
    /// `--color`, when given; else the config file's `color`, else auto.
    nonisolated(unsafe) static var colorChoice: ColorChoice?

    /// Whether tables show States in colour: always, never, or (auto) when stdout is a
    /// terminal, `NO_COLOR` is unset or empty and `TERM` is not `dumb` (no-color.org).
    static var colors: Bool {
        let choice =
            colorChoice ?? ((try? UserSettings.current()).flatMap { ColorChoice(rawValue: $0.color.value) } ?? .auto)
        switch choice {
        case .always: return true
        case .never: return false
        case .auto:
            if let value = getenv("NO_COLOR"), value.pointee != 0 { return false }
            if let term = getenv("TERM"), String(cString: term) == "dumb" { return false }
            return isatty(1) == 1
        }
    }

    /// Reports per-selector problems on stderr; true when there were any.
    @discardableResult
    static func report(_ problems: [String]) -> Bool {
        for problem in problems { error(problem) }
        return !problems.isEmpty
    }

    /// Prints jobs in the `--format` asked for. `wire` (left out of the help) prints them as
    /// `JobRows` bytes: what another computer's `job` reads under `--computer`.
    static func show(_ jobs: [JobRecord], parsed: ParsedArguments) throws {
        if parsed.value("--format") == "wire" {
            var bytes = JobRows.encode(jobs)[...]
            _ = FileWriter.writeAll(1, &bytes)
            return
        }
        show(jobs, format: try format(parsed))
    }

    static func format(_ parsed: ParsedArguments) throws -> JobFormat {
        guard let text = parsed.value("--format") else { return .table }
        if text == "wire" { return .table }
        guard let format = JobFormat(rawValue: text) else {
            throw CLIFailure.usage("--format takes table, list or json, not '\(text)'")
        }
        return format
    }

    /// The selection of the command line. `%` is the newest job; `--newest N` (unless
    /// `resolvingNewest` is false: `get` sends it to the agent) picks the N newest of the rest.
    static func selection(_ parsed: ParsedArguments, resolvingNewest: Bool = true) throws -> JobSelection {
        var states: [JobState] = []
        for name in parsed.all("--state") {
            guard let state = JobState(name: name) else {
                throw CLIFailure.usage(
                    "unknown state '\(name)'; use one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            states.append(state)
        }
        // `--computer`: the other computers' `job` reads the rest.
        let here = parsed.all("--computer").isEmpty
        var selectors = parsed.positionals
        if here && selectors.contains(where: { $0.split(separator: ",").contains(Substring(newestSelector)) }) {
            guard let newest = try newestJobs(.every, count: 1).first else {
                throw CLIFailure.failed("\(newestSelector) names the newest job, and there is none yet")
            }
            // In a comma list (`%,3`) too.
            selectors = selectors.map { selector in
                selector.split(separator: ",", omittingEmptySubsequences: false)
                    .map { $0 == newestSelector ? String(newest) : String($0) }.joined(separator: ",")
            }
        }
        let selection = JobSelection(
            selectors: selectors, names: parsed.all("--name"), states: states, all: parsed.flag("--all"))
        guard resolvingNewest, here, let count = try parsed.integer("--newest") else { return selection }
        // The N newest of what the rest selects, or of every job.
        let ids = try newestJobs(selection.isEmpty ? .every : selection, count: count)
        guard !ids.isEmpty else { throw CLIFailure.failed("--newest \(count): no job matches") }
        return .ids(ids)
    }

    /// A job as a message names it: as the agent titled it (`build (Job1)`, `Job1 on server02
    /// (Job3)`), else by its name and Id.
    static func named(_ grant: StreamGrant) -> String {
        if let title = grant.title { return title }
        return grant.name == "Job\(grant.id)" ? grant.name : "\(grant.name) (Job\(grant.id))"
    }

    /// The selector for the newest job: `job receive %` (the shell's `%%` is its current job).
    static let newestSelector = "%"

    /// The Ids of the newest `count` parents of a selection, oldest first.
    static func newestJobs(_ selection: JobSelection, count: Int) throws -> [Int] {
        var request = GetRequest(selection)
        request.newest = count
        let reply = try JobClient().rows(request)
        if report(reply.problems) { throw CLIFailure.failed() }
        return reply.value.map(\.id)
    }

    /// The computers of `--computer` (node sets: `web[01-20]`, `@group`, comma-separated,
    /// repeatable) and `--computer-file` (one node set a line, `#` comments), less those of
    /// `--exclude`, in order (a name given twice runs twice), each checked; a usage error, before anything runs,
    /// for bad syntax (with its position) and for a name that could be an ssh option or holds
    /// what no computer name does.
    static func computers(_ parsed: ParsedArguments, required: Bool, verb: String = "") throws -> [String] {
        var texts = parsed.all("--computer")
        for file in parsed.all("--computer-file") {
            guard let text = readText(file) else {
                throw CLIFailure.usage("cannot read --computer-file \(file): \(String(cString: strerror(errno)))")
            }
            for line in text.split(separator: "\n") {
                let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                let trimmed = content.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: ",")
                if !trimmed.isEmpty { texts.append(trimmed) }
            }
        }
        let groups = try ComputerGroups.load(needed: (texts + parsed.all("--exclude")).contains { $0.contains("@") })
        func expand(_ text: String) throws -> [String] {
            do {
                return try NodeSet.expand(text) { groups.sets[$0] }
            } catch {
                let hint = error.problem.hasPrefix("no group") ? " (groups are read from \(groups.path))" : ""
                throw CLIFailure.usage("\(error)\(hint)")
            }
        }
        var names: [String] = []
        for text in texts { names += try expand(text) }
        let excluded = try parsed.all("--exclude").flatMap(expand)
        let given = !names.isEmpty
        names.removeAll { excluded.contains($0) }
        if required && names.isEmpty {
            throw CLIFailure.usage(
                given
                    ? "\(verb): --exclude leaves no computer"
                    : "\(verb) needs --computer NAME[,NAME...] (localhost for this computer)")
        }
        for name in names {
            do {
                _ = try ComputerName(name)
            } catch {
                throw CLIFailure.usage("\(error)")
            }
        }
        return names
    }

    /// For verbs that must not act on everything by default.
    static func requiredSelection(_ parsed: ParsedArguments, verb: String) throws -> JobSelection {
        let selection = try selection(parsed)
        if selection.isEmpty {
            throw CLIFailure.usage(
                "job \(verb) needs a job: give an Id, an InstanceId, a name, --name, --state or --all")
        }
        return selection
    }
}

/// The groups of computers the user named: `$XDG_CONFIG_HOME/job/groups` (else
/// `~/.config/job/groups`), `name: nodes` a line, read only when a list names a group.
struct ComputerGroups {
    var path: String
    var sets: [String: String]

    static func load(needed: Bool) throws -> ComputerGroups {
        let base =
            ProcessEnvironment.variable("XDG_CONFIG_HOME").flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? ((ProcessEnvironment.variable("HOME") ?? "") + "/.config")
        let path = base + "/job/groups"
        guard needed, let text = readText(path) else { return ComputerGroups(path: path, sets: [:]) }
        do {
            return ComputerGroups(path: path, sets: try NodeSet.groups(file: text, path: path))
        } catch {
            throw CLIFailure.usage(error.problem)
        }
    }
}
