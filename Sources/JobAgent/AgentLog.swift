import Foundation
import JobCore

/// The agent's own diagnostics, appended to `JOB_HOME/agent.log` (the agent has no terminal).
final class AgentLog: Sendable {
    private let fd: Int32

    init(path: String) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o600)
    }

    func write(_ message: String) {
        guard fd >= 0 else { return }
        let line = "\(Timestamp.format(Date())) [\(getpid())] \(message)\n"
        _ = line.withCString { Glibc.write(fd, $0, strlen($0)) }
    }
}
