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

import Foundation
import JobTestSupport
import Testing

/// The shell's side of `job`: help, the completions in real bash, zsh and fish, the manual page
/// through `man`, the version, and what `scripts/install` puts where.
@Suite("help, completions and the manual", .timeLimit(.minutes(10)))
struct ShellTests {
    let home: TestHome

    init() throws { home = try TestHome() }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The folder of the `job` under test, for the completions' PATH.
    static var binaryFolder: String { URL(fileURLWithPath: TestHome.binary).deletingLastPathComponent().path }

    /// Each verb's options, and which of them take a value, as the bash script declares them
    /// (it is made from the same specs as the parser and the help).
    func declaredOptions() throws -> [(verb: String, options: [String], valued: Set<String>)] {
        let script = try home.job("completions", "bash").stdout
        /// The `'KEY' | 'KEY') echo 'WORDS' ;;` lines of a function: each key with its words.
        func cases(in function: String) -> [(String, String)] {
            guard let start = script.range(of: function + "() {\n") else { return [] }
            var rows: [(String, String)] = []
            for line in script[start.upperBound...].split(separator: "\n") {
                if line.hasPrefix("}") { break }
                guard let close = line.range(of: ") echo '") else { continue }
                let parts = line[..<close.lowerBound].split(separator: "'", omittingEmptySubsequences: false)
                let keys = parts.indices.filter { $0 % 2 == 1 }.map { parts[$0] }
                let words = line[close.upperBound...].prefix { $0 != "'" }
                for key in keys { rows.append((String(key), String(words))) }
            }
            return rows
        }
        let valued = cases(in: "_job_value_kind").map(\.0)
        return cases(in: "_job_options").map { verb, words in
            let options = words.split(separator: " ").map(String.init).filter { $0 != "--help" }
            let prefix = verb + "|"
            return (
                verb, options, Set(valued.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) })
            )
        }
    }

    @Test(
        "every option of every verb is in its --help and the manual and is parsed; every option the code reads is declared"
    )
    func optionsDeclaredOnce() throws {
        let verbs = try declaredOptions()
        #expect(verbs.count >= 25)
        #expect(verbs.contains { $0.verb == "group set" && $0.options.contains("--limit") })
        let manual = try home.job("help", "--man").stdout
        var declared = Set<String>()
        for (verb, options, valued) in verbs {
            let words = verb.split(separator: " ").map(String.init)
            let help = try home.job(words + ["--help"])
            #expect(help.status == 0, "\(verb)")
            #expect(try home.job(["help"] + words).stdout == help.stdout, "\(verb)")
            #expect(manual.contains(".SS \"job \(verb)\""), "\(verb)")
            for option in options {
                declared.insert(option)
                #expect(help.stdout.contains(option), "job \(verb) --help lacks \(option)")
                let roff = option.replacingOccurrences(of: "-", with: "\\-")
                #expect(manual.contains("\\fB\(roff)\\fR"), "the manual lacks \(verb) \(option)")
                // Parsed: it and its value are taken, and the --help after them is reached.
                let parsed = try home.job(words + [option] + (valued.contains(option) ? ["x"] : []) + ["--help"])
                #expect(parsed.status == 0 && parsed.stdout == help.stdout, "job \(verb) \(option): \(parsed.stderr)")
            }
            let unknown = try home.job(words + ["--no-such-option"])
            #expect(unknown.status == 2 && unknown.stderr.contains("unknown option '--no-such-option'"))
        }
        // What the commands read by name is declared somewhere.
        let sources = Self.packageRoot + "/Sources/job"
        let files = try #require(FileManager.default.enumerator(atPath: sources)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") }
        let read = try Regex(#"\.(?:value|flag|all|number|integer)\("(-[-a-zA-Z]+)""#)
        var names = Set<String>()
        for file in files {
            let text = try String(contentsOfFile: sources + "/" + file, encoding: .utf8)
            for match in text.matches(of: read) { names.insert(String(match.output[1].substring ?? "")) }
        }
        #expect(names.count > 40)
        #expect(names.subtracting(declared).isEmpty, "read but not declared: \(names.subtracting(declared).sorted())")
    }

    @Test("-V and --version name the version and the commit it was built from")
    func version() throws {
        let head = try TestHome.run(
            "/usr/bin/git", ["-C", Self.packageRoot, "rev-parse", "--short=12", "HEAD"], stdin: nil,
            environment: ProcessInfo.processInfo.environment, directory: "/", timeout: 30)
        let commit = head.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(head.status == 0 && commit.count == 12)
        for flag in ["-V", "--version"] {
            let printed = try home.job(flag)
            #expect(printed.status == 0)
            #expect(printed.stdout.hasPrefix("job 0."))
            #expect(printed.stdout.hasSuffix("(commit \(commit))\n"), "\(printed.stdout)")
        }
    }

    @Test("a bare job lists the jobs, as job get does")
    func bareJob() throws {
        try home.job("start", "--quiet", "--name", "listed", "true")
        try home.job("wait", "1")
        let bare = try home.job([])
        #expect(bare.status == 0)
        #expect(bare.stdout == (try home.job("get").stdout))
        #expect(bare.stdout.contains("listed"))
    }

    /// Runs `script` in a real bash that has loaded the completions and defined
    /// `complete_line LINE`, which prints the candidates for LINE, one per line.
    func bash(_ script: String, home userHome: String? = nil) throws -> CommandResult {
        let completions = home.scratch + "/job.bash"
        try home.job("completions", "bash").stdout.write(toFile: completions, atomically: true, encoding: .utf8)
        let prelude = """
            source \(completions)
            complete_line() {
                COMP_LINE=$1; read -ra COMP_WORDS <<<"$1"
                case $1 in *' ') COMP_WORDS+=('') ;; esac
                COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
                _job
                printf '%s\\n' "${COMPREPLY[@]}"
            }

            """
        var environment = home.environment
        environment["PATH"] = Self.binaryFolder + ":/usr/bin:/bin"
        if let userHome { environment["HOME"] = userHome }
        return try TestHome.run(
            "/bin/bash", ["--norc", "-c", prelude + script], stdin: nil, environment: environment,
            directory: home.scratch, timeout: 30)
    }

    @Test("bash completes verbs, options, a job's Id and name, states, signals, formats, folders and commands")
    func bashCompletes() throws {
        try home.job("start", "--quiet", "--name", "nightly-build", "sleep 300")  // 1, 2
        try home.job("group", "set", "builds", "--limit", "2")
        func candidates(_ line: String) throws -> [String] {
            let result = try bash("complete_line '\(line)'")
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout.split(separator: "\n").map(String.init)
        }
        #expect(try candidates("job st") == ["start", "stop"])
        #expect(try candidates("job stop --gr") == ["--grace"])
        #expect(try candidates("job stop ") == ["1", "nightly-build"])
        #expect(try candidates("job receive n") == ["nightly-build"])
        #expect(try candidates("job get --state Sus") == ["Suspended"])
        #expect(try candidates("job signal 1 --signal H") == ["HUP"])
        #expect(try candidates("job get --format ") == ["table", "list", "json"])
        #expect(try candidates("job group ") == ["set", "get", "pause", "resume", "remove"])
        #expect(try candidates("job group pause b") == ["builds"])
        #expect(try candidates("job start --group b") == ["builds"])
        #expect(try candidates("job start -C /us") == ["/usr"])
        #expect(try candidates("job start printf") == ["printf"])
        // The command's own options are not job's.
        #expect(try candidates("job start printf --gr").isEmpty)
        // No agent: nothing, at once, and none is started.
        try home.job("agent", "stop")
        #expect(try candidates("job stop ").isEmpty)
        #expect(try home.agentPid() == nil)
    }

    @Test("computers complete from the ssh config and known hosts; sessions by Id and name")
    func bashCompletesComputersAndSessions() throws {
        let user = home.scratch + "/user"
        try FileManager.default.createDirectory(atPath: user + "/.ssh", withIntermediateDirectories: true)
        try "Host web1 web2 *.internal\n    User deploy\nHost db1\n".write(
            toFile: user + "/.ssh/config", atomically: true, encoding: .utf8)
        try "backup1,10.0.0.9 ssh-ed25519 AAAA\n[gate]:2222 ssh-ed25519 AAAA\n|1|hashed= ssh-ed25519 AAAA\n".write(
            toFile: user + "/.ssh/known_hosts", atomically: true, encoding: .utf8)
        let computers = try bash("complete_line 'job invoke --computer '", home: user)
        #expect(
            Set(computers.stdout.split(separator: "\n").map(String.init)) == [
                "localhost", "web1", "web2", "db1", "backup1", "10.0.0.9", "gate",
            ])
        #expect(try bash("complete_line 'job session new --computer w'", home: user).stdout == "web1\nweb2\n")
        #expect(try home.job("session", "new", "--computer", "localhost", "--name", "deploy").status == 0)
        let sessions = try bash("complete_line 'job enter '").stdout.split(separator: "\n").map(String.init)
        #expect(sessions == ["1", "deploy"])
    }

    @Test("fish completes verbs with their summaries, options, a job's Id and name, and formats")
    func fishCompletes() throws {
        try home.job("start", "--quiet", "--name", "nightly-build", "sleep 300")  // 1, 2
        let completions = home.scratch + "/job.fish"
        try home.job("completions", "fish").stdout.write(toFile: completions, atomically: true, encoding: .utf8)
        var environment = home.environment
        environment["PATH"] = Self.binaryFolder + ":/usr/bin:/bin"
        func candidates(_ line: String) throws -> [String] {
            let result = try TestHome.run(
                "/usr/bin/fish", ["--no-config", "-c", "source \(completions); complete -C '\(line)'"], stdin: nil,
                environment: environment, directory: home.scratch, timeout: 30)
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout.split(separator: "\n").map { String($0.split(separator: "\t").first ?? "") }
        }
        #expect(try candidates("job st") == ["start", "stop"])
        #expect(try candidates("job stop --gr") == ["--grace"])
        #expect(Set(try candidates("job stop ")).isSuperset(of: ["1", "nightly-build"]))
        #expect(try candidates("job get --format ") == ["json", "list", "table"])
        #expect(try candidates("job group ") == ["get", "pause", "remove", "resume", "set"])
    }

    @Test("zsh completes verbs, options, a job's name and formats at a real prompt (tmux)")
    func zshCompletes() throws {
        try home.job("start", "--quiet", "--name", "nightly-build", "sleep 300")  // 1, 2
        let folder = home.scratch + "/functions"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try home.job("completions", "zsh").stdout.write(toFile: folder + "/_job", atomically: true, encoding: .utf8)
        let terminal = try TmuxTerminal(home: home)
        defer { terminal.close() }
        // As installed: an autoloaded function from a folder on fpath.
        try terminal.start(
            "/usr/bin/zsh", "-f",
            environment: ["PATH": Self.binaryFolder + ":/usr/bin:/bin", "JOB_HOME": home.path, "HOME": home.scratch])
        try terminal.type("fpath=(\(folder) $fpath); autoload -Uz compinit; compinit -u; PS1='rea''dy>'\n")
        try terminal.waitFor("ready>")
        try terminal.type("job sto\t")
        try terminal.waitFor("ready>job stop")
        try terminal.type("--gr\t")
        try terminal.waitFor("ready>job stop --grace")
        try terminal.keys("C-u")
        try terminal.type("job receive nigh\t")
        try terminal.waitFor("ready>job receive nightly-build")
        try terminal.keys("C-u")
        try terminal.type("job get --format \t")
        try terminal.waitFor("json")
        #expect(try terminal.screen().contains("table"))
    }

    @Test(
        "the manual page renders through man: every verb, options, exit statuses, environment; groff warns of nothing")
    func manual() throws {
        let page = home.scratch + "/job.1"
        try home.job("help", "--man").stdout.write(toFile: page, atomically: true, encoding: .utf8)
        let environment = ["PATH": "/usr/bin:/bin", "MANWIDTH": "100", "LANG": "C.UTF-8", "HOME": home.scratch]
        let rendered = try TestHome.run(
            "/usr/bin/man", ["-l", page], stdin: nil, environment: environment, directory: "/", timeout: 60)
        #expect(rendered.status == 0, "\(rendered.stderr)")
        let text = rendered.stdout.replacingOccurrences(of: "\u{2010}", with: "-")
        for heading in ["NAME", "SYNOPSIS", "VERBS", "EXIT STATUS", "ENVIRONMENT", "FILES"] {
            #expect(text.contains("\n" + heading + "\n"), "\(heading)")
        }
        for verb in ["job start", "job group set", "job agent status", "job completions"] {
            #expect(text.contains("   " + verb + "\n"), "\(verb)")
        }
        #expect(text.contains("--max-output SIZE"))
        #expect(text.contains("JOB_HOME"))
        let checked = try TestHome.run(
            "/usr/bin/groff", ["-man", "-Tutf8", "-ww", "-z", page], stdin: nil, environment: environment,
            directory: "/", timeout: 60)
        #expect(checked.status == 0 && checked.stderr.isEmpty, "\(checked.stderr)")
    }

    @Test("scripts/install puts the programs, the manual and each shell's completions under PREFIX, and they work")
    func install() throws {
        let prefix = home.scratch + "/prefix"
        var environment = ProcessInfo.processInfo.environment
        environment["JOB_BIN_DIR"] = Self.binaryFolder
        let installed = try TestHome.run(
            Self.packageRoot + "/scripts/install", [prefix], stdin: nil, environment: environment,
            directory: Self.packageRoot, timeout: 120)
        #expect(installed.status == 0, "\(installed.stderr)")
        for file in [
            "bin/job", "bin/job-agent", "share/man/man1/job.1", "share/bash-completion/completions/job",
            "share/zsh/site-functions/_job", "share/fish/vendor_completions.d/job.fish",
            "lib/systemd/user/job-agent.service",
        ] {
            #expect(FileManager.default.fileExists(atPath: prefix + "/" + file), "\(file)")
        }
        // man finds the page by name under PREFIX.
        let man = try TestHome.run(
            "/usr/bin/man", ["-M", prefix + "/share/man", "job"], stdin: nil,
            environment: ["PATH": "/usr/bin:/bin", "MANWIDTH": "100", "HOME": home.scratch, "MANPAGER": "cat"],
            directory: "/", timeout: 60)
        #expect(man.status == 0 && man.stdout.contains("EXIT STATUS"), "\(man.stderr)")
        // The unit runs the agent installed beside it, and systemd finds nothing wrong in it.
        let unit = prefix + "/lib/systemd/user/job-agent.service"
        #expect(try String(contentsOfFile: unit, encoding: .utf8).contains("ExecStart=\(prefix)/bin/job-agent run\n"))
        let verified = try TestHome.run(
            "/usr/bin/systemd-analyze", ["verify", "--man=no", unit], stdin: nil,
            environment: ProcessInfo.processInfo.environment, directory: "/", timeout: 60)
        #expect(verified.status == 0, "\(verified.stderr)")
        let version = try TestHome.run(
            prefix + "/bin/job", ["--version"], stdin: nil, environment: home.environment, directory: "/", timeout: 30)
        #expect(version.stdout.hasPrefix("job "))
    }
}

/// A terminal of the test's own: a tmux server on a private socket, one pane.
struct TmuxTerminal {
    let socket: String
    let environment: [String: String]

    init(home: TestHome) throws {
        socket = home.scratch + "/tmux-\(UUID().uuidString.prefix(8)).sock"
        environment = home.environment
    }

    /// Runs tmux with no signal blocked (the test process blocks some, and a mask is inherited)
    /// and no descriptor but 0, 1 and 2: the tmux server outlives its client, and would keep
    /// open the descriptor by which the test runner learns that the client exited.
    @discardableResult
    func tmux(_ arguments: [String]) throws -> CommandResult {
        try TestHome.run(
            "/usr/bin/perl",
            [
                "-MPOSIX", "-e",
                "sigprocmask(SIG_SETMASK, POSIX::SigSet->new); POSIX::close($_) for 3..1023; exec @ARGV or die",
                "/usr/bin/tmux", "-S", socket,
            ] + arguments, stdin: nil, environment: environment, directory: "/", timeout: 20)
    }

    func start(_ program: String, _ arguments: String..., environment: [String: String], width: Int = 150) throws {
        let settings = environment.sorted { $0.key < $1.key }.flatMap { ["-e", "\($0.key)=\($0.value)"] }
        let started = try tmux(
            ["new-session", "-d", "-x", String(width), "-y", "40"] + settings + ["/usr/bin/env", "-i"]
                + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + ["TERM=xterm", program]
                + arguments)
        #expect(started.status == 0, "\(started.stderr)")
    }

    func type(_ text: String) throws { try tmux(["send-keys", "-l", "--", text]) }
    func keys(_ names: String...) throws { try tmux(["send-keys"] + names) }
    func screen() throws -> String {
        let captured = try tmux(["capture-pane", "-p"])
        guard captured.status == 0 else { throw TestFailure("tmux capture-pane: \(captured.stderr)") }
        return captured.stdout
    }

    /// Waits until the screen shows `text` (tmux trims the spaces that end a line).
    func waitFor(_ text: String) throws {
        do {
            try TestHome.eventually("'\(text)' on the screen") { try screen().contains(text) }
        } catch {
            let shown = (try? screen()) ?? ((try? tmux(["capture-pane", "-p"]).stderr) ?? "")
            let panes = (try? tmux(["list-panes", "-F", "#{pane_pid} #{pane_current_command} #{pane_dead}"]))
            throw TestFailure("\(error); panes: \(panes?.stdout ?? "") \(panes?.stderr ?? ""); the screen:\n\(shown)")
        }
    }

    func close() { _ = try? tmux(["kill-server"]) }
}
