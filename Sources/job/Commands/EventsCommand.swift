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
        let stream = try client.eventStream(of: selection)
        func allFinished() -> Bool { !stream.jobs.isEmpty && stream.jobs.allSatisfy(\.state.isFinished) }
        var output = OutputSizes(home: client.home, enabled: !parsed.flag("--no-output"))
        output.note(stream.jobs)
        if parsed.flag("--existing") {
            for job in stream.jobs {
                Terminal.out(line(kind: "present", old: "", new: job.state.rawValue, job: job, format))
            }
        }
        if untilFinished && allFinished() { return }
        while true {
            let event = try stream.next(timeout: OutputSizes.interval)
            // Output that came before a change is told before it.
            for (job, sizes) in output.grown(stream.jobs) {
                Terminal.out(line(kind: "output", old: "", new: "", job: job, format, sizes: sizes))
            }
            if let event {
                let (kind, old, new) = names(event)
                Terminal.out(line(kind: kind, old: old, new: new, job: event.job, format, missed: event.missed))
                if event.kind == .added { output.announced(event.job) }
            }
            if untilFinished && allFinished() { return }
        }
    }

    /// The sizes of the children's output files, to tell when they grew (`output` events):
    /// looked at whenever the agent reports a change, and every `interval` seconds, so a job's
    /// output is told at most that often.
    struct OutputSizes {
        static let interval = 0.25
        let home: JobHome
        let enabled: Bool
        var known: [Int: (Int64, Int64)] = [:]

        init(home: JobHome, enabled: Bool) {
            self.home = home
            self.enabled = enabled
        }

        func sizes(_ job: JobRecord) -> (Int64, Int64) {
            var info = stat()
            let out = stat(home.outputPath(job.instanceId), &info) == 0 ? Int64(info.st_size) : 0
            let err = stat(home.errorPath(job.instanceId), &info) == 0 ? Int64(info.st_size) : 0
            return (out, err)
        }

        /// What is there already is not news. Finished children are not looked at (their
        /// output is all there).
        mutating func note(_ jobs: [JobRecord]) {
            guard enabled else { return }
            for job in jobs where !job.isParent && !job.state.isFinished { known[job.id] = sizes(job) }
        }

        /// A new child was told: its output is news from now on.
        mutating func announced(_ job: JobRecord) {
            if enabled && !job.isParent { known[job.id] = (0, 0) }
        }

        /// The children whose output grew since the last look, with their sizes now (only
        /// unfinished ones whose start was told, and each once more after its end).
        mutating func grown(_ jobs: [JobRecord]) -> [(JobRecord, (Int64, Int64))] {
            guard enabled else { return [] }
            var result: [(JobRecord, (Int64, Int64))] = []
            for job in jobs where !job.isParent && job.computer == nil {
                guard let before = known[job.id] else { continue }
                let now = sizes(job)
                // One last look after its end; then it is left alone (a stream over thousands of
                // stored jobs looks only at the running ones).
                known[job.id] = job.state.isFinished ? nil : now
                if now.0 > before.0 || now.1 > before.1 { result.append((job, now)) }
            }
            return result
        }
    }

    /// An event's name and its old and new states ("" where there is none).
    static func names(_ event: JobEvent) -> (String, String, String) {
        if let old = event.kind.previousState { return ("state", old.rawValue, event.job.state.rawValue) }
        if event.kind == .added { return ("started", "", event.job.state.rawValue) }
        return ("removed", event.job.state.rawValue, "")
    }

    /// One event as a line of text or a JSON object (`present`: a job as it is, `--existing`).
    static func line(
        kind: String, old: String, new: String, job: JobRecord, _ format: String, missed: Int = 0,
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
