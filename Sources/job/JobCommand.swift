import JobCore
import JobProtocol

/// `job`: background jobs for Unix shells, with PowerShell's job model.
enum JobCommand {
    static let verbs: [(String, String)] = [
        ("start", "start a command as a background job"),
        ("invoke", "run a command on computers (over ssh), now or as a job"),
        ("get", "list jobs"),
        ("receive", "write the output received so far"),
        ("wait", "wait until jobs have finished"),
        ("stop", "stop jobs (their whole process groups)"),
        ("remove", "delete finished jobs and their output"),
        ("session", "persistent sessions: a shell per computer (new | get | remove)"),
        ("enter", "an interactive prompt in a session"),
        ("restart", "run finished jobs again, in place"),
        ("suspend", "suspend running jobs (SIGSTOP) until resumed"),
        ("resume", "resume suspended jobs (SIGCONT)"),
        ("signal", "send a signal to running jobs without stopping them"),
        ("group", "the queue's groups: limits and pauses (set | get | pause | resume | remove)"),
        ("agent", "run, stop or inspect the agent (run | stop | status)"),
    ]

    static let help = """
        job: background jobs for Unix shells, with the job model of PowerShell.

        Usage: job VERB [OPTIONS] [ARGUMENTS]

        Verbs:
        \(verbs.map { "  " + $0.0.padding(9) + $0.1 }.joined(separator: "\n"))

        `job VERB --help` describes a verb. The jobs of a JOB_HOME (default ~/.local/state/job)
        are kept by one agent, started by the first verb that finds none.

        Exit statuses: 0 success; 1 an operation failed or was refused (a selector that matches
        nothing, a running job not removed); 2 bad usage; 124 a wait timed out. `receive --wait`
        exits with the job's own status when it selects one job that did not complete (128+N
        for signal N).

        """

    /// Runs the verb named by the first argument.
    static func run(_ arguments: [String]) throws {
        guard let verb = arguments.first else { throw CLIFailure(status: 2, message: "", errorOutput: help) }
        let rest = arguments.dropFirst()
        switch verb {
        case "start": try StartVerb.run(ArgumentParsing.parse(rest, StartVerb.spec))
        case "get": try GetVerb.run(ArgumentParsing.parse(rest, GetVerb.spec))
        case "invoke": try InvokeVerb.run(ArgumentParsing.parse(rest, InvokeVerb.spec))
        case "receive": try ReceiveVerb.run(ArgumentParsing.parse(rest, ReceiveVerb.spec))
        case "wait": try WaitVerb.run(ArgumentParsing.parse(rest, WaitVerb.spec))
        case "stop": try StopVerb.run(ArgumentParsing.parse(rest, StopVerb.spec))
        case "remove": try RemoveVerb.run(ArgumentParsing.parse(rest, RemoveVerb.spec))
        case "session": try SessionVerb.run(rest)
        case "group": try GroupVerb.run(rest)
        case "restart": try RestartVerb.run(ArgumentParsing.parse(rest, RestartVerb.spec))
        case "suspend": try SuspendVerb.suspend(ArgumentParsing.parse(rest, SuspendVerb.suspendSpec))
        case "resume": try SuspendVerb.resume(ArgumentParsing.parse(rest, SuspendVerb.resumeSpec))
        case "signal": try SuspendVerb.signal(ArgumentParsing.parse(rest, SuspendVerb.signalSpec))
        case "enter": try EnterVerb.run(ArgumentParsing.parse(rest, EnterVerb.spec))
        case "agent": try AgentVerb.run(rest)
        case "--version", "version": Terminal.out(ProtocolVersion.product + "\n")
        case "--help", "-h", "help": Terminal.out(help)
        default:
            throw CLIFailure.usage("unknown verb '\(verb)'; the verbs are \(verbs.map(\.0).joined(separator: ", "))")
        }
    }
}

/// An outcome that ends the command with a given status, a message on stderr (`job: ...`),
/// and optionally text for stdout or stderr as it is.
struct CLIFailure: Error {
    var status: Int32
    var message: String
    var output: String = ""
    var errorOutput: String = ""

    static func usage(_ message: String) -> CLIFailure { CLIFailure(status: 2, message: message) }
    static func failed(_ message: String = "") -> CLIFailure { CLIFailure(status: 1, message: message) }

    /// Runs a check of the input; what it refuses is a usage error (exit 2).
    @discardableResult
    static func checking<T>(_ check: () throws -> T) throws -> T {
        do {
            return try check()
        } catch let error as InputError {
            throw CLIFailure.usage(error.description)
        }
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
