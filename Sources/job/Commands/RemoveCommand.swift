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

enum RemoveVerb {
    static let spec = VerbSpec(
        name: "remove", summary: "delete finished jobs and their output", usage: ["remove SELECTOR... [OPTIONS]"],
        about: """
            Delete finished jobs and all their stored output. An unfinished job is refused
            unless --force, which stops it first. A child goes only with its parent.
            """,
        operands: SelectionArguments.operands, operandCompletion: .jobs,
        options: SelectionArguments.options + [
            .flag("--force", "stop unfinished jobs, then remove them"),
            .option("--grace", "SECONDS", "with --force: time between SIGTERM and SIGKILL"),
            .option(
                "--older-than", "DURATION",
                "only jobs that ended at least this long ago (7d, 12h); alone, every such job"),
            .flag("--pass-thru", "print the removed jobs (as they were)"),
            SelectionArguments.format(),
        ] + RemoteAgents.options)

    static func run(_ parsed: ParsedArguments) throws {
        let olderThan = try parsed.value("--older-than").map { try QueueArguments.duration($0, of: "--older-than") }
        let selection =
            olderThan == nil ? try Terminal.requiredSelection(parsed, verb: "remove") : try Terminal.selection(parsed)
        if let remote = try RemoteAgents(parsed) {
            return try remote.runListing(verb: "remove", parsed: parsed, printsJobs: parsed.flag("--pass-thru"))
        }
        _ = try Terminal.format(parsed)
        let grace = try parsed.number("--grace") ?? UserSettings.current().grace.value
        let response = try JobClient().removing(
            selection, force: parsed.flag("--force"), grace: grace, olderThan: olderThan)
        if parsed.flag("--pass-thru") { try Terminal.show(response.value, parsed: parsed) }
        if Terminal.report(response.problems) { throw CLIFailure.failed() }
    }
}
