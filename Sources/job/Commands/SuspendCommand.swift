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

/// `job suspend`, `job resume` and `job signal`: signals to running jobs, which go on.
enum SuspendVerb {
    static let suspendSpec = VerbSpec(
        name: "suspend", summary: "suspend running jobs (SIGSTOP) until resumed",
        usage: ["suspend SELECTOR... [OPTIONS]"],
        about: """
            Suspend running jobs: SIGSTOP to each one's whole process group. They are
            Suspended until job resume; their --timeout clock stops meanwhile, wait does not
            count them as finished, and job stop still stops them. A job on another computer
            is stopped there (its computer needs setsid, as every Linux has). A Slurm job
            waiting in Slurm's queue is held there (scontrol uhold); a running one is
            suspended by scontrol suspend, which Slurm allows its operators only (the
            refusal is reported, and the job runs on). Commands in sessions cannot be
            suspended yet.
            """,
        operands: SelectionArguments.operands, operandCompletion: .jobs,
        options: SelectionArguments.options + [SelectionArguments.passThru, SelectionArguments.format()])

    static let resumeSpec = VerbSpec(
        name: "resume", summary: "resume suspended jobs (SIGCONT)", usage: ["resume SELECTOR... [OPTIONS]"],
        about: """
            Resume suspended jobs: SIGCONT to each one's process group. They are Running
            again. A held Slurm job is released (scontrol release) and waits in Slurm's
            queue again; a suspended one is resumed (scontrol resume).
            """,
        operands: SelectionArguments.operands, operandCompletion: .jobs,
        options: SelectionArguments.options + [SelectionArguments.passThru, SelectionArguments.format()])

    static let signalSpec = VerbSpec(
        name: "signal", summary: "send a signal to running jobs without stopping them",
        usage: ["signal SELECTOR... --signal NAME [OPTIONS]"],
        about: """
            Send a signal to unfinished jobs' process groups without stopping them (a daemon
            that reloads on HUP). Finished jobs are refused.
            """,
        operands: SelectionArguments.operands, operandCompletion: .jobs,
        options: SelectionArguments.options + [
            .option("--signal", "NAME", completes: .signals, "HUP, SIGUSR1, 10..."),
            SelectionArguments.passThru, SelectionArguments.format(),
        ])

    static func suspend(_ parsed: ParsedArguments) throws {
        let selection = try Terminal.requiredSelection(parsed, verb: "suspend")
        _ = try Terminal.format(parsed)
        try finish(try JobClient().suspending(selection), parsed: parsed)
    }

    static func resume(_ parsed: ParsedArguments) throws {
        let selection = try Terminal.requiredSelection(parsed, verb: "resume")
        _ = try Terminal.format(parsed)
        try finish(try JobClient().resuming(selection), parsed: parsed)
    }

    static func signal(_ parsed: ParsedArguments) throws {
        let selection = try Terminal.requiredSelection(parsed, verb: "signal")
        guard let text = parsed.value("--signal") else {
            throw CLIFailure.usage("job signal needs --signal NAME (HUP, USR1, TERM, or a number)")
        }
        let number = try signalNumber(text)
        _ = try Terminal.format(parsed)
        try finish(try JobClient().signalling(selection, number), parsed: parsed)
    }

    /// A signal's number from `HUP`, `SIGHUP` or `1`.
    static func signalNumber(_ text: String) throws -> Int {
        guard let number = SignalName.number(text) else {
            throw CLIFailure.usage("--signal takes a signal such as HUP, SIGUSR1 or 15, not '\(text)'")
        }
        return number
    }

    static func finish(_ reply: Partly<[Job]>, parsed: ParsedArguments) throws {
        if parsed.flag("--pass-thru") { try Terminal.show(reply.value, parsed: parsed) }
        if Terminal.report(reply.problems) { throw CLIFailure.failed() }
    }
}
