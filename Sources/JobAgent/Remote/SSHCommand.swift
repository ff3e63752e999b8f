import Foundation
import JobCore

/// How a remote child is run: the system `ssh` client, whose stdin the supervisor holds, and a
/// small POSIX-sh wrapper on the other side that ends the command's whole process group when
/// that stdin reaches end-of-file (the job is stopped, or the connection dropped). Without it,
/// ending the local ssh client would leave the remote command running unseen.
enum SSHCommand {
    /// Seconds between SIGTERM and SIGKILL on the remote side.
    static let remoteGrace = 5

    /// The `ssh` program: the first in the caller's PATH, else /usr/bin/ssh.
    static func program(environment: [String]) -> String {
        let path = environment.first { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") where folder.hasPrefix("/") {
            let candidate = String(folder) + "/ssh"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return "/usr/bin/ssh"
    }

    /// The arguments of `ssh`: never a password prompt (BatchMode), a connect timeout, ssh's
    /// own messages to `diagnostics` (they become the Reason, not output), the user's
    /// configuration (or JOB_SSH_CONFIG), then the user's options, then the destination and
    /// one remote command, so that no re-quoting can change the command.
    static func arguments(
        computer: ComputerName, command: String, remoteEnvironment: [String], options: [String],
        diagnostics: String, configuration: String?
    ) -> [String] {
        var arguments = ["ssh", "-T", "-E", diagnostics, "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
        if let configuration { arguments += ["-F", configuration] }
        arguments += options
        if let port = computer.port { arguments += ["-p", String(port)] }
        if let user = computer.user { arguments += ["-l", user] }
        arguments += ["--", computer.host, remoteCommand(command, environment: remoteEnvironment)]
        return arguments
    }

    /// The text the remote login shell runs: `/bin/sh -c WRAPPER`, every part quoted.
    static func remoteCommand(_ command: String, environment: [String]) -> String {
        let exports = environment.map { entry -> String in
            let equals = entry.firstIndex(of: "=") ?? entry.endIndex
            let value = equals < entry.endIndex ? String(entry[entry.index(after: equals)...]) : ""
            return "export " + String(entry[..<equals]) + "=" + quote(value) + "; "
        }.joined()
        let wrapper =
            "exec 3<&0 </dev/null; "
            + "(trap '' TERM; cat <&3 >/dev/null 2>&1; kill -TERM 0 2>/dev/null; sleep \(remoteGrace); "
            + "kill -KILL 0 2>/dev/null) >/dev/null 2>&1 & "
            + "exec 3<&-; " + exports + "/bin/sh -c " + quote(command)
        return "/bin/sh -c " + quote(wrapper)
    }

    static func quote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// ssh's own last message, the Reason of a child that ssh could not run.
    static func diagnosis(path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .last { !$0.isEmpty && !$0.hasPrefix("Warning: Permanently added") }
    }
}
