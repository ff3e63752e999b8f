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

import Dispatch
import JobClient
import JobCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

enum StopVerb {
    static let spec = VerbSpec(
        name: "stop", summary: "stop jobs (their whole process groups)", usage: ["stop SELECTOR... [OPTIONS]"],
        about: """
            Stop jobs: SIGTERM to each job's whole process group, SIGKILL to what is left after
            the grace period. Returns once they have ended. Finished jobs are skipped. A process
            that leaves the job's process group on purpose (setsid, double fork) is out of reach.
            A job in Slurm is cancelled there (scancel): Slurm sends SIGTERM, then SIGKILL after
            the cluster's KillWait, not --grace; --signal goes to its steps first.
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
        let client = try JobClient()
        let response =
            isatty(2) == 1
            ? try stopSaying(client, selection, grace: grace, signal: first)
            : try client.stopping(selection, grace: grace, signal: first)
        if parsed.flag("--pass-thru") { try Terminal.show(response.value, parsed: parsed) }
        if Terminal.report(response.problems) { throw CLIFailure.failed() }
    }

    /// At a terminal, a stop still waiting after a second says what it sent and when SIGKILL
    /// follows, and at the end whether SIGKILL was needed: a job that ignores SIGTERM otherwise
    /// looks like a hung `job stop` for the grace period.
    static func stopSaying(_ client: JobClient, _ selection: JobSelection, grace: Double, signal first: Int?) throws
        -> Partly<[Job]>
    {
        let began = Date()
        let answered = DispatchSemaphore(value: 0)
        let said = Mutex(false)
        let signal = SignalName.of(first ?? Int(SIGTERM))
        DispatchQueue.global().async {
            guard answered.wait(timeout: .now() + 1) == .timedOut else { return }
            let left = max(1, Int((grace - 1).rounded(.up)))
            said.withLock { said in
                Terminal.error("\(signal) sent; SIGKILL follows in \(left) s to what has not ended (--grace)")
                said = true
            }
        }
        defer { answered.signal() }
        let response = try client.stopping(selection, grace: grace, signal: first)
        answered.signal()
        let elapsed = -began.timeIntervalSinceNow
        said.withLock { said in
            if said && elapsed >= grace { Terminal.error("SIGKILL sent to what \(signal) did not end") }
        }
        return response
    }
}
