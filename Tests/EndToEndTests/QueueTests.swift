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

/// The queue through the built binary: timeouts, dependencies and start times, also across a
/// `kill -9` of the agent.
@Suite("the queue", .timeLimit(.minutes(10)))
struct QueueTests {
    static func time(_ value: Any?) throws -> Date {
        let text = try #require(value as? String)
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return try #require(format.date(from: text))
    }

    @Test("a timeout stops the job's whole group and fails it; receive --wait exits 124")
    func timeout() throws {
        let home = try TestHome()
        #expect(try home.job("start", "--quiet", "--timeout", "1s", "sleep 300 & sleep 300; wait").stdout == "1\n")
        let record = try home.record(2)
        #expect(record["timeout"] as? Double == 1)
        let pid = Int32(try #require(record["pid"] as? Int))
        let result = try home.job("receive", "1", "--wait")
        #expect(result.status == 124)
        #expect(result.stderr.contains("timed out after 1s"))
        let ended = try home.record(2)
        #expect(ended["state"] as? String == "Failed")
        #expect(ended["reason"] as? String == "timed out after 1s")
        #expect(try home.record(1)["reason"] as? String == "timed out after 1s")
        #expect(liveMembers(ofGroup: pid).isEmpty)
        // It ran its second, not less.
        #expect(try Self.time(ended["endTime"]).timeIntervalSince(try Self.time(ended["beginTime"])) >= 1)
        // --grace: a job that ignores SIGTERM is killed that long after it.
        let asked = Date()
        try home.job("start", "--quiet", "--timeout", "0.5", "--grace", "0.5", "trap '' TERM; sleep 300")  // 3, 4
        #expect(try home.job("receive", "3", "--wait").status == 124)
        let killed = try home.record(4)
        #expect(killed["signal"] as? Int == 9 && killed["reason"] as? String == "timed out after 0.5s")
        // Killed about 1 s after the start (0.5 s timeout, 0.5 s grace); without --grace it would
        // be 5.5 s, which this bound tells apart with room for a loaded machine.
        #expect(try Self.time(killed["endTime"]).timeIntervalSince(asked) < 5)
        #expect(try home.job("start", "--grace", "1", "true").status == 2)
        // A job that ends in time is not touched.
        #expect(try home.job("start", "--quiet", "--timeout", "1h", "echo fine").status == 0)
        #expect(try home.job("receive", "5", "--wait").stdout == "fine\n")
        #expect(try home.record(6)["state"] as? String == "Completed")
    }

    @Test("a timeout outlives kill -9 of the agent: the next agent stops the job when it is due")
    func timeoutAcrossRestart() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "--timeout", "2s", "sleep 300")
        let agent = try #require(try home.agentPid())
        kill(agent, SIGKILL)
        try TestHome.eventually("the agent to be gone") { !processIsLive(agent) }
        let result = try home.job("receive", "1", "--wait")
        #expect(result.status == 124)
        #expect(try home.record(2)["reason"] as? String == "timed out after 2s")
    }

    @Test("--after waits for Completed, and a failed dependency fails it unstarted; --after-any takes any end")
    func dependencies() throws {
        let home = try TestHome()
        let gate = try home.fifo("gate")
        let marker = home.scratch + "/ran"
        try home.job("start", "--quiet", "read x < \(gate); exit 3")  // 1, 2
        try home.job("start", "--quiet", "--after", "1", "touch \(marker)")  // 3, 4
        try home.job("start", "--quiet", "--after-any", "1", "echo any")  // 5, 6
        try home.job("start", "--quiet", "--after", "5", "echo chained")  // 7, 8
        let waiting = try home.record(3)
        #expect(waiting["state"] as? String == "NotStarted")
        #expect(waiting["reason"] as? String == "waiting for 1")
        #expect(waiting["after"] as? [Int] == [1])
        #expect(try home.record(6)["reason"] as? String == "waiting for 1")
        #expect(try home.record(8)["reason"] as? String == "waiting for 5")
        try home.release(gate)
        #expect(try home.job("wait", "3", "5", "7").status == 0)
        let failed = try home.record(4)
        #expect(failed["state"] as? String == "Failed")
        #expect(failed["reason"] as? String == "job 1, which it waited for, ended Failed")
        #expect(failed["beginTime"] is NSNull && failed["pid"] is NSNull)
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(try home.job("receive", "5").stdout == "any\n")
        #expect(try home.job("receive", "7").stdout == "chained\n")
    }

    @Test("a dependency stopped: the job waiting for it never starts, unless any end will do; one that ended may go")
    func stoppedOrRemoved() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "sleep 300")  // 1, 2
        try home.job("start", "--quiet", "--after", "1", "true")  // 3, 4
        try home.job("start", "--quiet", "sleep 300")  // 5, 6
        try home.job("start", "--quiet", "--after-any", "5", "echo went")  // 7, 8
        #expect(try home.job("stop", "1").status == 0)
        #expect(try home.job("wait", "3").status == 0)
        #expect(try home.record(4)["reason"] as? String == "job 1, which it waited for, ended Stopped")
        // Removing a running dependency stops it first: an end that --after-any takes.
        #expect(try home.job("remove", "--force", "5").status == 0)
        #expect(try home.job("receive", "7", "--wait").stdout == "went\n")
        // A dependency that ended Completed may be removed while the job still waits for
        // another, also across a restart of the agent.
        let gate = try home.fifo("gate")
        try home.job("start", "--quiet", "true")  // 9, 10
        try home.job("wait", "9")
        try home.job("start", "--quiet", "read x < \(gate)")  // 11, 12
        try home.job("start", "--quiet", "--after", "9,11", "echo both")  // 13, 14
        #expect(try home.job("remove", "9").status == 0)
        #expect(try home.record(14)["reason"] as? String == "waiting for 11")
        #expect(try home.job("agent", "stop").status == 0)
        try home.release(gate)
        #expect(try home.job("receive", "13", "--wait").stdout == "both\n")
        let unknown = try home.job("start", "--after", "99", "true")
        #expect(unknown.status == 1 && unknown.stderr.contains("no job has Id 99"))
        #expect(try home.job("get", "9").status == 1)
    }

    @Test("--delay and --at: NotStarted until then, never earlier; a time in the past starts at once")
    func schedules() throws {
        let home = try TestHome()
        let asked = Date()
        try home.job("start", "--quiet", "--delay", "1.5", "echo later")
        let record = try home.record(2)
        #expect(record["state"] as? String == "NotStarted")
        #expect((record["reason"] as? String)?.hasPrefix("starts at ") == true)
        #expect(try home.job("receive", "1", "--wait").stdout == "later\n")
        let begin = try Self.time(try home.record(2)["beginTime"])
        #expect(begin.timeIntervalSince(asked) >= 1.5)
        // In the past (ISO 8601, UTC): at once.
        #expect(try home.job("start", "--quiet", "--at", "2020-01-01T00:00:00Z", "echo past").status == 0)
        #expect(try home.job("receive", "3", "--wait").stdout == "past\n")
        // A clock time already passed today means tomorrow: it waits, and stop cancels it.
        try home.job("start", "--quiet", "--at", "00:00", "echo tomorrow")  // 5, 6
        let tomorrow = try home.record(6)
        #expect(tomorrow["state"] as? String == "NotStarted")
        #expect(try Self.time(tomorrow["startAt"] ?? NSNull()) > Date())
        #expect(try home.job("stop", "5").status == 0)
        #expect(try home.record(6)["state"] as? String == "Stopped")
    }

    @Test("a start time outlives kill -9 of the agent: the next agent starts the job, once")
    func scheduleAcrossRestart() throws {
        let home = try TestHome()
        let marker = home.scratch + "/count"
        try home.job("start", "--quiet", "--delay", "2s", "echo x >> \(marker)")
        let agent = try #require(try home.agentPid())
        kill(agent, SIGKILL)
        try TestHome.eventually("the agent to be gone") { !processIsLive(agent) }
        #expect(try home.job("wait", "1").status == 0)
        #expect(try home.record(2)["state"] as? String == "Completed")
        #expect(try String(contentsOfFile: marker, encoding: .utf8) == "x\n")
    }

    @Test(
        "bad queue options are refused before anything starts, with what to write",
        arguments: [
            (["--timeout", "0"], "--timeout takes a duration"), (["--timeout", "5x"], "--timeout takes a duration"),
            (["--after", "1,"], "--after takes jobs separated"),
            (["--after-any", "1,,2"], "--after-any takes jobs separated"),
            (["--at", "25:00"], "--at takes a time"), (["--at", "tomorrow"], "--at takes a time"),
            (["--delay", "-1"], "--delay takes a duration"),
            (["--at", "02:00", "--delay", "1m"], "do not go together"),
            (["--input", "/dev/null", "--after", "1"], "--input does not go with --after"),
        ] as [([String], String)])
    func badOptions(arguments: [String], message: String) throws {
        let home = try TestHome()
        let result = try home.job(["start"] + arguments + ["true"])
        #expect(result.status == 2)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(try home.job("get", "--format", "json").stdout == "[]\n")
    }

    static func groups(_ result: CommandResult) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdoutBytes)) as? [[String: Any]])
    }

    @Test("a group's limit: the rest wait NotStarted, in order, and start as places free")
    func groupLimit() throws {
        let home = try TestHome()
        #expect(try home.job("group", "set", "build", "--limit", "1").status == 0)
        let first = try home.fifo("first")
        let second = try home.fifo("second")
        try home.job("start", "--quiet", "--group", "build", "read x < \(first)")  // 1, 2
        try home.job("start", "--quiet", "--group", "build", "read x < \(second)")  // 3, 4
        try home.job("start", "--quiet", "--group", "build", "echo third")  // 5, 6
        try home.job("start", "--quiet", "echo elsewhere")  // 7, 8: the default group has no limit
        #expect(try home.job("receive", "7", "--wait").stdout == "elsewhere\n")
        #expect(try home.record(2)["state"] as? String == "Running")
        #expect(try home.record(4)["reason"] as? String == "queued in group build, 0 ahead")
        #expect(try home.record(6)["reason"] as? String == "queued in group build, 1 ahead")
        #expect(try home.record(5)["group"] as? String == "build")
        let listed = try Self.groups(try home.job("group", "get", "build", "--format", "json"))
        #expect(listed.first?["running"] as? Int == 1 && listed.first?["queued"] as? Int == 2)
        #expect(listed.first?["limit"] as? Int == 1 && listed.first?["paused"] as? Bool == false)
        #expect(
            try TestHome.jobs(try home.job("get", "--group", "build", "--format", "json")).map { $0["id"] as? Int } == [
                1, 3, 5,
            ])
        try home.release(first)
        try TestHome.eventually("the second to start") { try home.record(4)["state"] as? String == "Running" }
        #expect(try home.record(6)["state"] as? String == "NotStarted")
        try home.release(second)
        #expect(try home.job("receive", "5", "--wait").stdout == "third\n")
        // Each began after the one before it ended.
        let end2 = try Self.time(try home.record(2)["endTime"])
        let begin4 = try Self.time(try home.record(4)["beginTime"])
        let end4 = try Self.time(try home.record(4)["endTime"])
        let begin6 = try Self.time(try home.record(6)["beginTime"])
        #expect(begin4 >= end2 && begin6 >= end4)
    }

    @Test(
        "kill -9 of the agent twice while a group of 2 works through 12 jobs: each runs once, all complete, never 3 at once"
    )
    func killedMidQueue() throws {
        let home = try TestHome()
        let runs = home.scratch + "/runs"
        #expect(try home.job("group", "set", "pool", "--limit", "2").status == 0)
        for n in 1...12 {
            #expect(try home.job("start", "--quiet", "--group", "pool", "echo \(n) >> \(runs); sleep 0.2").status == 0)
        }
        func begun() -> [String] {
            ((try? String(contentsOfFile: runs, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        for threshold in [3, 7] {
            try TestHome.eventually("\(threshold) jobs to have begun") { begun().count >= threshold }
            let agent = try #require(try home.agentPid())
            kill(agent, SIGKILL)
            try TestHome.eventually("the agent to be gone") { !processIsLive(agent) }
            #expect(begun().count < 12)
            // The next command's agent takes the queue over.
            #expect(try home.job("get", "--group", "pool").status == 0)
        }
        #expect(try home.job("wait").status == 0)
        #expect(begun().sorted { Int($0)! < Int($1)! } == (1...12).map(String.init))
        let children = try TestHome.jobs(try home.job("get", "--include-children", "--format", "json")).filter {
            $0["parentId"] is Int
        }
        #expect(children.count == 12)
        #expect(children.allSatisfy { $0["state"] as? String == "Completed" })
        // At no job's begin were two others running.
        let spans = try children.map { (try Self.time($0["beginTime"]), try Self.time($0["endTime"])) }
        for (begin, _) in spans {
            #expect(spans.filter { $0.0 < begin && $0.1 > begin }.count <= 1)
        }
    }

    @Test(
        "the agent killed as the queue starts a job (stored Running, not launched yet): the next agent starts it, once")
    func killedAsQueueStarts() throws {
        let home = try TestHome()
        let runs = home.scratch + "/runs"
        let gate = try home.fifo("gate")
        let fault = ["JOB_TEST_FAULT": "queue-after-begin"]
        #expect(try home.job(["group", "set", "one", "--limit", "1"], environment: fault).status == 0)
        try home.job(
            ["start", "--quiet", "--group", "one", "read x < \(gate); echo first >> \(runs)"], environment: fault)
        try home.job(["start", "--quiet", "--group", "one", "echo second >> \(runs)"], environment: fault)  // 3, 4
        #expect(try home.record(4)["state"] as? String == "NotStarted")
        // The first ends; the agent stores the second Running and is killed before its launch.
        try home.release(gate)
        try home.awaitAgentGone()
        #expect(try home.job("receive", "3", "--wait").status == 0)
        #expect(try String(contentsOfFile: runs, encoding: .utf8) == "first\nsecond\n")
        #expect(try home.record(4)["state"] as? String == "Completed")
    }

    @Test("a paused group starts nothing new; resumed, it does; both kept across kill -9 of the agent")
    func pauseAndResume() throws {
        let home = try TestHome()
        #expect(try home.job("group", "set", "io", "--limit", "2").status == 0)
        #expect(try home.job("group", "pause", "io").status == 0)
        try home.job("start", "--quiet", "--group", "io", "echo drained")  // 1, 2
        #expect(try home.record(2)["reason"] as? String == "queued in group io, which is paused")
        let agent = try #require(try home.agentPid())
        kill(agent, SIGKILL)
        try TestHome.eventually("the agent to be gone") { !processIsLive(agent) }
        let listed = try Self.groups(try home.job("group", "get", "--format", "json"))
        #expect(listed.map { $0["name"] as? String } == ["default", "io"])
        #expect(listed.last?["limit"] as? Int == 2 && listed.last?["paused"] as? Bool == true)
        #expect(listed.last?["queued"] as? Int == 1)
        #expect(try home.record(2)["state"] as? String == "NotStarted")
        #expect(try home.job("group", "resume", "io").status == 0)
        #expect(try home.job("receive", "1", "--wait").stdout == "drained\n")
    }

    @Test("group remove: only empty groups, never default; bad names and unknown groups are refused")
    func groupRemove() throws {
        let home = try TestHome()
        try home.job("group", "set", "g", "--limit", "1")
        try home.job("start", "--quiet", "--group", "g", "sleep 300")
        let busy = try home.job("group", "remove", "g")
        #expect(busy.status == 1 && busy.stderr.contains("group g has 1 running and 0 waiting"))
        try home.job("stop", "1")
        #expect(try home.job("group", "remove", "g").status == 0)
        #expect(
            try Self.groups(try home.job("group", "get", "--format", "json")).map { $0["name"] as? String } == [
                "default"
            ])
        let unknown = try home.job("group", "get", "nope")
        #expect(unknown.status == 1 && unknown.stderr.contains("no group is named 'nope'"))
        let builtIn = try home.job("group", "remove", "default")
        #expect(builtIn.status == 1 && builtIn.stderr.contains("cannot be removed"))
        for arguments in [
            ["group", "set", "a b", "--limit", "1"], ["group", "set", "g"], ["group", "set", "g", "--limit", "-1"],
            ["start", "--group", "x/y", "true"],
        ] {
            let bad = try home.job(arguments)
            #expect(bad.status == 2, "\(arguments): \(bad.stderr)")
        }
    }

    @Test("--max-output stops a job that writes past it: Failed, 'output over 1 MB', the file near the cap")
    func maxOutput() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "--max-output", "1M", "head -c 3000000 /dev/zero; sleep 300")
        let result = try home.job("receive", "1", "--wait")
        #expect(result.status == 128 + 15)
        let record = try home.record(2)
        #expect(record["state"] as? String == "Failed")
        #expect(record["reason"] as? String == "output over 1 MB")
        #expect(record["maxOutput"] as? Int == 1 << 20)
        // Under the cap: untouched. A default from JOB_MAX_OUTPUT.
        let fine = try home.job(["start", "--quiet", "head -c 1000 /dev/zero"], environment: ["JOB_MAX_OUTPUT": "1K"])
        #expect(fine.status == 0)
        #expect(try home.job("receive", "3", "--wait").stdoutBytes.count == 1000)
        let over = try home.job(
            ["start", "--quiet", "head -c 2000 /dev/zero; sleep 300"], environment: ["JOB_MAX_OUTPUT": "1K"])
        #expect(over.status == 0)
        #expect(try home.job("receive", "5", "--wait").status == 143)
        #expect(try home.record(6)["reason"] as? String == "output over 1 KB")
        let bad = try home.job(["start", "true"], environment: ["JOB_MAX_OUTPUT": "lots"])
        #expect(bad.status == 2 && bad.stderr.contains("JOB_MAX_OUTPUT takes a size"))
    }

    @Test(
        "remove --older-than removes only finished jobs that ended long enough ago; JOB_REMOVE_AFTER does it by itself")
    func retention() throws {
        let home = try TestHome()
        try home.job(["start", "--quiet", "true"], environment: ["JOB_REMOVE_AFTER": "1s"])  // starts the agent: 1, 2
        try home.job("start", "--quiet", "sleep 300")  // 3, 4
        try home.job("wait", "1")
        try TestHome.eventually("job 1 removed by the agent") { try home.job("get", "1").status == 1 }
        #expect(try home.record(4)["state"] as? String == "Running")
        try home.job("stop", "3")
        #expect(try home.job("agent", "stop").status == 0)
        // Without JOB_REMOVE_AFTER: only what is asked.
        try home.job("start", "--quiet", "true")  // 5, 6
        try home.job("wait", "5")
        #expect(try home.job("remove", "--older-than", "1h").status == 0)
        #expect(try home.job("get", "--format", "json").stdout != "[]\n")
        let removed = try home.job("remove", "--older-than", "0.001", "--pass-thru", "--format", "json")
        #expect(try TestHome.jobs(removed).compactMap { $0["id"] as? Int } == [3, 5])
        #expect(try home.job("get", "--format", "json").stdout == "[]\n")
        #expect(try home.job("remove", "--older-than", "soon").status == 2)
    }

    @Test("restart runs a finished job again in place: same Id, new InstanceId, fresh output, Restarts counted")
    func restart() throws {
        let home = try TestHome()
        let counter = home.scratch + "/runs"
        try home.job("start", "--quiet", "--name", "twice", "echo run >> \(counter); echo out; exit 3")  // 1, 2
        #expect(try home.job("receive", "1", "--wait").status == 3)
        let first = try home.record(2)
        let running = try home.job("start", "--quiet", "sleep 300")  // 3, 4
        #expect(running.status == 0)
        let refused = try home.job("restart", "3")
        #expect(refused.status == 1 && refused.stderr.contains("only a finished job can be restarted"))
        #expect(try home.job("restart", "twice", "--quiet").status == 0)
        let result = try home.job("receive", "1", "--wait")
        #expect(result.status == 3 && result.stdout == "out\n")
        let second = try home.record(2)
        #expect(second["instanceId"] as? String != first["instanceId"] as? String)
        let parent = try home.record(1)
        #expect(second["restarts"] as? Int == 1 && parent["restarts"] as? Int == 1)
        #expect(try home.record(1)["name"] as? String == "twice")
        #expect(try String(contentsOfFile: counter, encoding: .utf8) == "run\nrun\n")
        // The first run's output is gone; with --keep-history the next one's stays, listed.
        let jobsFolder = home.path + "/jobs/"
        #expect(!FileManager.default.fileExists(atPath: jobsFolder + "\(first["instanceId"] as! String).out"))
        #expect(try home.job("restart", "1", "--keep-history", "--quiet").status == 0)
        try home.job("wait", "1")
        let third = try home.record(2)
        #expect(third["history"] as? [String] == [second["instanceId"] as! String])
        #expect(FileManager.default.fileExists(atPath: jobsFolder + "\(second["instanceId"] as! String).out"))
        // Kept across a restart of the agent (not taken for stray files), removed with the job.
        #expect(try home.job("agent", "stop").status == 0)
        #expect(try home.record(2)["restarts"] as? Int == 2)
        #expect(FileManager.default.fileExists(atPath: jobsFolder + "\(second["instanceId"] as! String).out"))
        try home.job("stop", "3")
        #expect(try home.job("remove", "1").status == 0)
        #expect(!FileManager.default.fileExists(atPath: jobsFolder + "\(second["instanceId"] as! String).out"))
    }

    @Test(
        "restart reads the job's --input file again from its start, also after kill -9 of the agent; a pipe's gets nothing"
    )
    func restartInput() throws {
        let home = try TestHome()
        let input = home.scratch + "/input"
        try "first\nsecond\n".write(toFile: input, atomically: true, encoding: .utf8)
        try home.job("start", "--quiet", "--input", input, "cat")  // 1, 2
        #expect(try home.job("receive", "1", "--wait").stdout == "first\nsecond\n")
        let agent = try #require(try home.agentPid())
        kill(agent, SIGKILL)
        try TestHome.eventually("the agent to be gone") { !processIsLive(agent) }
        try "changed\n".write(toFile: input, atomically: false, encoding: .utf8)
        #expect(try home.job("restart", "1", "--quiet").status == 0)
        #expect(try home.job("receive", "1", "--wait").stdout == "changed\n")
        // Gone: the rerun fails, saying why.
        try FileManager.default.removeItem(atPath: input)
        #expect(try home.job("restart", "1", "--quiet").status == 0)
        #expect(try home.job("receive", "1", "--wait").status == 1)
        #expect((try home.record(2)["reason"] as? String ?? "").hasPrefix("cannot read its input file \(input)"))
        // Input from a pipe cannot be read twice: the rerun's stdin is at its end.
        let piped = try TestHome.run(
            TestHome.binary, ["start", "--quiet", "--input", "-", "cat; echo end"], stdin: Array("piped\n".utf8),
            environment: home.environment, directory: "/", timeout: 30)
        #expect(piped.status == 0)
        #expect(try home.job("receive", "3", "--wait").stdout == "piped\nend\n")
        #expect(try home.job("restart", "3", "--quiet").status == 0)
        #expect(try home.job("receive", "3", "--wait").stdout == "end\n")
    }

    @Test("restart --failed reruns only the failed children of a fan-out, and the parent follows them")
    func restartFailed() throws {
        let home = try TestHome()
        let folder = home.scratch
        // The first child to run makes the folder and completes; the other fails until fixed.
        let command = "mkdir \(folder)/first 2>/dev/null || test -e \(folder)/fixed"
        try home.job(
            "invoke", "--computer", "localhost,localhost", "--as-job", "--quiet", "--throttle-limit", "1", command)
        try home.job("wait", "1")
        #expect(try home.record(1)["state"] as? String == "Failed")
        let completed = try home.record(2)
        let failed = try home.record(3)
        #expect(completed["state"] as? String == "Completed" && failed["state"] as? String == "Failed")
        #expect(FileManager.default.createFile(atPath: folder + "/fixed", contents: nil))
        #expect(try home.job("restart", "1", "--failed", "--quiet").status == 0)
        try home.job("wait", "1")
        #expect(try home.record(1)["state"] as? String == "Completed")
        let rerun = try home.record(3)
        #expect(rerun["restarts"] as? Int == 1 && rerun["state"] as? String == "Completed")
        // The completed child was left as it was.
        let untouched = try home.record(2)
        #expect(
            untouched["restarts"] as? Int == 0
                && untouched["instanceId"] as? String == completed["instanceId"] as? String)
        let nothing = try home.job("restart", "1", "--failed")
        #expect(nothing.status == 1 && nothing.stderr.contains("no failed or stopped part"))
    }
}
