import JobClient
import JobCore
import JobProtocol

/// `job session new | get | remove`: persistent sessions, PowerShell's PSSessions.
enum SessionVerb {
    static let help = """
        Usage: job session new --computer NAME[,NAME...] [--name N] [--shell PATH]
               job session get [ID|NAME...] [--format table|list|json]
               job session remove ID|NAME... [--force]

        A session is a long-lived shell on one computer (localhost here, others over one ssh
        connection each) that keeps its working directory, variables, functions, aliases and
        umask between the commands run in it: job start --session S CMD, job invoke --session
        S[,S...] CMD, or interactively with job enter S. Its commands run one at a time, in
        order; each is a job of its own. A session whose shell ends (exit, exec, killed) or
        whose connection drops is Broken and takes no more commands. Sessions belong to the
        agent and end with it.

        """

    static let newSpec = VerbSpec(
        name: "session new", options: ["--computer", "--name", "--shell", "--ssh-option", "--format"],
        help: """
            Usage: job session new --computer NAME[,NAME...] [OPTIONS]

            Open one session per computer and print them.

              --computer NAMES            localhost, or computers reached over ssh (repeatable)
              --name NAME                 the sessions' name (default Session<Id>)
              --shell PATH                the shell to run (default /bin/sh)
              --ssh-option OPTION         an option for ssh (repeatable)
              --format table|list|json    how to print them

            """)
    static let getSpec = VerbSpec(
        name: "session get", options: ["--format"],
        help: """
            Usage: job session get [ID|NAME...] [--format table|list|json]

            List sessions: Id, Name, ComputerName, State (Opened, Broken, Closed), Availability
            (Available, Busy) and how many commands were sent to each.

            """)
    static let removeSpec = VerbSpec(
        name: "session remove", flags: ["--force", "--pass-thru"], options: ["--grace", "--format"],
        help: """
            Usage: job session remove ID|NAME... [--force]

            Close sessions: their shells end. A Busy session is refused unless --force, which
            stops its running command first. Commands still waiting in it are Stopped.

              --force                     stop the running command, then close
              --grace SECONDS             with --force: time between SIGTERM and SIGKILL
              --pass-thru                 print the removed sessions (State Closed)
              --format table|list|json    how to print them

            """)

    static func run(_ arguments: ArraySlice<String>) throws {
        guard let sub = arguments.first else { throw CLIFailure(status: 2, message: "", errorOutput: help) }
        let rest = arguments.dropFirst()
        switch sub {
        case "new": try new(ArgumentParsing.parse(rest, newSpec))
        case "get": try get(ArgumentParsing.parse(rest, getSpec))
        case "remove": try remove(ArgumentParsing.parse(rest, removeSpec))
        case "--help", "-h", "help": Terminal.out(help)
        default: throw CLIFailure.usage("unknown session verb '\(sub)'; use new, get or remove")
        }
    }

    static func new(_ parsed: ParsedArguments) throws {
        let computers = try Terminal.computers(parsed, required: true, verb: "job session new")
        let shell = parsed.value("--shell") ?? "/bin/sh"
        guard shell.hasPrefix("/") else { throw CLIFailure.usage("--shell takes an absolute path, not '\(shell)'") }
        let format = try Terminal.format(parsed)
        var request = SessionNewRequest()
        request.computers = computers
        request.name = try parsed.newName()
        request.shell = shell
        request.sshOptions = try parsed.sshOptions()
        request.workingDirectory = JobHome.currentDirectory()
        request.environment = ProcessEnvironment.entries()
        request.umask = JobClient.currentUmask()
        let response = try JobClient().send(request)
        show(response.sessions, format: format)
        if Terminal.report(response.problems) { throw CLIFailure.failed() }
    }

    static func get(_ parsed: ParsedArguments) throws {
        let format = try Terminal.format(parsed)
        let response = try JobClient().send(SessionGetRequest(parsed.positionals))
        show(response.sessions, format: format)
        if Terminal.report(response.problems) { throw CLIFailure.failed() }
    }

    static func remove(_ parsed: ParsedArguments) throws {
        guard !parsed.positionals.isEmpty else {
            throw CLIFailure.usage("job session remove needs a session: give its Id or name")
        }
        let format = try Terminal.format(parsed)
        let response = try JobClient().send(
            SessionRemoveRequest(
                parsed.positionals, force: parsed.flag("--force"), grace: try parsed.number("--grace") ?? 5))
        if parsed.flag("--pass-thru") { show(response.sessions, format: format) }
        if Terminal.report(response.problems) { throw CLIFailure.failed() }
    }

    static func show(_ sessions: [SessionRecord], format: JobFormat) {
        switch format {
        case .table: Terminal.out(SessionFormatter.table(sessions))
        case .list: Terminal.out(SessionFormatter.list(sessions))
        case .json: Terminal.out(SessionFormatter.json(sessions))
        }
    }
}
