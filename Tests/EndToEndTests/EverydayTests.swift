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

/// What a user meets every minute: `job log`, less typing (`%`, `--newest`, `--wide`), the
/// user's own names in messages, colours and a table that fits the terminal.
@Suite("everyday use: log, selectors, wide tables, colours", .timeLimit(.minutes(10)))
struct EverydayTests {
    let home: TestHome

    init() throws { home = try TestHome() }

    @Test("rename: one job's Name, kept by the store, used by selectors, labels and messages; refusals say why")
    func rename() throws {
        try home.job("start", "--quiet", "--name", "buidl", "echo made; exit 3")
        try home.job("start", "--quiet", "--name", "twin", "true")
        try home.job("start", "--quiet", "--name", "twin", "true")
        try home.job("wait")
        let renamed = try home.job("rename", "buidl", "build", "--pass-thru", "--format", "json")
        #expect(renamed.status == 0, "\(renamed.stderr)")
        #expect(try TestHome.jobs(renamed).first?["name"] as? String == "build")
        #expect(try home.job("rename", "build", "nightly build").status == 0)
        // The new name is what selectors, labels and messages use, and it is stored.
        #expect(try home.job("get", "nightly build", "--format", "json").stdout.contains("\"id\": 1"))
        let received = try home.job("receive", "nightly build", "--prefix", "--wait")
        #expect(received.stdout == "nightly build: made\n")
        #expect(received.stderr.contains("nightly build (Job1) failed: exited with status 3"), "\(received.stderr)")
        #expect(try home.job("agent", "stop").status == 0)
        #expect(try home.record(1)["name"] as? String == "nightly build")
        #expect(try home.job("get", "buidl").status == 1)
        // Exactly one job, one the user started; a name that could not be one is a usage error.
        let twins = try home.job("rename", "twin", "one")
        #expect(twins.status == 1 && twins.stderr.contains("names 2 jobs"), "\(twins.stderr)")
        let child = try home.job("rename", "2", "kid")
        #expect(child.status == 1 && child.stderr.contains("is a child of Job1"), "\(child.stderr)")
        #expect(try home.job("rename", "99", "x").stderr.contains("no job has Id 99"))
        #expect(try home.job("rename", "1").status == 2)
        #expect(try home.job("rename", "1", "bad\u{7}name").status == 2)
        #expect(try home.record(1)["name"] as? String == "nightly build")
    }

    @Test("log writes the output from the start and leaves it unreceived; --tail, --stdout, --stderr")
    func log() throws {
        try home.job("start", "--quiet", "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done; printf last")
        try home.job("wait", "1")
        let all = try home.job("log", "1")
        #expect(all.status == 0)
        #expect(all.stdout == "out1\nout2\nout3\nout4\nout5\nlast")
        #expect(all.stderr == "err1\nerr2\nerr3\nerr4\nerr5\n")
        #expect(try home.job("log", "1", "--tail", "2", "--stdout").stdout == "out5\nlast")
        let errors = try home.job("log", "1", "--tail", "1", "--stderr")
        #expect(errors.stdout == "" && errors.stderr == "err5\n")
        // Nothing was consumed: receive still gets every byte, and then log still does.
        #expect(try home.job("receive", "1").stdout == "out1\nout2\nout3\nout4\nout5\nlast")
        #expect(try home.record(1)["hasMoreData"] as? Bool == false)
        #expect(try home.job("log", "1", "--tail", "1").stdout == "last")
        #expect(try home.job("log", "1", "--stdout", "--stderr").status == 2)
    }

    @Test("log --follow streams until the job ends and exits with its status; its output stays unreceived")
    func logFollow() throws {
        let gate = try home.fifo("gate")
        try home.job("start", "--quiet", "echo first; read x < \(gate); echo second; exit 3")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestHome.binary)
        process.arguments = ["log", "1", "--follow"]
        process.environment = home.environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        #expect(output.fileHandleForReading.readLine() == "first")
        #expect(process.isRunning)
        try home.release(gate)
        #expect(output.fileHandleForReading.readLine() == "second")
        process.waitUntilExit()
        #expect(process.terminationStatus == 3)
        #expect(try home.job("receive", "1").stdout == "first\nsecond\n")
    }

    @Test("% is the newest job, --newest N picks from any selection, and an all-digit name is found with --name")
    func lessTyping() throws {
        let none = try home.job("receive", "%")
        #expect(none.status == 1 && none.stderr.contains("there is none yet"))
        try home.job("start", "--quiet", "--name", "42", "echo named")  // 1, 2
        try home.job("start", "--quiet", "sleep 300")  // 3, 4
        try home.job("start", "--quiet", "sleep 301")  // 5, 6
        #expect(try TestHome.jobs(try home.job("get", "%", "--format", "json")).map { $0["id"] as? Int } == [5])
        #expect(
            try TestHome.jobs(try home.job("get", "--name", "42", "--format", "json")).map { $0["id"] as? Int } == [1])
        // The two newest running: stopped; the first is not.
        let stopped = try home.job("stop", "--state", "Running", "--newest", "2", "--pass-thru", "--format", "json")
        #expect(try TestHome.jobs(stopped).map { $0["id"] as? Int } == [3, 5])
        #expect(try home.record(1)["state"] as? String == "Completed")
        #expect(try home.job("receive", "--newest", "1").stdout == "")
        #expect(try home.job("remove", "%").status == 0)
        #expect(try TestHome.jobs(try home.job("get", "--format", "json")).map { $0["id"] as? Int } == [1, 3])
    }

    @Test("messages and prefixes use the user's name for a job; a parent with one child has its exit status")
    func ownNames() throws {
        try home.job("start", "--quiet", "--name", "build", "echo compiling; exit 1")  // 1, 2
        let received = try home.job("receive", "build", "--wait")
        #expect(received.status == 1)
        // Messages name the job the user started, never its child.
        #expect(received.stderr.contains("build (Job1) failed: exited with status 1"))
        try home.job("start", "--quiet", "echo plain")  // 3, 4
        try home.job("wait", "3")
        let both = try home.job("receive", "1", "3", "--prefix", "--from-start")
        #expect(both.stdout.contains("build: compiling\n") && both.stdout.contains("Job3: plain\n"))
        #expect(try home.record(1)["exitStatus"] as? Int == 1)
        #expect(try home.record(3)["exitStatus"] as? Int == 0)
        let wide = try home.job("get", "--wide")
        let lines = wide.stdout.split(separator: "\n")
        #expect(lines.first?.contains("State      ExitStatus  Duration  Group") == true)
        #expect(lines.count == 4 && lines[2].contains("Failed     1"))
        #expect(try home.job("get", "--wide", "--format", "json").status == 2)
    }

    @Test("colours: only at a terminal, --color always and never, NO_COLOR; a table never wider than the terminal")
    func terminalManners() throws {
        try home.job("start", "--quiet", "--name", "界面测试界面测试界面测试界面测试", "exit 1")  // 1, 2
        try home.job("start", "--quiet", "--name", "long", "echo " + String(repeating: "x", count: 200))
        try home.job("wait")
        let escape = "\u{1B}["
        #expect(!(try home.job("get").stdout.contains(escape)))
        #expect(try home.job("get", "--color", "always").stdout.contains(escape + "31mFailed" + escape + "0m"))
        #expect(try home.job("get", "--color", "maybe").status == 2)
        let terminal = try TmuxTerminal(home: home)
        defer { terminal.close() }
        let script =
            "\"$0\" get; echo END1; NO_COLOR=1 \"$0\" get; echo END2; \"$0\" get --color never; echo END3; exec sleep 600"
        try terminal.start(
            "/bin/sh", "-c", script, TestHome.binary,
            environment: ["JOB_HOME": home.path, "PATH": "/usr/bin:/bin"], width: 60)
        try terminal.waitFor("END3")
        let screen = try terminal.tmux(["capture-pane", "-p", "-e"]).stdout
        let parts = screen.components(separatedBy: "END")
        #expect(parts.count == 4)
        #expect(parts[0].contains(escape + "31mFailed"))
        #expect(!parts[1].contains(escape + "31m") && !parts[2].contains(escape + "31m"))
        // Fitted to 60 columns, counting the wide characters twice; cut cells end in "...".
        let plain = try terminal.screen().components(separatedBy: "END1")[0]
        let rows = plain.split(separator: "\n").filter { $0.contains("Failed") || $0.contains("Completed") }
        try #require(rows.count == 2, "\(plain)")
        for row in rows { #expect(displayWidth(String(row)) <= 60, "\(row)") }
        #expect(rows.allSatisfy { $0.contains("...") })
        #expect(rows[0].contains("界面"))
        // Type goes first to make room: cutting alone would leave the names three characters.
        #expect(!plain.contains("BackgroundJob") && plain.contains("State"), "\(plain)")
    }

    /// The columns a line takes in a terminal (CJK characters two).
    func displayWidth(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + (($1.value >= 0x4E00 && $1.value <= 0x9FFF) ? 2 : 1) }
    }
}

/// The agent's log through the CLI: what it records, and `job agent log --follow`.
@Suite("the agent's log, end to end", .timeLimit(.minutes(10)))
struct AgentLogEndToEndTests {
    let home: TestHome

    init() throws { home = try TestHome() }

    @Test("the log records starts, failures, refusals and the adoption of running jobs after kill -9; status names it")
    func records() throws {
        try home.job("start", "--quiet", "--name", "long", "sleep 300")  // 1, 2
        try home.job("start", "--quiet", "exit 4")  // 3, 4
        #expect(try home.job("start", "--quiet", "--after", "99", "true").status == 1)
        try home.job("wait", "3")
        let agent = try #require(try home.agentPid())
        kill(agent, SIGKILL)
        try TestHome.eventually("the agent to be gone") { !processIsLive(agent) }
        // The next verb starts the next agent, which adopts the job that still runs.
        #expect(try home.job("get").status == 0)
        let status = try home.job("agent", "status")
        #expect(status.stdout.contains("Log       : \(home.path)/agent.log\n"))
        #expect(status.stdout.contains("Managed   : no: started on demand by job\n"))
        let log = try home.job("agent", "log").stdout
        #expect(log.contains("info [\(agent)] started Job2 of long on localhost, process "))
        #expect(log.contains("warning [\(agent)] Job3 failed: exited with status 4"))
        #expect(log.contains("warning [\(agent)] refused start: no job has Id 99, which --after names"))
        #expect(log.contains("adopted 1 running job of the last agent: Job2"))
    }

    @Test("agent log --follow prints lines as the agent writes them")
    func follow() throws {
        try home.job("start", "--quiet", "true")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestHome.binary)
        process.arguments = ["agent", "log", "--follow"]
        process.environment = home.environment
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        defer { process.terminate() }
        var seen = false
        while let line = output.fileHandleForReading.readLine() {
            if line.contains("started Job2 of Job1") {
                if seen { continue }
                seen = true
                try home.job("start", "--quiet", "--name", "later", "true")
            }
            if line.contains("started Job4 of later") { break }
        }
        #expect(seen)
        #expect(process.isRunning)
    }
}

/// The config file: its settings, their precedence under the environment and the command line,
/// and its errors.
@Suite("the config file", .timeLimit(.minutes(10)))
struct ConfigTests {
    let home: TestHome
    let folder: String

    init() throws {
        home = try TestHome()
        folder = home.scratch + "/config"
        try FileManager.default.createDirectory(atPath: folder + "/job", withIntermediateDirectories: true)
    }

    func write(_ text: String) throws {
        try text.write(toFile: folder + "/job/config.toml", atomically: true, encoding: .utf8)
    }

    @discardableResult
    func job(_ arguments: String..., environment: [String: String] = [:]) throws -> CommandResult {
        try home.job(arguments, environment: environment.merging(["XDG_CONFIG_HOME": folder]) { $1 })
    }

    func settings(environment: [String: String] = [:]) throws -> [String: (value: String, source: String)] {
        let result = try home.job(
            ["config", "--format", "json"], environment: environment.merging(["XDG_CONFIG_HOME": folder]) { $1 })
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try JSONSerialization.jsonObject(with: Data(result.stdoutBytes)) as? [[String: String]] ?? []
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["setting"]!, ($0["value"]!, $0["source"]!)) })
    }

    @Test("settings come from the file, the environment over it, the command line over both; job config says whence")
    func precedence() throws {
        let path = folder + "/job/config.toml"
        try write(
            """
            # defaults for this user
            shell = "/bin/bash"
            max-output = "2M"
            color = "always"
            grace = 3
            ssh-options = ["-oConnectTimeout=5"]
            throttle-limit = 4
            """)
        let shown = try settings()
        #expect(shown["shell"]?.value == "/bin/bash" && shown["shell"]?.source == "\(path):2")
        #expect(shown["grace"]?.value == "3s" && shown["grace"]?.source == "\(path):5")
        #expect(shown["throttle-limit"]?.value == "4" && shown["throttle-limit"]?.source == "\(path):7")
        #expect(shown["ssh-options"]?.value == "-oConnectTimeout=5")
        #expect(shown["remove-after"]?.source == "default")
        let table = try job("config").stdout
        #expect(table.hasPrefix("File: \(path)\n") && table.contains("max-output      2 MB"))
        // The file's shell runs the job; --shell overrides it.
        try job("start", "--quiet", "echo ${BASH_VERSION:+bash}")  // 1, 2
        #expect(try job("receive", "1", "--wait").stdout == "bash\n")
        try job("start", "--quiet", "--shell", "/bin/sh", "echo ${BASH_VERSION:-sh}")  // 3, 4
        #expect(try job("receive", "3", "--wait").stdout == "sh\n")
        // The output cap: the file's, then JOB_MAX_OUTPUT's, then --max-output's.
        #expect(try home.record(2)["maxOutput"] as? Int == 2 << 20)
        try job("start", "--quiet", "true", environment: ["JOB_MAX_OUTPUT": "1M"])  // 5, 6
        #expect(try home.record(6)["maxOutput"] as? Int == 1 << 20)
        #expect(
            try settings(environment: ["JOB_MAX_OUTPUT": "1M"])["max-output"]?.source == "environment (JOB_MAX_OUTPUT)")
        try job("start", "--quiet", "--max-output", "500K", "true", environment: ["JOB_MAX_OUTPUT": "1M"])  // 7, 8
        #expect(try home.record(8)["maxOutput"] as? Int == 500 << 10)
        // Colour: the file says always, even into a pipe; --color never wins.
        try job("wait")
        #expect(try job("get").stdout.contains("\u{1B}[32mCompleted"))
        #expect(!(try job("get", "--color", "never").stdout.contains("\u{1B}[")))
    }

    @Test("a config file that cannot be used stops every verb alike: exit 2, naming the file, line and key")
    func badFileStopsEveryVerb() throws {
        try job("start", "--quiet", "true")  // 1, 2, made while the file is fine
        try job("wait")
        let path = folder + "/job/config.toml"
        let verbs: [[String]] = [
            [], ["get"], ["receive", "1"], ["wait"], ["log", "1"], ["session", "get"], ["group", "get"], ["events"],
            ["agent", "status"], ["stop", "1"], ["remove", "1"], ["start", "true"], ["restart", "1"],
            ["suspend", "1"], ["resume", "1"], ["signal", "1", "--signal", "USR1"], ["config"],
            ["invoke", "--computer", "localhost", "true"],
        ]
        for (text, words) in [
            ("colour = \"never\"\n", ":1: colour: is not a setting"), ("grace = \"soon\"\n", ":1: grace:"),
            ("grace = = 3\n", path),
        ] {
            try write(text)
            for verb in verbs {
                let result = try home.job(verb, environment: ["XDG_CONFIG_HOME": folder], timeout: 30)
                #expect(result.status == 2, "\(verb) with '\(text)': \(result.status) \(result.stderr)")
                #expect(result.stderr.contains(words), "\(verb) with '\(text)': \(result.stderr)")
            }
            // Help still works.
            #expect(try job("get", "--help").status == 0)
        }
        // Nothing was done meanwhile: job 1 is still there, finished.
        try FileManager.default.removeItem(atPath: path)
        #expect(try home.record(1)["state"] as? String == "Completed")
    }

    @Test("the client reads the file's settings from a cache that follows every change of the file")
    func cacheFollowsTheFile() throws {
        try write("grace = 3\n")
        #expect(try settings()["grace"]?.value == "3s")
        let cache = home.path + "/config.cache"
        #expect(try String(contentsOfFile: cache, encoding: .utf8).contains("grace\t1\t3"))
        try write("# changed\ngrace = \"7s\"\n")
        #expect(try settings()["grace"]?.value == "7s")
        #expect(try settings()["grace"]?.source == folder + "/job/config.toml:2")
        try write("grace = \"soon\"\n")
        #expect(try job("config").status == 2)
        try write("grace = 1\n")
        #expect(try settings()["grace"]?.value == "1s")
    }

    @Test("an unknown key, a bad value or bad TOML: exit 2 naming the file, line and key, and nothing is started")
    func errors() throws {
        let path = folder + "/job/config.toml"
        for (text, expected) in [
            ("grace = 5\nthrottle = 3\n", "\(path):2: throttle: is not a setting"),
            ("color = \"sometimes\"\n", "\(path):1: color: takes \"auto\", \"always\" or \"never\""),
            ("shell = \"bash\"\n", "\(path):1: shell: takes the absolute path of a shell"),
            ("max-output = \"lots\"\n", "\(path):1: max-output: takes a size"),
            ("ssh-options = [\"evil.example\"]\n", "\(path):1: ssh-options:"),
            ("grace = [\n", "\(path):1: "),
        ] {
            try write(text)
            let started = try job("start", "--quiet", "true")
            #expect(started.status == 2, "\(text)")
            #expect(started.stderr.contains(expected), "\(started.stderr)")
            #expect(try job("config").status == 2)
        }
        try FileManager.default.removeItem(atPath: path)
        #expect(try job("get", "--format", "json").stdout == "[]\n")
        #expect(try settings()["grace"]?.source == "default")
    }

    @Test("the agent removes old finished jobs by the file's remove-after")
    func removeAfter() throws {
        try write("remove-after = \"1s\"\n")
        try job("start", "--quiet", "true")
        try job("wait", "1")
        try TestHome.eventually("the finished job to be removed") {
            try job("get", "--format", "json").stdout == "[]\n"
        }
    }
}

/// A streaming `invoke` at a terminal keeps a progress line on stderr; never on a pipe.
@Suite("invoke's progress line", .timeLimit(.minutes(10)))
struct InvokeProgressTests {
    @Test("at a terminal: done, failed, running, queued of N and the time, cleared at the end; nothing on a pipe")
    func progress() throws {
        let home = try TestHome()
        // Each child takes the next number and waits for its own go file.
        let folder = home.scratch + "/gates"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        func release(_ index: Int, failing: Bool = false) throws {
            if failing { _ = FileManager.default.createFile(atPath: folder + "/fail\(index)", contents: nil) }
            _ = FileManager.default.createFile(atPath: folder + "/go\(index)", contents: nil)
        }
        let terminal = try TmuxTerminal(home: home)
        defer { terminal.close() }
        let command =
            "i=0; while ! mkdir \(folder)/$i 2>/dev/null; do i=$((i + 1)); done; "
            + "while [ ! -e \(folder)/go$i ]; do sleep 0.05; done; echo out; [ -e \(folder)/fail$i ] && exit 3; true"
        let script =
            "\"$0\" invoke --computer localhost,localhost,localhost --throttle-limit 2 \"$1\"; echo \"ended $?\"; "
            + "exec sleep 600"
        try terminal.start(
            "/bin/sh", "-c", script, TestHome.binary, command,
            environment: ["JOB_HOME": home.path, "PATH": "/usr/bin:/bin"])
        try terminal.waitFor("job: 0 done, 0 failed, 2 running, 1 queued of 3 (")
        try release(0)
        try terminal.waitFor("job: 1 done, 0 failed, 2 running, 0 queued of 3 (")
        try release(1, failing: true)
        try terminal.waitFor("job: 1 done, 1 failed, 1 running, 0 queued of 3 (")
        try release(2)
        try terminal.waitFor("ended 1")
        let screen = try terminal.screen()
        #expect(!screen.contains("queued of"))
        #expect(screen.components(separatedBy: "out").count - 1 == 3)
        // On a pipe: no progress line at all.
        let piped = try home.job("invoke", "--computer", "localhost,localhost", "echo piped")
        #expect(piped.status == 0 && piped.stderr == "")
    }
}

/// `job events`: changes as they happen, as JSON lines, ending with --until-finished.
@Suite("job events", .timeLimit(.minutes(10)))
struct EventsTests {
    @Test("events: started, state changed and removed, one JSON object a line; --until-finished ends with the jobs")
    func events() throws {
        let home = try TestHome()
        let gate = try home.fifo("gate")
        try home.job("start", "--quiet", "true")  // 1, 2: there before the stream
        try home.job("wait", "1")
        let reader = try EventReader(home, ["--existing"])
        func event() throws -> [String: Any] { try reader.event() }
        // The jobs as they are: once they are out, the stream watches, and a job started now
        // is new to it.
        let present = try event()
        #expect(present["event"] as? String == "present" && present["to"] as? String == "Completed")
        #expect(try event()["id"] as? Int == 2)
        try home.job("start", "--quiet", "--name", "watched", "read x < \(gate)")  // 3, 4
        let started = try event()
        #expect(started["event"] as? String == "started" && started["id"] as? Int == 3)
        #expect(started["name"] as? String == "watched" && started["computer"] as? String == "localhost")
        #expect((started["instanceId"] as? String)?.count == 36 && started["time"] is String)
        #expect(try event()["id"] as? Int == 4)
        try home.release(gate)
        let ended = try event()
        #expect(ended["event"] as? String == "state" && ended["from"] as? String == "Running")
        #expect(ended["to"] as? String == "Completed")
        _ = try event()
        #expect(try home.job("remove", "3").status == 0)
        let removed = try event()
        #expect(removed["event"] as? String == "removed" && removed["id"] as? Int == 3)
    }

    /// `job events --format json` on a pipe, killed at the end of the test; `event()` reads
    /// the next object (the test fails should none come within 30 s).
    final class EventReader {
        let process = Process()
        let output = Pipe()

        init(_ home: TestHome, _ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: TestHome.binary)
            process.arguments = ["events", "--format", "json"] + arguments
            process.environment = home.environment
            process.standardOutput = output
            try process.run()
            let process = self.process
            DispatchQueue.global().asyncAfter(deadline: .now() + 30) { if process.isRunning { process.terminate() } }
        }

        func event() throws -> [String: Any] {
            let line = try #require(output.fileHandleForReading.readLine())
            return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }

        deinit { process.terminate() }
    }

    @Test("every transition of a child in order, its output as it comes, and a reader that stops reading")
    func transitionsAndOutput() throws {
        let home = try TestHome()
        let (first, second) = (try home.fifo("first"), try home.fifo("second"))
        try home.job("start", "--quiet", "true")  // 1, 2: once they are shown, the stream watches
        try home.job("wait", "1")
        let reader = try EventReader(home, ["--existing"])
        #expect(try reader.event()["event"] as? String == "present")
        #expect(try reader.event()["event"] as? String == "present")
        try home.job("start", "--quiet", "read x < \(first); echo one; read x < \(second)")  // 3, 4
        #expect(try reader.event()["event"] as? String == "started")
        let child = try reader.event()
        #expect(child["event"] as? String == "started" && child["id"] as? Int == 4)
        try home.release(first)
        let output = try reader.event()
        #expect(output["event"] as? String == "output" && output["id"] as? Int == 4)
        #expect(output["stdoutBytes"] as? Int == 4 && output["stderrBytes"] as? Int == 0)
        #expect(try home.job("suspend", "3").status == 0)
        let suspended = try reader.event()
        #expect(suspended["from"] as? String == "Running" && suspended["to"] as? String == "Suspended")
        _ = try reader.event()  // the parent
        #expect(try home.job("resume", "3").status == 0)
        let resumed = try reader.event()
        #expect(resumed["from"] as? String == "Suspended" && resumed["to"] as? String == "Running")
        _ = try reader.event()

        // The reader stops (SIGSTOP): the agent neither waits for it nor keeps anything for it.
        kill(reader.process.processIdentifier, SIGSTOP)
        #expect(try home.job("suspend", "3").status == 0)
        #expect(try home.job("resume", "3").status == 0)
        #expect(try home.job("suspend", "3").status == 0)
        var started: [String] = []
        for _ in 0..<20 {
            started.append(try home.job("start", "--quiet", "true").stdout.trimmingCharacters(in: .newlines))
        }
        #expect(try home.job(["wait", "--timeout", "30"] + started).status == 0)
        kill(reader.process.processIdentifier, SIGCONT)
        // It looks again, and says what it did not see: Running -> Suspended, two in between.
        var seen: [String: Any] = [:]
        while seen["id"] as? Int != 4 { seen = try reader.event() }
        #expect(seen["from"] as? String == "Running" && seen["to"] as? String == "Suspended")
        #expect(seen["missed"] as? Int == 2)
    }

    @Test("--until-finished ends once the selected jobs have ended, at once when they already have")
    func untilFinished() throws {
        let home = try TestHome()
        let gate = try home.fifo("gate")
        try home.job("start", "--quiet", "read x < \(gate)")  // 1, 2
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestHome.binary)
        process.arguments = ["events", "1", "--until-finished", "--existing"]
        process.environment = home.environment
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // Should it never end, the reads below end when it is killed, and the test fails.
        DispatchQueue.global().asyncAfter(deadline: .now() + 30) { if process.isRunning { process.terminate() } }
        // Once it shows the job as it is, it watches; the job's end ends it.
        #expect(output.fileHandleForReading.readLine()?.hasSuffix("Job1 (Id 1) on localhost: Running") == true)
        try home.release(gate)
        var lines: [String] = []
        while let line = output.fileHandleForReading.readLine() { lines.append(line) }
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(lines.contains { $0.hasSuffix("Job1 (Id 1) on localhost: Running -> Completed") })
        #expect(lines.allSatisfy { $0.contains("(Id 1)") || $0.contains("(Id 2)") })
        let again = try home.job("events", "1", "--until-finished")
        #expect(again.status == 0 && again.stdout == "")
    }
}
