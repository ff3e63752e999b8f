import ArgumentParser
import JobClient
import JobCore

struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop jobs: SIGTERM to each job's process group, SIGKILL after the grace period.",
        discussion: "Returns once the jobs have ended. Finished jobs are skipped.")

    @OptionGroup var selection: SelectionOptions

    @Option(help: "Seconds between SIGTERM and SIGKILL.")
    var grace: Double = 5

    @Flag(help: "Print the stopped jobs.")
    var passThru = false

    @Option(help: "table, list or json (with --pass-thru).")
    var format: JobFormat = .table

    func run() throws {
        guard grace >= 0 && grace.isFinite else { throw CLIFailure.usage("--grace takes a number of seconds, 0 or more") }
        let response = try JobClient().stop(try selection.requiredSelection(verb: "stop"), grace: grace)
        if passThru { Terminal.show(response.jobs ?? [], format: format) }
        if Terminal.report(response.problems) { throw CLIFailure.failed() }
    }
}
