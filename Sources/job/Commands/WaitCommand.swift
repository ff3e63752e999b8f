import JobClient
import JobCore
import JobProtocol

enum WaitVerb {
    static let spec = VerbSpec(
        name: "wait", flags: SelectionArguments.flags.union(["--any"]),
        options: SelectionArguments.options.union(["--timeout", "--format"]).union(RemoteAgents.options),
        help: """
            Usage: job wait [SELECTOR...] [OPTIONS]

            Wait until the selected jobs (default: every unfinished job) have finished, then
            print them. Exits 0 whatever their outcome; 124 when --timeout passes (printing
            nothing, the jobs keep running).

            \(SelectionArguments.help)
              --any                       return when any one of them has finished
              --timeout SECONDS           give up after this long (0 polls)
              --format table|list|json    how to print them
            \(RemoteAgents.help)

            """)

    static func run(_ parsed: ParsedArguments) throws {
        if let remote = try RemoteAgents(parsed) {
            return try remote.runListing(verb: "wait", parsed: parsed, printsJobs: true)
        }
        var options = WaitOptions()
        options.any = parsed.flag("--any")
        options.timeout = try parsed.number("--timeout")
        _ = try Terminal.format(parsed)
        let response = try JobClient().wait(try Terminal.selection(parsed), options: options)
        if response.timedOut == true {
            Terminal.report(response.problems)
            throw CLIFailure(status: 124, message: "")
        }
        try Terminal.show(response.jobs ?? [], parsed: parsed)
        if Terminal.report(response.problems) { throw CLIFailure.failed() }
    }
}
