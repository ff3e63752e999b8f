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
#if canImport(Glibc)
    import Glibc
#endif

enum WaitVerb {
    static let spec = VerbSpec(
        name: "wait", summary: "wait until jobs have finished", usage: ["wait [SELECTOR...] [OPTIONS]"],
        about: """
            Wait until the selected jobs (default: every unfinished job) have finished, then
            print them. Exits 0 whatever their outcome; 124 when --timeout passes (printing
            nothing, the jobs keep running). At a terminal, a line on stderr shows how many
            have finished and for how long it has waited, and is cleared at the end.
            """,
        operands: SelectionArguments.operands, operandCompletion: .jobs,
        options: SelectionArguments.options + [
            .flag("--any", "return when any one of them has finished"),
            .option("--timeout", "DURATION", "give up after this long (90s, 15m, 2h, or seconds; 0 polls)"),
            SelectionArguments.format(),
        ] + RemoteAgents.options)

    static func run(_ parsed: ParsedArguments) throws {
        if let remote = try RemoteAgents(parsed) {
            return try remote.runListing(verb: "wait", parsed: parsed, printsJobs: true)
        }
        // A duration as --timeout takes everywhere, or 0 for a look without waiting.
        let timeout = try parsed.value("--timeout").map { text in
            text == "0" || text == "0s" ? 0 : try QueueArguments.duration(text, of: "--timeout")
        }
        let selection = try Terminal.selection(parsed)
        let any = parsed.flag("--any")
        _ = try Terminal.format(parsed)
        let client = try JobClient()
        // At a terminal a long wait shows how it is going, on stderr, and clears it at the end.
        let response =
            isatty(2) == 1
            ? try waitShowingProgress(client, selection, any: any, timeout: timeout)
            : try client.waiting(for: selection, any: any, timeout: timeout)
        if case .timedOut = response.value {
            Terminal.report(response.problems)
            throw CLIFailure(status: 124, message: "")
        }
        try Terminal.show(response.value.jobs, parsed: parsed)
        if Terminal.report(response.problems) { throw CLIFailure.failed() }
    }

    /// Waits in steps of a second; after each step that did not end the wait, a line on stderr
    /// says how many of the jobs have finished and for how long it has waited. The jobs are
    /// the ones selected when the wait began: a job started meanwhile does not join it.
    static func waitShowingProgress(_ client: JobClient, _ selection: JobSelection, any: Bool, timeout: Double?)
        throws -> Partly<WaitOutcome>
    {
        let began = Date()
        let deadline = timeout.map { began.addingTimeInterval($0) }
        var step = selection
        var problems: [String]?
        var shown = false
        defer { if shown { Terminal.errorText("\r\u{1B}[K") } }
        while true {
            let left = deadline.map { max(0, $0.timeIntervalSinceNow) }
            var response = try client.waiting(for: step, any: any, timeout: min(1, left ?? 1))
            // The first step's selectors that named nothing are the wait's.
            response.problems = problems ?? response.problems
            guard case .timedOut(let jobs) = response.value else { return response }
            if let left, left <= 1 { return response }
            // A timed-out step lists the jobs it waits for, as they are now.
            if problems == nil {
                if jobs.isEmpty { return try client.waiting(for: selection, any: any, timeout: timeout) }
                step = JobSelection(selectors: jobs.map { String($0.id) })
                problems = response.problems
            }
            let finished = jobs.filter(\.state.isFinished).count
            let noun = jobs.count == 1 ? "job" : "jobs"
            let what = any ? "any of \(jobs.count) \(noun)" : "\(jobs.count) \(noun)"
            let elapsed = Int(-began.timeIntervalSinceNow)
            Terminal.errorText(
                "\rjob: waiting for \(what), \(finished) finished (\(elapsed) s)\u{1B}[K")
            shown = true
        }
    }
}
