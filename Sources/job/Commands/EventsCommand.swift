import JobClient
import JobCore

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
            state), it was removed. With --format json each line is one object with the event,
            the job's Id, InstanceId, Name, computer and the time. It goes on until Ctrl-C, or
            with --until-finished until every selected job has finished. The changes are read by
            looking at the jobs each time the agent says something changed, so the agent never
            waits for a slow reader, and nothing is lost; a job that went through several states
            between two looks is reported with the first and the last.
            """,
        operands: SelectionArguments.operands, operandCompletion: .jobs,
        options: SelectionArguments.options + [
            .option("--format", "text|json", "one line of text, or one JSON object, per event"),
            .flag("--until-finished", "end once every selected job has finished"),
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
        let stream = try JobClient().eventStream(of: selection)
        func allFinished() -> Bool { !stream.jobs.isEmpty && stream.jobs.allSatisfy(\.state.isFinished) }
        if parsed.flag("--existing") {
            for job in stream.jobs {
                Terminal.out(line(kind: "present", old: "", new: job.state.rawValue, job: job, format))
            }
        }
        if untilFinished && allFinished() { return }
        while let event = try stream.next() {
            let (kind, old, new) = names(event)
            Terminal.out(line(kind: kind, old: old, new: new, job: event.job, format))
            if untilFinished && allFinished() { return }
        }
    }

    /// An event's name and its old and new states ("" where there is none).
    static func names(_ event: JobEvent) -> (String, String, String) {
        switch event.kind {
        case .added: return ("started", "", event.job.state.rawValue)
        case .changed(let old): return ("state", old.rawValue, event.job.state.rawValue)
        case .removed: return ("removed", event.job.state.rawValue, "")
        }
    }

    /// One event as a line of text or a JSON object (`present`: a job as it is, `--existing`).
    static func line(kind: String, old: String, new: String, job: JobRecord, _ format: String) -> String {
        let time = Timestamp.format(Date())
        guard format == "json" else {
            let what: String
            switch kind {
            case "started": what = "started (\(new))"
            case "present": what = new
            case "state": what = "\(old) -> \(new)"
            default: what = "removed"
            }
            return "\(time) \(job.name) (Id \(job.id)) on \(job.location): \(what)\n"
        }
        var pairs = [
            "\"event\": \(JSONText.string(kind))", "\"id\": \(job.id)",
            "\"instanceId\": \(JSONText.string(job.instanceId))", "\"name\": \(JSONText.string(job.name))",
            "\"computer\": \(JSONText.string(job.computer ?? job.location))", "\"time\": \(JSONText.string(time))",
        ]
        if !old.isEmpty { pairs.append("\"from\": \(JSONText.string(old))") }
        if !new.isEmpty { pairs.append("\"to\": \(JSONText.string(new))") }
        return "{" + pairs.joined(separator: ", ") + "}\n"
    }
}
