import ArgumentParser
import JobClient
import JobCore

struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Delete finished jobs and their stored output.",
        discussion: "A running job is refused unless --force, which stops it first. Children go with their parent.")

    @OptionGroup var selection: SelectionOptions

    @Flag(help: "Stop unfinished jobs, then remove them.")
    var force = false

    @Option(help: "With --force: seconds between SIGTERM and SIGKILL.")
    var grace: Double = 5

    func run() throws {
        guard grace >= 0 && grace.isFinite else { throw CLIFailure.usage("--grace takes a number of seconds, 0 or more") }
        let response = try JobClient().remove(
            try selection.requiredSelection(verb: "remove"), force: force, grace: grace)
        if Terminal.report(response.problems) { throw CLIFailure.failed() }
    }
}
