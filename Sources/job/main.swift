import ArgumentParser
import CJobSupport
import Foundation
import JobClient

// Entry point: parse, run one verb, and map every outcome to the documented exit status
// (0 success, 1 failed or refused, 2 bad usage, 124 a wait timed out).
cjob_ignore_sigpipe()
do {
    var command = try JobCommand.parseAsRoot()
    try command.run()
    exit(0)
} catch let failure as CLIFailure {
    if !failure.message.isEmpty { Terminal.error(failure.message) }
    exit(failure.status)
} catch let error as JobClientError {
    Terminal.error(error.message)
    exit(1)
} catch {
    let code = JobCommand.exitCode(for: error)
    let message = JobCommand.fullMessage(for: error)
    if code == .success {
        print(message)
        exit(0)
    }
    if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
    exit(code == .validationFailure ? 2 : code.rawValue)
}
