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

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

enum GetVerb {
    static let spec = VerbSpec(
        name: "get", summary: "list jobs", usage: ["get [SELECTOR...] [OPTIONS]"],
        about: "List jobs, sorted by Id: every parent job unless selectors or filters say otherwise.",
        operands: SelectionArguments.operands, operandCompletion: .jobs,
        options: SelectionArguments.options + [
            .flag("--include-children", "list child jobs too"),
            .flag("--wide", "the table with ExitStatus, Duration and Group columns too"),
            .option("--children-of", "ID", completes: .jobs, "list the children of this job"),
            .option("--command", "PATTERN", "jobs whose command matches"),
            .option("--has-more-data", "true|false", "jobs with (or without) output not yet received"),
            .option("--before", "TIME", "jobs that ended before this time (ISO 8601)"),
            .option("--after", "TIME", "jobs that ended after this time (ISO 8601)"),
            .option("--group", "NAME", completes: .groups, "jobs of this queue group (default: without --group)"),
            SelectionArguments.format(),
        ] + RemoteAgents.options)

    static func run(_ parsed: ParsedArguments) throws {
        if let remote = try RemoteAgents(parsed) {
            return try remote.runListing(verb: "get", parsed: parsed, printsJobs: true)
        }
        var options = GetRequest(try Terminal.selection(parsed, resolvingNewest: false))
        options.includeChildren = parsed.flag("--include-children")
        options.childrenOf = parsed.value("--children-of")
        options.command = parsed.value("--command")
        if let text = parsed.value("--has-more-data") {
            switch text.lowercased() {
            case "true": options.hasMoreData = true
            case "false": options.hasMoreData = false
            default: throw CLIFailure.usage("--has-more-data takes true or false, not '\(text)'")
            }
        }
        options.before = try parsed.value("--before").map(time)
        options.after = try parsed.value("--after").map(time)
        options.newest = try parsed.integer("--newest")
        options.group = parsed.value("--group")
        // A table, the usual case, needs only the rows' columns.
        if parsed.flag("--wide") {
            guard parsed.value("--format") == nil || parsed.value("--format") == "table" else {
                throw CLIFailure.usage("--wide widens the table; it does not go with --format list or json")
            }
            let response = try JobClient().getting(options)
            Terminal.showTable(response.value.map { JobRow.wide($0.record) }, wide: true)
            if Terminal.report(response.problems) { throw CLIFailure.failed() }
            return
        }
        if parsed.value("--format") == nil || parsed.value("--format") == "table" {
            let response = try JobClient().rows(options)
            Terminal.showTable(response.value)
            if Terminal.report(response.problems) { throw CLIFailure.failed() }
            return
        }
        _ = try Terminal.format(parsed)
        let response = try JobClient().getting(options)
        try Terminal.show(response.value, parsed: parsed)
        if Terminal.report(response.problems) { throw CLIFailure.failed() }
    }

    static func time(_ text: String) throws -> Date {
        guard let date = Timestamp.parse(text) else {
            throw CLIFailure.usage("'\(text)' is not a time; write it as ISO 8601, e.g. 2026-11-25T09:30:00Z")
        }
        return date
    }
}
