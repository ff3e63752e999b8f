//===----------------------------------------------------------------------===//
//
// This source file is part of the job open source project
//
// Copyright (c) 2026 the job project authors
// Licensed under Apache License v2.0
//
// See LICENSE.txt for license information
//
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import CJobSupport
import JobCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// How a remote child is run: the system `ssh` client, whose stdin its monitor holds, and a
/// small POSIX-sh wrapper on the other side that ends the command's whole process group when
/// that stdin reaches end-of-file (the job is stopped, or the connection dropped). Without it,
/// ending the local ssh client would leave the remote command running unseen.
package enum SSHCommand {
    /// Seconds between SIGTERM and SIGKILL on the remote side.
    package static let remoteGrace = 5
    /// Seconds a shared connection stays open with no session on it.
    package static let idleSeconds = 60
    /// Seconds between ssh's probes of a silent server, and how many unanswered probes end
    /// the connection: a cut link is seen within about 10 to 15 s.
    package static let aliveSeconds = 5
    package static let aliveCount = 2

    /// Where the shared connections' sockets go: `JOB_HOME/ssh`, or a folder in /tmp when
    /// that path is too long (a socket path has at most 107 bytes, and ssh needs room).
    package static func controlFolder(home: JobHome) -> String? {
        var folder = home.path + "/ssh"
        if folder.utf8.count > 60 { folder = "/tmp/job-\(getuid())-ssh" }
        var info = stat()
        if stat(folder, &info) != 0 { mkdir(folder, 0o700) }
        guard stat(folder, &info) == 0, info.st_uid == getuid(), info.st_mode & 0o077 == 0 else { return nil }
        return folder
    }

    /// The `ssh` program: the first in the caller's PATH, else /usr/bin/ssh.
    package static func program(environment: [String]) -> String {
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
    package static func arguments(
        computer: ComputerName, command: String, remoteEnvironment: [String], options: [String],
        diagnostics: String, configuration: String?, controlFolder: String?, input: String? = nil
    ) -> [String] {
        arguments(
            computer: computer, remoteText: remoteCommand(command, environment: remoteEnvironment, input: input),
            options: options, diagnostics: diagnostics, configuration: configuration, controlFolder: controlFolder)
    }

    /// Where a remote child's input waits on its computer, under the remote user's home, until
    /// the command opens it: `~/.cache/job/input/NAME` (private: made with umask 077).
    package static let inputFolder = ".cache/job/input"

    /// The remote text that stores ssh's stdin as the input `name` there.
    package static func uploadInput(name: String) -> String {
        let folder = "\"$HOME\"/" + inputFolder
        return "umask 077; mkdir -p \(folder) && cat >\(folder)/\(quote(name))"
    }

    /// A script for /bin/sh that sends the local file `input` to the computer (`uploadInput`),
    /// then becomes the ssh of `arguments` (which reads it there): the monitor holds its stdin
    /// as ssh's. `upload` is the ssh command line of the copy; a copy that fails exits 255, as
    /// ssh does, so its diagnosis is the Reason.
    package static func launcherWithInput(program: String, upload: [String], input: String, arguments: [String])
        -> String
    {
        let copy = ([program] + upload.dropFirst()).map(quote).joined(separator: " ")
        let run = ([program] + arguments.dropFirst()).map(quote).joined(separator: " ")
        return "\(copy) <\(quote(input)) >/dev/null || exit 255\nexec \(run)"
    }

    /// The same, for a remote text the remote login shell runs as it is.
    package static func arguments(
        computer: ComputerName, remoteText: String, options: [String], diagnostics: String, configuration: String?,
        controlFolder: String?
    ) -> [String] {
        var arguments = ["ssh", "-T", "-E", diagnostics, "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
        if let configuration { arguments += ["-F", configuration] }
        // The user's options come before ours: for each option ssh keeps the first value.
        arguments += options
        // A link that goes silent is noticed within about `aliveSeconds * aliveCount` seconds
        // (the shared connection's master sends the probes; its clients end with it).
        arguments += ["-o", "ServerAliveInterval=\(aliveSeconds)", "-o", "ServerAliveCountMax=\(aliveCount)"]
        if let controlFolder {
            // Children on the same computer share one connection, kept for a minute when idle.
            arguments += [
                "-o", "ControlMaster=auto", "-o", "ControlPath=\(controlFolder)/%C", "-o",
                "ControlPersist=\(idleSeconds)",
            ]
        }
        if let port = computer.port { arguments += ["-p", String(port)] }
        if let user = computer.user { arguments += ["-l", user] }
        arguments += ["--", computer.host, remoteText]
        return arguments
    }

    /// The text the remote login shell runs: `/bin/sh -c WRAPPER`, every part quoted.
    ///
    /// The wrapper starts a watcher that reads ssh's stdin, which the local monitor holds:
    /// each line is the name of a signal for the command's process group (`job suspend`,
    /// `resume`, `signal`), and end-of-file (the job is stopped, or the connection dropped)
    /// ends the group: TERM, CONT (a suspended group takes its TERM), and KILL after
    /// `remoteGrace` seconds unless the group is gone by then. Where `setsid` exists (util-linux: every Linux) the command runs
    /// in a session of its own, whose id it writes to a temporary file for the watcher, so that
    /// a STOP reaches the command and not the watcher; elsewhere the watcher signals its own
    /// group and ignores STOP and the like (the job cannot be suspended there).
    package static func remoteCommand(_ command: String, environment: [String], input: String? = nil) -> String {
        let exports = environment.map { entry -> String in
            let equals = entry.firstIndex(of: "=") ?? entry.endIndex
            let value = equals < entry.endIndex ? String(entry[entry.index(after: equals)...]) : ""
            return "export " + String(entry[..<equals]) + "=" + quote(value) + "\n"
        }.joined()
        // With input (uploaded first by `uploadInput`), the command reads that file, which is
        // removed at once (it stays open).
        let stdin =
            input.map { name in
                let path = "\"$HOME\"/" + inputFolder + "/" + quote(name)
                return "exec 3<&0 <\(path) && rm -f \(path)\n"
            } ?? "exec 3<&0 </dev/null\n"
        let wrapper =
            stdin + """
                p=
                if command -v setsid >/dev/null 2>&1; then p=$(mktemp 2>/dev/null) || p=; fi
                (trap '' TERM
                to() {
                  if [ -z "$p" ]; then kill -s "$1" 0; return; fi
                  w=0; g=
                  while :; do
                    read -r g <"$p"
                    if [ -n "$g" ] || ! kill -0 $$ || [ $w -ge 50 ]; then break; fi
                    w=$((w + 1)); sleep 0.1 || sleep 1
                  done
                  [ -n "$g" ] && kill -s "$1" -- "-$g"
                }
                while read -r s <&3; do
                  case $s in STOP|TSTP|TTIN|TTOU) [ -z "$p" ] || to "$s" ;; [A-Z]*) to "$s" ;; esac
                done
                to TERM; to CONT; n=0
                while [ $n -lt \(remoteGrace * 10) ] && to 0; do n=$((n + 1)); sleep 0.1 || sleep 1; done
                to KILL
                [ -z "$p" ] || rm -f "$p") >/dev/null 2>&1 &
                exec 3<&-

                """ + exports + """
                if [ -n "$p" ]; then
                  setsid /bin/sh -c 'echo $$ >"$0"; exec /bin/sh -c "$1"' "$p" \(quote(command))
                else
                  /bin/sh -c \(quote(command))
                fi
                """
        return "/bin/sh -c " + quote(wrapper)
    }

    /// The text the remote login shell runs for a durable child's link: `job __attach` with the
    /// child's InstanceId (its remote job's), where its output is to go on from, a stop to
    /// deliver first, and, while the remote job may not exist yet, what starts it. `program` is
    /// one word of shell as it is (`job`, or `"$HOME"/.cache/job/VERSION/job`).
    package static func attachCommand(
        program: String, instanceId: String, outputFrom: Int64, errorFrom: Int64, stop: (grace: Double, signal: Int)?,
        start: (command: String, environment: [String])?, scheduler: (name: String, options: [String])? = nil,
        input: Bool = false
    ) -> String {
        var words = ["__attach", instanceId, String(outputFrom), String(errorFrom)]
        if let stop { words += ["--stop", String(stop.grace), String(stop.signal)] }
        if let start {
            words.append("--start")
            if input { words.append("--input") }
            if let scheduler {
                words += ["--scheduler", scheduler.name]
                for option in scheduler.options { words += ["--sbatch-option", option] }
            }
            for entry in start.environment { words += ["--env", entry] }
            words += ["--", start.command]
        }
        return "exec " + program + " " + words.map(quote).joined(separator: " ")
    }

    package static func quote(_ text: String) -> String {
        "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    /// Ends the shared connections (`ssh -O exit` on each socket).
    package static func closeSharedConnections(home: JobHome, ssh: String = "/usr/bin/ssh") {
        guard let folder = controlFolder(home: home),
            let names = try? FileManager.default.contentsOfDirectory(atPath: folder)
        else { return }
        for name in names {
            runQuietly(ssh, ["ssh", "-o", "BatchMode=yes", "-S", folder + "/" + name, "-O", "exit", "shared"])
        }
    }

    /// Runs a program with stdio on /dev/null and waits for it.
    package static func runQuietly(_ program: String, _ argv: [String]) {
        _ = withCStringArray(argv) { cjob_run_quiet(program, $0) }
    }

    /// ssh's own last message, the Reason of a child that ssh could not run.
    package static func diagnosis(path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let blank: Set<Character> = [" ", "\t", "\r", "\n", "\r\n"]
        return text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).map { line in
            String(line.drop(while: blank.contains).reversed().drop(while: blank.contains).reversed())
        }.last { !$0.isEmpty && !$0.hasPrefix("Warning: Permanently added") }
    }
}
