import JobClient
import JobCore
import JobProtocol

#if canImport(Glibc)
    import Glibc
#endif

enum AgentVerb {
    static let help = """
        Usage: job agent run | stop | status [--format json]

        The agent keeps the jobs of one JOB_HOME; the first verb that finds none starts it.
          run        run it in the foreground (what is started in the background)
          stop       end it; running jobs keep running (exit 0 also when none ran)
          status     its pid, socket, version and job counts (exit 1 when none runs)

        """

    static func run(_ arguments: ArraySlice<String>) throws {
        guard let sub = arguments.first else { throw CLIFailure(status: 2, message: "", errorOutput: help) }
        let rest = arguments.dropFirst()
        switch sub {
        case "run":
            try runAgent(Array(rest))
        case "stop":
            try stop(ArgumentParsing.parse(rest, VerbSpec(name: "agent stop", help: help)))
        case "status":
            try status(ArgumentParsing.parse(rest, VerbSpec(name: "agent status", options: ["--format"], help: help)))
        case "--help", "-h":
            Terminal.out(help)
        default:
            throw CLIFailure.usage("unknown agent command '\(sub)'; use run, stop or status")
        }
    }

    /// Runs the agent in the foreground: `job-agent run`, which lives beside `job`.
    static func runAgent(_ arguments: [String]) throws {
        _ = try ArgumentParsing.parse(
            arguments[...], VerbSpec(name: "agent run", options: ["--home", "--ready-fd"], help: help))
        let program = JobClient.defaultAgentExecutable()
        withCStringArray(["job-agent", "run"] + arguments) { argv in _ = execv(program, argv) }
        throw CLIFailure.failed("cannot run the agent \(program): \(String(cString: strerror(errno)))")
    }

    static func stop(_ parsed: ParsedArguments) throws {
        let client: JobClient
        do {
            client = try JobClient(autoStart: false)
        } catch {
            if error.code == .noAgent { return }
            throw error
        }
        let pid: Int
        do {
            pid = try client.status().pid
            try client.shutdown()
        } catch {
            // An agent of another version, or one that does not answer: end it by its pid.
            guard let pid = JobClient.terminateAgent(home: client.home) else { throw error }
            Terminal.out("stopped the agent (pid \(pid))\n")
            return
        }
        // The agent removes its socket and then exits, which closes this connection: once
        // it reads end-of-file the next verb finds no agent.
        var byte: UInt8 = 0
        while read(client.socketFD, &byte, 1) > 0 {}
        Terminal.out("stopped the agent (pid \(pid))\n")
    }

    static func status(_ parsed: ParsedArguments) throws {
        let format = try Terminal.format(parsed)
        let client: JobClient
        do {
            client = try JobClient(autoStart: false)
        } catch {
            if error.code == .noAgent { throw CLIFailure.failed(error.message) }
            throw error
        }
        let status = try client.status()
        let counts = status.jobs.keys.sorted().map { "\($0) \(status.jobs[$0]!)" }.joined(separator: ", ")
        if format == .json {
            let pairs = [
                "\"pid\": \(status.pid)", "\"socket\": \(JSONText.string(status.socket))",
                "\"home\": \(JSONText.string(status.home))", "\"version\": \(JSONText.string(status.version))",
                "\"protocolVersion\": \(status.protocolVersion)",
                "\"startTime\": \(JSONText.string(Timestamp.format(status.startTime)))",
                "\"jobs\": {"
                    + status.jobs.keys.sorted().map { "\(JSONText.string($0)): \(status.jobs[$0]!)" }
                    .joined(separator: ", ") + "}",
            ]
            Terminal.out("{\n  " + pairs.joined(separator: ",\n  ") + "\n}\n")
        } else {
            Terminal.out(
                """
                Pid       : \(status.pid)
                Socket    : \(status.socket)
                Home      : \(status.home)
                Version   : \(status.version)
                StartTime : \(Timestamp.format(status.startTime))
                Jobs      : \(counts.isEmpty ? "none" : counts)

                """)
        }
    }
}
