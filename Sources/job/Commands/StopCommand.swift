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

enum StopVerb {
    static let spec = VerbSpec(
        name: "stop", summary: "stop jobs (their whole process groups)", usage: ["stop SELECTOR... [OPTIONS]"],
        about: """
            Stop jobs: SIGTERM to each job's whole process group, SIGKILL to what is left after
            the grace period. Returns once they have ended. Finished jobs are skipped. A process
            that leaves the job's process group on purpose (setsid, double fork) is out of reach.
            """,
        operands: SelectionArguments.operands, operandCompletion: .jobs,
        options: SelectionArguments.options + [
            .option("--grace", "SECONDS", "time between SIGTERM and SIGKILL (default 5)"),
            .option(
                "--signal", "NAME", completes: .signals,
                "send this signal first instead of SIGTERM (INT, HUP, ...); SIGKILL still follows the grace period"),
            .flag("--pass-thru", "print the stopped jobs"),
            SelectionArguments.format(),
        ] + RemoteAgents.options)

    static func run(_ parsed: ParsedArguments) throws {
        let selection = try Terminal.requiredSelection(parsed, verb: "stop")
        if let remote = try RemoteAgents(parsed) {
            return try remote.runListing(verb: "stop", parsed: parsed, printsJobs: parsed.flag("--pass-thru"))
        }
        let grace = try parsed.number("--grace") ?? UserSettings.current().grace.value
        let first = try parsed.value("--signal").map(SuspendVerb.signalNumber)
        _ = try Terminal.format(parsed)
        let response = try JobClient().send(StopRequest(selection, grace: grace, signal: first))
        if parsed.flag("--pass-thru") { try Terminal.show(response.jobs, parsed: parsed) }
        if Terminal.report(response.problems) { throw CLIFailure.failed() }
    }
}
