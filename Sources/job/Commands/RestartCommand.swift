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

/// `job restart`: finished jobs run again in place.
enum RestartVerb {
    static let spec = VerbSpec(
        name: "restart", summary: "run finished jobs again, in place", usage: ["restart SELECTOR... [OPTIONS]"],
        about: """
            Run finished jobs again with the same command, working directory, environment,
            shell, computers or session, and --input file (read from its start; input that
            came from a pipe is not kept: /dev/null). A session's command runs again in that
            session, which must still be open. Each keeps its Id and Name and gets a new
            InstanceId, fresh output and one more Restarts; the earlier run's output is
            removed unless --keep-history. Running jobs are refused. A job started with queue
            options (--group, --timeout...) goes through the queue again; its dependencies and
            start time have passed.
            """,
        operands: SelectionArguments.operands, operandCompletion: .jobs,
        options: SelectionArguments.options + [
            .flag("--failed", "only the Failed and Stopped children (a fan-out's failed computers), in place"),
            .flag("--keep-history", "keep the earlier runs' output, listed under the job (History in list and JSON)"),
            .flag("--quiet", short: "-q", "print nothing"),
            SelectionArguments.format("how to print the restarted jobs"),
        ])

    static func run(_ parsed: ParsedArguments) throws {
        let selection = try Terminal.requiredSelection(parsed, verb: "restart")
        _ = try Terminal.format(parsed)
        let reply = try JobClient().restarting(
            selection, failedOnly: parsed.flag("--failed"), keepHistory: parsed.flag("--keep-history"))
        if !parsed.flag("--quiet") && !reply.value.isEmpty { try Terminal.show(reply.value, parsed: parsed) }
        if Terminal.report(reply.problems) { throw CLIFailure.failed() }
    }
}
