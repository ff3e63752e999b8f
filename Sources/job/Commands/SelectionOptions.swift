import ArgumentParser
import JobCore

/// The selectors and filters every verb but `start` takes.
struct SelectionOptions: ParsableArguments {
    @Argument(help: "Ids, InstanceIds or names (shell wildcards allowed, case-insensitive).")
    var selectors: [String] = []

    @Option(name: .customLong("name"), help: "Select parents whose name matches this pattern.")
    var names: [String] = []

    @Option(name: .customLong("state"), help: "Select jobs in this state.")
    var states: [String] = []

    @Flag(help: "Select every job.")
    var all = false

    func selection() throws -> JobSelection {
        var parsed: [JobState] = []
        for name in states {
            guard let state = JobState(name: name) else {
                throw CLIFailure.usage(
                    "unknown state '\(name)'; use one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            parsed.append(state)
        }
        return JobSelection(selectors: selectors, names: names, states: parsed, all: all)
    }

    /// For verbs that must not act on everything by default.
    func requiredSelection(verb: String) throws -> JobSelection {
        let selection = try selection()
        if selection.isEmpty {
            throw CLIFailure.usage("job \(verb) needs a job: give an Id, an InstanceId, a name, --name, --state or --all")
        }
        return selection
    }
}

extension JobFormat: ExpressibleByArgument {}
