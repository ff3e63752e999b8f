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

/// What a new user tripped over (issue 22), each from the user's side.
@Suite("what a new user trips over", .timeLimit(.minutes(10)))
struct NewUserTests {
    @Test("an option of the verb after a script is refused (exit 2), saying where options go; after -- it is passed on")
    func optionsAfterTheCommand() throws {
        let home = try TestHome()
        for words in [
            ["start", "echo hi", "--name", "late"], ["start", "echo hi", "--name=late"],
            ["invoke", "--computer", "localhost", "echo hi", "--throttle-limit", "2"],
        ] {
            let refused = try home.job(words)
            #expect(refused.status == 2, "\(words): \(refused.stderr)")
            #expect(refused.stderr.contains("before the command"), "\(refused.stderr)")
        }
        #expect(try home.job("get", "--format", "json").stdout == "[]\n")
        // After --, or behind a program's name (its own arguments), the words are the command's.
        #expect(try home.job("start", "--quiet", "--", "echo hi", "--name", "late").status == 0)
        #expect(try home.record(1)["command"] as? String == "'echo hi' --name late")
        #expect(try home.job("start", "--quiet", "echo", "--name", "x").status == 0)
        #expect(try home.job("receive", "3", "--wait").stdout == "--name x\n")
    }

    @Test("--after and --after-any take names, wildcards, InstanceIds and %; every verb takes a comma list of jobs")
    func selectorsEverywhere() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "--name", "build", "true")  // 1
        let gate = home.scratch + "/gate"
        try home.job("start", "--quiet", "--name", "test", "while [ ! -e \(gate) ]; do sleep 0.05; done")  // 3
        try home.job("start", "--quiet", "--name", "after", "--after", "build,te*", "echo after")  // 5
        let instance = try #require(try home.record(1)["instanceId"] as? String)
        try home.job("start", "--quiet", "--name", "any", "--after-any", "\(instance),%", "echo any")  // 7
        let waiting = try home.job("get", "5,7", "--format", "json")
        let records = try TestHome.jobs(waiting)
        #expect(records.count == 2)
        #expect(records.first?["after"] as? [Int] == [1, 3])
        #expect(records.last?["afterAny"] as? [Int] == [1, 5])
        #expect(records.map { $0["state"] as? String } == ["NotStarted", "NotStarted"])
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        #expect(try home.job("receive", "5,7", "--wait").stdout == "after\nany\n")
        // A name no job has is refused before anything starts; so is an empty item.
        let unknown = try home.job("start", "--after", "nope", "true")
        #expect(unknown.status == 1 && unknown.stderr == "job: no job is named 'nope', which --after names\n")
        let empty = try home.job("start", "--after-any", "1,,3", "true")
        #expect(empty.status == 2 && empty.stderr.contains("single commas"), "\(empty.stderr)")
        #expect(try TestHome.jobs(try home.job("get", "--format", "json")).count == 4)
        // Comma lists of Ids (children too), names and %, with one message for each item that names nothing.
        let listed = try home.job("get", "1,4,99", "build,%", "--format", "json")
        #expect(listed.status == 1)
        #expect(try TestHome.jobs(listed).map { $0["id"] as? Int } == [1, 4, 7])
        #expect(listed.stderr == "job: no job has Id 99\n")
        // A job whose name has a comma is still selected by it.
        try home.job("start", "--quiet", "--name", "a,b", "true")
        #expect(try TestHome.jobs(try home.job("get", "a,b", "--format", "json")).map { $0["id"] as? Int } == [9])
    }

    @Test("agent status names the agent's program, and warns when it is not the job-agent beside job, or was replaced")
    func agentProgram() throws {
        let home = try TestHome()
        try home.job("get")
        let beside = URL(fileURLWithPath: TestHome.binary).deletingLastPathComponent().appendingPathComponent(
            "job-agent")
        let plain = try home.job("agent", "status").stdout
        #expect(plain.contains("Program   : \(beside.resolvingSymlinksInPath().path)\n"), "\(plain)")
        #expect(!plain.contains("Warning"), "\(plain)")
        try home.job("agent", "stop")
        // An agent of another build (a copy elsewhere) keeps serving: status says so.
        let other = home.scratch + "/old-build/job-agent"
        try FileManager.default.createDirectory(
            atPath: home.scratch + "/old-build", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: beside.path, toPath: other)
        try home.job(["get"], environment: ["JOB_AGENT_EXECUTABLE": other])
        let elsewhere = try home.job("agent", "status").stdout
        #expect(elsewhere.contains("Program   : \(other)\n"), "\(elsewhere)")
        #expect(elsewhere.contains("Warning   : the agent runs \(other), not "), "\(elsewhere)")
        // Its program replaced by an install while it runs.
        try FileManager.default.removeItem(atPath: other)
        let json = try home.job("agent", "status", "--format", "json").stdout
        #expect(json.contains("\"executable\": \"\(other) (deleted)\""), "\(json)")
        #expect(json.contains("the agent's program was replaced or removed since it started"), "\(json)")
    }

    @Test("messages and Reasons name the job the user started (its name, else its Id), never its child")
    func messagesNameTheParent() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "true")  // 1, child 2
        try home.job("start", "--quiet", "--timeout", "1s", "sleep 300")  // 3, child 4
        let timedOut = try home.job("receive", "3", "--wait")
        #expect(timedOut.status == 124)
        #expect(timedOut.stderr == "job: Job3 failed: timed out after 1s\n")
        #expect(try home.record(3)["reason"] as? String == "timed out after 1s")
        try home.job("start", "--quiet", "--name", "build", "exit 2")  // 5, child 6
        let failed = try home.job("receive", "build", "--wait")
        #expect(failed.stderr == "job: build (Job5) failed: exited with status 2\n")
        let list = try home.job("get", "build", "--format", "list").stdout
        #expect(list.contains("Reason           : exited with status 2\n"), "\(list)")
        let log = try home.job("agent", "log").stdout
        #expect(log.contains("Job3 timed out after 1s; stopping it"), "\(log)")
        #expect(log.contains("build (Job5) failed: exited with status 2"), "\(log)")
        #expect(!log.contains("Job6 failed") && !log.contains("Job4 failed"), "\(log)")
    }
}

/// Sessions (issue 22, item 6).
@Suite("sessions as a new user expects", .timeLimit(.minutes(10)))
struct NewSessionTests {
    @Test("session new without --computer opens one here; --name over several computers names each NAME@COMPUTER")
    func sessionDefaults() throws {
        let home = try TestHome()
        let here = try home.job("session", "new", "--format", "json")
        #expect(here.status == 0, "\(here.stderr)")
        #expect(here.stdout.contains("\"computerName\": \"localhost\""), "\(here.stdout)")
        #expect(try home.job("start", "--quiet", "--session", "1", "echo in the session").status == 0)
        #expect(try home.job("receive", "%", "--wait").stdout == "in the session\n")
        // One name for one computer stays as given; for several each gets its computer.
        #expect(try home.job("session", "new", "--name", "solo").status == 0)
        let computers = try sharedComputers.get()
        let ssh = ["JOB_SSH_CONFIG": computers.sshConfig]
        let both = try home.job(
            ["session", "new", "--name", "web", "--computer", "localhost,server01"], environment: ssh)
        #expect(both.status == 0, "\(both.stderr)")
        let names = try home.job("session", "get").stdout
        #expect(names.contains(" solo ") && names.contains("web@localhost"), "\(names)")
        #expect(names.contains("web@server01"), "\(names)")
        let one = try home.job(["invoke", "--session", "web@server01", "echo one"], environment: ssh)
        #expect(one.stdout.contains("one"), "\(one.stderr)")
    }
}

/// Terminal details (issue 22, item 9).
@Suite("terminal details", .timeLimit(.minutes(10)))
struct TerminalDetailTests {
    @Test("a verb typo gets 'did you mean'; the group table says none for no limit; agent log takes --tail")
    func details() throws {
        let home = try TestHome()
        for (typo, verb) in [("strat", "start"), ("rceive", "receive"), ("gte", "get")] {
            let result = try home.job(typo)
            #expect(result.status == 2)
            #expect(result.stderr.contains("did you mean \(verb)?"), "\(result.stderr)")
        }
        #expect(!(try home.job("xyzzy").stderr.contains("did you mean")))
        try home.job("group", "set", "two", "--limit", "2")
        let table = try home.job("group", "get").stdout
        #expect(table.contains("default  none"), "\(table)")
        #expect(table.contains("two      2"), "\(table)")
        // A refused queued start is logged as the verb the user typed.
        #expect(try home.job("start", "--after", "99", "true").status == 1)
        try home.job("start", "--quiet", "true")
        try home.job("wait")
        let log = try String(contentsOfFile: home.path + "/agent.log", encoding: .utf8)
        #expect(log.contains("refused start: no job has Id 99") && !log.contains("startQueued"), "\(log)")
        let lines = log.split(separator: "\n")
        let tail = try home.job("agent", "log", "--tail", "2")
        #expect(tail.stdout == lines.suffix(2).joined(separator: "\n") + "\n")
        #expect(try home.job("agent", "log", "--tail", "0").stdout == "")
    }

    @Test(
        "at a terminal: stop says it sent SIGTERM and when SIGKILL follows; get --wide at 80 columns leaves columns out"
    )
    func atATerminal() throws {
        let home = try TestHome()
        for name in ["stubborn", "quiet"] {
            try home.job("start", "--quiet", "--name", name, "trap '' TERM; echo ready; exec sleep 300")
        }
        try home.job("start", "--quiet", "--name", "a-rather-long-name", "echo " + String(repeating: "x", count: 70))
        try home.job("wait", "5")
        try TestHome.eventually("both to ignore SIGTERM") {
            try home.job("log", "1", "3").stdout == "ready\nready\n"
        }
        let terminal = try TmuxTerminal(home: home)
        defer { terminal.close() }
        let script = "\"$0\" get --wide; echo END1; \"$0\" stop stubborn --grace 3; echo END2; exec sleep 600"
        try terminal.start(
            "/bin/sh", "-c", script, TestHome.binary,
            environment: ["JOB_HOME": home.path, "PATH": "/usr/bin:/bin"], width: 80)
        try terminal.waitFor("END2")
        let screen = try terminal.screen()
        let table = screen.components(separatedBy: "END1")[0].split(separator: "\n")
        // Type and HasMoreData make room for what --wide adds; no row wraps onto a second line.
        #expect(table.count == 5, "\(screen)")
        #expect(table.first?.contains("State      ExitStatus  Duration") == true, "\(screen)")
        #expect(table.first?.contains("Type") == false && table.first?.contains("HasMoreData") == false)
        #expect(table.allSatisfy { $0.count <= 80 }, "\(screen)")
        #expect(
            screen.contains("job: SIGTERM sent; SIGKILL follows in 2 s to what has not ended (--grace)"), "\(screen)")
        #expect(screen.contains("job: SIGKILL sent to what SIGTERM did not end"), "\(screen)")
        #expect(try home.record(1)["state"] as? String == "Stopped")
        // Into a pipe it says nothing.
        let piped = try home.job("stop", "quiet", "--grace", "1.5")
        #expect(piped.status == 0 && piped.stderr == "", "\(piped.stderr)")
    }
}

/// A dependency and restarts (issue 22, item 4).
@Suite("restarts and --after", .timeLimit(.minutes(10)))
struct RestartAfterTests {
    /// Job 1 fails; job 3 waits for it with --after and so failed at once; returns the home.
    func failedPair(_ gate: (TestHome) throws -> String) throws -> TestHome {
        let home = try TestHome()
        let path = try gate(home)
        try home.job("start", "--quiet", "read x < \(path); exit $(cat \(home.scratch)/status)")  // 1, 2
        try "1".write(toFile: home.scratch + "/status", atomically: true, encoding: .utf8)
        try home.job("start", "--quiet", "--after", "1", "echo after")  // 3, 4
        try home.release(path)
        try home.job("wait", "1", "3")
        #expect(try home.record(3)["state"] as? String == "Failed")
        // The next run of job 1 will complete.
        try "0".write(toFile: home.scratch + "/status", atomically: true, encoding: .utf8)
        return home
    }

    @Test(
        "job 1 restarted, then its dependent: the dependent waits for the new run of job 1 (also across a kill -9)",
        arguments: [false, true])
    func dependentWaitsForTheNewRun(_ killBetween: Bool) throws {
        var gate = ""
        let home = try failedPair { home in
            gate = try home.fifo("gate")
            return gate
        }
        #expect(try home.job("restart", "1").status == 0)
        #expect(try home.record(1)["state"] as? String == "Running")
        if killBetween {
            let agent = try #require(try home.agentPid())
            kill(agent, SIGKILL)
            try home.awaitAgentGone()
        }
        #expect(try home.job("restart", "--state", "Failed").status == 0)
        // Job 3 waits: job 1's current run has not ended.
        let waiting = try home.record(3)
        #expect(waiting["state"] as? String == "NotStarted", "\(waiting)")
        try home.release(gate)
        let result = try home.job("receive", "3", "--wait")
        #expect(result.stdout == "after\n")
        #expect(result.status == 0)
        #expect(try home.record(1)["state"] as? String == "Completed")
    }

    @Test("the dependent restarted first, while job 1 is still Failed: it fails again at once, naming job 1")
    func dependentFirst() throws {
        let home = try failedPair { try $0.fifo("gate") }
        #expect(try home.job("restart", "3").status == 0)
        try home.job("wait", "3")
        let record = try home.record(3)
        #expect(record["state"] as? String == "Failed")
        #expect((record["reason"] as? String)?.contains("job 1") == true, "\(record)")
    }
}

/// The licence: the text beside the code, a header in every source file, the package's notice.
@Suite("the licence", .timeLimit(.minutes(10)))
struct LicenceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test("Apache-2.0: LICENSE.txt, an SPDX header in every Swift and C file, and the package's copyright file")
    func licence() throws {
        let text = try String(contentsOfFile: Self.root + "/LICENSE.txt", encoding: .utf8)
        #expect(text.contains("Apache License") && text.contains("Version 2.0, January 2004"))
        var missing: [String] = []
        for folder in ["Sources", "Tests", "Benchmarks", "Examples", "Plugins"] {
            let base = Self.root + "/" + folder
            for path in FileManager.default.enumerator(atPath: base)?.compactMap({ $0 as? String }) ?? []
            where [".swift", ".c", ".h"].contains(where: path.hasSuffix) && !path.contains(".build/") {
                let source = try String(contentsOfFile: base + "/" + path, encoding: .utf8)
                if !source.prefix(1200).contains("SPDX-License-Identifier: Apache-2.0") {
                    missing.append(folder + "/" + path)
                }
            }
        }
        #expect(missing.isEmpty, "no licence header: \(missing)")
        let script = try String(contentsOfFile: Self.root + "/scripts/package-deb", encoding: .utf8)
        #expect(script.contains("License: Apache-2.0\n") && !script.contains("License: unspecified"))
    }
}
