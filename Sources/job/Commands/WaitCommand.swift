import ArgumentParser
import JobClient
import JobCore
import JobProtocol

struct WaitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Wait until the selected jobs (default: every unfinished job) have finished.",
        discussion: "Prints the finished jobs and exits 0 whatever their outcome; 124 when --timeout passes.")

    @OptionGroup var selection: SelectionOptions

    @Flag(help: "Return when any one of the jobs has finished.")
    var any = false

    @Option(help: "Give up after this many seconds (0 polls).")
    var timeout: Double?

    @Option(help: "table, list or json.")
    var format: JobFormat = .table

    func run() throws {
        if let timeout, timeout < 0 || !timeout.isFinite {
            throw CLIFailure.usage("--timeout takes a number of seconds, 0 or more")
        }
        var options = WaitOptions()
        options.any = any
        options.timeout = timeout
        let response = try JobClient().wait(try selection.selection(), options: options)
        if response.timedOut == true {
            Terminal.report(response.problems)
            throw CLIFailure(status: 124, message: "")
        }
        Terminal.show(response.jobs ?? [], format: format)
        if Terminal.report(response.problems) { throw CLIFailure.failed() }
    }
}
