import ArgumentParser
import JobProtocol

/// `job`: background jobs for Unix shells, with PowerShell's job model.
struct JobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job",
        abstract: "Background jobs for Unix shells, with the job model of PowerShell.",
        discussion: """
            Exit statuses: 0 success; 1 an operation failed or was refused (a selector that matches \
            nothing, a running job not removed); 2 bad usage; 124 a wait timed out. `receive --wait` \
            exits with the job's own status when it selects one job that did not complete.
            """,
        version: ProtocolVersion.product,
        subcommands: [
            StartCommand.self, GetCommand.self, ReceiveCommand.self, WaitCommand.self, StopCommand.self,
            RemoveCommand.self, AgentCommand.self,
        ])
}

/// An outcome that ends the command with a given status and, when not empty, a message on stderr.
struct CLIFailure: Error {
    var status: Int32
    var message: String

    static func usage(_ message: String) -> CLIFailure { CLIFailure(status: 2, message: message) }
    static func failed(_ message: String = "") -> CLIFailure { CLIFailure(status: 1, message: message) }
}
