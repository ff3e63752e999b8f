import ArgumentParser
import Foundation
import JobAgent
import JobClient
import JobCore
import JobProtocol

struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent", abstract: "Run, stop or inspect the agent that keeps the jobs.",
        subcommands: [Run.self, Stop.self, Status.self])

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the agent in the foreground.")

        @Option(help: "The JOB_HOME to serve (default: from the environment).")
        var home: String?

        @Option(help: .hidden)
        var readyFd: Int32?

        func run() throws {
            let environment = ProcessInfo.processInfo.environment
            let jobHome = home.map(JobHome.init(path:)) ?? JobHome.resolve(environment: environment)
            let agent: Agent
            do {
                agent = try Agent(home: jobHome, environment: environment)
            } catch {
                let message = "\(error)"
                if let readyFd {
                    let line = message + "\n"
                    _ = line.withCString { write(readyFd, $0, strlen($0)) }
                }
                throw CLIFailure.failed(message)
            }
            let status = agent.run(readyFD: readyFd)
            if status != 0 { throw CLIFailure(status: status, message: "") }
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End the agent; running jobs keep running. Exits 0 when none was running.")

        func run() throws {
            let client: JobClient
            do {
                client = try JobClient(autoStart: false)
            } catch let error as JobClientError where error.code == .noAgent {
                return
            }
            let pid = try client.status().pid
            try client.shutdown()
            // The agent removes its socket and then exits, which closes this connection: once
            // it reads end-of-file the next verb finds no agent.
            var byte: UInt8 = 0
            while read(client.socketFD, &byte, 1) > 0 {}
            Terminal.out("stopped the agent (pid \(pid))\n")
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the agent's pid, socket, version and job counts; exit 1 when none runs.")

        @Option(help: "table (the default; shown as a list) or json.")
        var format: JobFormat = .table

        func run() throws {
            let client: JobClient
            do {
                client = try JobClient(autoStart: false)
            } catch let error as JobClientError where error.code == .noAgent {
                throw CLIFailure.failed(error.message)
            }
            let status = try client.status()
            let counts = status.jobs.keys.sorted().map { "\($0) \(status.jobs[$0]!)" }.joined(separator: ", ")
            if format == .json {
                let pairs = [
                    "\"pid\": \(status.pid)", "\"socket\": \(JSONText.string(status.socket))",
                    "\"home\": \(JSONText.string(status.home))", "\"version\": \(JSONText.string(status.version))",
                    "\"protocolVersion\": \(status.protocolVersion)",
                    "\"startTime\": \(JSONText.string(Timestamp.format(status.startTime)))",
                    "\"jobs\": {" + status.jobs.keys.sorted().map { "\(JSONText.string($0)): \(status.jobs[$0]!)" }
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
}
