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

/// `job log`: a job's output read without consuming it, the `docker logs` habit.
enum LogVerb {
    static let spec = VerbSpec(
        name: "log", summary: "show jobs' output without consuming it (--tail, --follow)",
        usage: ["log SELECTOR... [--tail N] [--follow] [--stdout|--stderr]"],
        about: """
            Write the jobs' output from the start, stdout to stdout and stderr to stderr, and
            leave it unreceived: job receive still gets all of it (receive keeps PowerShell's
            consuming Receive-Job). With --follow it goes on as the jobs write, and ends when they
            end, with the exit status receive --wait would give.
            """,
        operands: SelectionArguments.operands, operandCompletion: .jobs,
        options: SelectionArguments.options + [
            .option("--tail", "N", "only the last N lines of each stream"),
            .flag("--follow", short: "-f", "go on as the jobs write, until they end; exit with their status"),
            .flag("--stdout", "only standard output"),
            .flag("--stderr", "only standard error"),
            .flag("--prefix", "start each line with 'NAME: ' (default: when the jobs span several computers)"),
            .flag("--no-prefix", "never start lines with 'NAME: '"),
        ])

    static func run(_ parsed: ParsedArguments) throws {
        let selection = try Terminal.requiredSelection(parsed, verb: "log")
        guard !(parsed.flag("--stdout") && parsed.flag("--stderr")) else {
            throw CLIFailure.usage("give --stdout or --stderr, not both (neither: both streams)")
        }
        let prefix: Bool? = parsed.flag("--prefix") ? true : parsed.flag("--no-prefix") ? false : nil
        var session = ReceiveSession(
            client: try JobClient(), selection: selection, keep: true, fromStart: true, noRecurse: false,
            prefix: prefix, json: false)
        session.tailLines = try parsed.integer("--tail")
        session.only = parsed.flag("--stdout") ? .output : parsed.flag("--stderr") ? .error : nil
        let follow = parsed.flag("--follow")
        let grants = try follow ? session.streamUntilFinished() : session.round()
        let problems = Terminal.report(session.problems ?? [])
        if follow {
            for grant in grants where grant.state == .failed {
                Terminal.error("\(Terminal.named(grant)) failed: \(grant.reason ?? "failed")")
            }
            let status = ReceiveVerb.status(of: grants)
            if status != 0 { throw CLIFailure(status: status, message: "") }
        }
        if problems { throw CLIFailure.failed() }
    }
}
