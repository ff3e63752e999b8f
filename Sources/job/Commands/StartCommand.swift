import ArgumentParser
import Foundation
import JobClient
import JobCore

struct StartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start a command as a background job and print the job.",
        discussion: """
            One argument is a shell command line (job start 'make -j4 && make test'); several are \
            a command and its arguments, each quoted for the shell (job start -- printf '%s\\n' 'a b'). \
            Options go before the command.
            """)

    @Option(help: "The parent job's name (default Job<Id>).")
    var name: String?

    @Option(name: [.customLong("working-directory"), .customShort("C")], help: "Run in this folder (default: here).")
    var workingDirectory: String?

    @Option(name: .customLong("env"), help: "Set KEY=VALUE in the job's environment (repeatable).")
    var env: [String] = []

    @Option(help: "The shell that runs the command line with -c.")
    var shell = "/bin/sh"

    @Option(help: "Give the job this file as stdin, or - for this command's stdin.")
    var input: String?

    @Flag(help: "Print only the new job's Id.")
    var quiet = false

    @Option(help: "table, list or json.")
    var format: JobFormat = .table

    @Argument(parsing: .captureForPassthrough, help: "The command.")
    var command: [String] = []

    func run() throws {
        var words = command
        if words.first == "--" { words.removeFirst() }
        guard !words.isEmpty else { throw CLIFailure.usage("job start needs a command, e.g. job start 'make test'") }
        let text = words.count == 1 ? words[0] : words.map(ShellQuote.quote).joined(separator: " ")
        guard !text.allSatisfy(\.isWhitespace) else { throw CLIFailure.usage("the command is empty") }
        var environment = ProcessEnvironment.entries()
        for entry in env {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw CLIFailure.usage("--env takes KEY=VALUE, not '\(entry)'")
            }
            let key = entry[...equals]
            environment.removeAll { $0.hasPrefix(key) }
            environment.append(entry)
        }
        guard shell.hasPrefix("/") else { throw CLIFailure.usage("--shell takes an absolute path, not '\(shell)'") }
        let here = JobHome.currentDirectory()
        var directory = workingDirectory ?? here
        if !directory.hasPrefix("/") { directory = here + "/" + directory }
        var inputFD: Int32? = nil
        if let input {
            if input == "-" {
                inputFD = 0
            } else {
                let fd = open(input, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else {
                    throw CLIFailure.failed("cannot read --input \(input): \(String(cString: strerror(errno)))")
                }
                inputFD = fd
            }
        }
        let client = try JobClient()
        let job = try client.start(
            command: text, name: name, workingDirectory: directory, environment: environment, shell: shell,
            input: inputFD)
        if quiet {
            Terminal.out("\(job.id)\n")
        } else {
            Terminal.show([job], format: format)
        }
    }
}

/// Quoting of one word for a POSIX shell, so an argument vector survives `sh -c` unchanged.
enum ShellQuote {
    static func quote(_ word: String) -> String {
        let safe = word.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII
                && (CharacterSet.alphanumerics.contains(scalar) || "_@%+=:,./-".unicodeScalars.contains(scalar))
        }
        if safe && !word.isEmpty { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
