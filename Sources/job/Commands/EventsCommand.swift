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

#if canImport(Glibc)
    import Glibc
#endif

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `job events`: job changes as they happen, one line each.
enum EventsVerb {
    static let spec = VerbSpec(
        name: "events", summary: "job changes as they happen: started, state changed, removed",
        usage: ["events [SELECTOR...] [--format text|json] [--until-finished]"],
        about: """
            Print a line for each change among the selected jobs (default: every job, children
            included) from now on: a job started, its state changed (with the old and the new
            state), it has new output (stdout and stderr sizes; at most 4 times a second per
            job), it was removed. With --format json each line is one object with the event,
            the job's Id, InstanceId, Name, computer and the time. It goes on until Ctrl-C, or
            with --until-finished until every selected job has finished. The changes are read by
            looking at the jobs each time the agent says something changed, so the agent never
            waits for a slow reader and keeps nothing for it; a child that went through several
            states between two looks is reported with the first and the last, and "missed" says
            how many states in between went unseen.
            """,
        operands: SelectionArguments.operands, operandCompletion: .jobs,
        options: SelectionArguments.options + [
            .option("--format", "text|json", "one line of text, or one JSON object, per event"),
            .flag("--until-finished", "end once every selected job has finished"),
            .flag("--no-output", "leave out the output events"),
            .flag(
                "--existing",
                "first a line for each selected job as it is now (event present), then the changes: a script "
                    + "then knows the stream is watching"),
        ] + RemoteAgents.options)

    static func run(_ parsed: ParsedArguments) throws {
        let format = parsed.value("--format") ?? "text"
        guard format == "text" || format == "json" else {
            throw CLIFailure.usage("--format takes text or json, not '\(format)'")
        }
        if let remote = try RemoteAgents(parsed) {
            let outcomes = remote.run(
                ["events"] + parsed.arguments(without: RemoteAgents.names), sink: .stream(prefix: true, json: false))
            let status = RemoteAgents.combined(outcomes.map { $0.failure == nil ? $0.status : 1 })
            for outcome in outcomes {
                if let failure = outcome.failure { Terminal.error("\(outcome.computer): \(failure)") }
            }
            if status != 0 { throw CLIFailure(status: status, message: "") }
            return
        }
        let selection = try Terminal.selection(parsed)
        let untilFinished = parsed.flag("--until-finished")
        let client = try JobClient()
        let stream = try client.eventStream(of: selection, output: !parsed.flag("--no-output"))
        func allFinished() -> Bool { !stream.jobs.isEmpty && stream.jobs.allSatisfy(\.state.isFinished) }
        if parsed.flag("--existing") {
            for job in stream.jobs {
                Terminal.out(line(kind: "present", old: "", new: job.state.rawValue, job: job, format))
            }
        }
        if untilFinished && allFinished() { return }
        while true {
            if let event = try stream.next(timeout: JobClient.waitSlice) {
                let (kind, old, new) = names(event)
                Terminal.out(
                    line(
                        kind: kind, old: old, new: new, job: event.job, format, missed: event.missed,
                        sizes: event.output.map { ($0.stdoutBytes, $0.stderrBytes) }))
            }
            if untilFinished && allFinished() { return }
        }
    }

    /// An event's name and its old and new states ("" where there is none).
    static func names(_ event: JobEvent) -> (String, String, String) {
        if let old = event.kind.previousState { return ("state", old.rawValue, event.job.state.rawValue) }
        if event.kind == .added { return ("started", "", event.job.state.rawValue) }
        if event.kind == .output { return ("output", "", "") }
        return ("removed", event.job.state.rawValue, "")
    }

    /// One event as a line of text or a JSON object (`present`: a job as it is, `--existing`).
    static func line(
        kind: String, old: String, new: String, job: Job, _ format: String, missed: Int = 0,
        sizes: (Int64, Int64)? = nil
    ) -> String {
        let time = Timestamp.format(Date())
        guard format == "json" else {
            var what: String
            switch kind {
            case "started": what = "started (\(new))"
            case "present": what = new
            case "state": what = "\(old) -> \(new)"
            case "output": what = "output (\(sizes?.0 ?? 0) bytes on stdout, \(sizes?.1 ?? 0) on stderr)"
            default: what = "removed"
            }
            if missed > 0 { what += " (\(missed) state\(missed == 1 ? "" : "s") in between unseen)" }
            return "\(time) \(job.name) (Id \(job.id)) on \(job.location): \(what)\n"
        }
        var pairs = [
            "\"event\": \(JSONText.string(kind))", "\"id\": \(job.id)",
            "\"instanceId\": \(JSONText.string(job.instanceId))", "\"name\": \(JSONText.string(job.name))",
            "\"computer\": \(JSONText.string(job.computer ?? job.location))", "\"time\": \(JSONText.string(time))",
        ]
        if !old.isEmpty { pairs.append("\"from\": \(JSONText.string(old))") }
        if !new.isEmpty { pairs.append("\"to\": \(JSONText.string(new))") }
        if missed > 0 { pairs.append("\"missed\": \(missed)") }
        if let sizes { pairs.append("\"stdoutBytes\": \(sizes.0), \"stderrBytes\": \(sizes.1)") }
        return "{" + pairs.joined(separator: ", ") + "}\n"
    }
}
