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

/// `job start --scheduler slurm` against a real one-node cluster (`scripts/test-slurm`): the
/// verbs a user knows, on jobs Slurm runs (issue 24).
@Suite("jobs on a Slurm cluster", .serialized, .timeLimit(.minutes(10)))
struct SlurmJobTests {
    /// A home whose agent reaches the cluster, and the cluster; closed in that order.
    final class Setup {
        let cluster: TestCluster
        let home: TestHome

        init(port: Int, messageTimeout: Int = 10, minJobAge: Int = 300) throws {
            cluster = try TestCluster(port: port, minJobAge: minJobAge, messageTimeout: messageTimeout)
            home = try TestHome()
            home.extraEnvironment = cluster.environment
        }

        deinit {
            home.close()
            cluster.stop()
        }
    }

    @Test("start, get, receive --wait, JSON: Slurm runs it and writes its output straight into the job's files")
    func startAndReceive() throws {
        let setup = try Setup(port: 7007)
        let home = setup.home
        try FileManager.default.createDirectory(atPath: home.scratch + "/work", withIntermediateDirectories: true)
        let started = try home.job(
            [
                "start", "--scheduler", "slurm", "--name", "three", "--env", "GREETING=hello", "-C", "work",
                "echo $GREETING from $(basename $PWD) in $SLURM_JOB_ID; echo oops >&2; exit 3",
            ])
        #expect(started.status == 0, "\(started.stderr)")
        #expect(started.stdout.contains("SlurmJob"))
        // Stored before the answer: it is there at once.
        let parent = try home.record(1)
        #expect(parent["type"] as? String == "SlurmJob" && parent["name"] as? String == "three")
        let received = try home.job(["receive", "1", "--wait"], timeout: 120)
        #expect(received.status == 3, "\(received.stderr)")
        let child = try home.record(2)
        let slurmId = try #require(child["schedulerJobId"] as? String)
        #expect(received.stdout == "hello from work in \(slurmId)\n")
        #expect(received.stderr.hasPrefix("oops\n"))
        #expect(child["state"] as? String == "Failed" && child["exitStatus"] as? Int == 3)
        #expect(child["reason"] as? String == "exited with status 3")
        #expect(child["location"] as? String == "localhost")
        // Only a Slurm child says its Slurm id.
        #expect(parent["schedulerJobId"] == nil)
        try home.job("start", "--quiet", "true")
        #expect(try home.record(4)["schedulerJobId"] == nil)
        // log reads it again, without consuming.
        #expect(try home.job("log", "1", "--stdout").stdout == "hello from work in \(slurmId)\n")
    }

    @Test(
        "--tasks 20 --throttle 4: an array, one child per task with its index and its own files, never more than 4 at once; every byte of 100 MB"
    )
    func array() throws {
        let setup = try Setup(port: 7017)
        let home = setup.home
        let started = try home.job(
            [
                "start", "--scheduler", "slurm", "--tasks", "20", "--throttle", "4", "--quiet",
                "echo task $SLURM_ARRAY_TASK_ID; date +%s.%N >&2; sleep 0.5; date +%s.%N >&2",
            ])
        #expect(started.stdout == "1\n", "\(started.stderr)")
        let waited = try home.job(["wait", "1", "--timeout", "3m"], timeout: 200)
        #expect(waited.status == 0, "\(waited.stderr)")
        var spans: [(Double, Double)] = []
        var slurmIds: [String] = []
        for index in 0..<20 {
            let id = index + 2
            let record = try home.record(id)
            #expect(record["state"] as? String == "Completed")
            slurmIds.append(record["schedulerJobId"] as? String ?? "")
            #expect(try home.job("receive", String(id)).stdout == "task \(index)\n")
            let times = try home.job("log", String(id), "--stderr").stderr.split(separator: "\n").compactMap {
                Double($0)
            }
            if times.count == 2 { spans.append((times[0], times[1])) }
        }
        let base = slurmIds.first.map { String($0.prefix { $0 != "_" }) } ?? ""
        #expect(slurmIds == (0..<20).map { "\(base)_\($0)" })
        #expect(spans.count == 20)
        // The most tasks running at any moment, from their own begin and end times: the node
        // has room for 8, the throttle allows 4.
        let most = spans.map { span in spans.filter { $0.0 <= span.0 && span.0 < $0.1 }.count }.max() ?? 0
        #expect(most <= 4 && most >= 2, "at most \(most) at once")
        #expect(try home.record(1)["state"] as? String == "Completed")
        // Slurm wrote each task's own files by its pattern: no link was made for them.
        let folder = try FileManager.default.contentsOfDirectory(atPath: home.path + "/jobs")
        #expect(!folder.contains { $0.hasPrefix("slurm-") }, "\(folder)")
        let firstTask = try home.record(2)["instanceId"] as? String ?? ""
        let lastTask = try home.record(21)["instanceId"] as? String ?? ""
        #expect(
            firstTask.hasSuffix("000000") && lastTask == firstTask.dropLast(6) + "000019", "\(firstTask) \(lastTask)")

        // 100 MB of bytes of every value, straight into the job's file: all of them, in order.
        let data = home.scratch + "/data"
        #expect(try home.shell("head -c 104857600 /dev/urandom > \(data)").status == 0)
        try home.job("start", "--scheduler", "slurm", "--quiet", "cat \(data); echo done >&2")  // 22, 23
        let copied = try home.shell("$JOB receive 22 --wait > \(home.scratch)/copy", timeout: 200)
        #expect(copied.status == 0, "\(copied.stderr)")
        #expect(copied.stderr == "done\n")
        #expect(try home.shell("cmp \(data) \(home.scratch)/copy").status == 0)
    }

    @Test("--input (a file, or - from a pipe) is every task's stdin, read again by a restart; --group files it")
    func inputAndGroup() throws {
        let setup = try Setup(port: 7147)
        let home = setup.home
        let data = home.scratch + "/data 100%"
        try "line one\nline two\n".write(toFile: data, atomically: true, encoding: .utf8)
        let started = try home.job(
            "start", "--scheduler", "slurm", "--tasks", "2", "--input", data, "--group", "batch", "--quiet",
            "echo task $SLURM_ARRAY_TASK_ID; cat")  // 1; 2, 3
        #expect(started.status == 0, "\(started.stderr)")
        // The copy is the job's: changing the file afterwards changes nothing.
        try "changed\n".write(toFile: data, atomically: true, encoding: .utf8)
        #expect(try home.job(["wait", "1"], timeout: 120).status == 0)
        #expect(try home.job("receive", "2").stdout == "task 0\nline one\nline two\n")
        #expect(try home.job("receive", "3").stdout == "task 1\nline one\nline two\n")
        let piped = try home.shell(
            "printf 'from a pipe\\n' | $JOB start --scheduler slurm --input - --quiet 'cat; echo done'")  // 4, 5
        #expect(piped.stdout == "4\n", "\(piped.stderr)")
        #expect(try home.job(["receive", "4", "--wait"], timeout: 120).stdout == "from a pipe\ndone\n")
        #expect(try home.job(["restart", "4"], timeout: 60).status == 0)
        #expect(try home.job(["receive", "4", "--wait"], timeout: 120).stdout == "from a pipe\ndone\n")
        // --group: listed and selected by it.
        #expect(try home.record(1)["group"] as? String == "batch")
        let listed = try TestHome.jobs(try home.job("get", "--group", "batch", "--format", "json"))
        #expect(listed.compactMap { $0["id"] as? Int } == [1])
        let others = try TestHome.jobs(try home.job("get", "--group", "default", "--format", "json"))
        #expect(others.compactMap { $0["id"] as? Int } == [4])
        let refused = try home.job("start", "--scheduler", "slurm", "--delay", "1m", "true")
        #expect(refused.status == 2 && refused.stderr.contains("--delay does not go with --scheduler"))
    }

    @Test(
        "from a laptop: --computer X --scheduler slurm submits through X's agent; this one may die and still sees every state and byte"
    )
    func throughAComputer() throws {
        let setup = try Setup(port: 7157)
        // server01 is a submit host of the test cluster: its sessions know SLURM_CONF.
        let computers = try TestComputers(
            count: 1, first: 201, installJob: true, sessionEnvironment: setup.cluster.environment)
        defer { computers.stop() }
        let home = setup.home
        home.extraEnvironment["JOB_SSH_CONFIG"] = computers.sshConfig
        let gate = try home.fifo("gate")
        // The computer's user reads the gate (whatever this process's umask made of the folders).
        chmod(gate, 0o666)
        chmod(home.scratch, 0o755)
        chmod((home.scratch as NSString).deletingLastPathComponent, 0o755)
        let started = try home.job(
            [
                "start", "--computer", "server01", "--scheduler", "slurm", "--name", "far", "--quiet",
                "echo in $SLURM_JOB_ID as $(id -un); read line < \(gate); echo after; echo oops >&2; exit 3",
            ], timeout: 60)
        #expect(started.stdout == "1\n", "\(started.stderr)")
        #expect(try home.record(1)["type"] as? String == "SlurmJob")
        do {
            try TestHome.eventually(timeout: 90, "the child to run in Slurm, there") {
                try home.record(2)["state"] as? String == "Running"
            }
        } catch {
            let there = try computers.ssh([
                "server01", "job get --include-children --format json; tail -5 ~/.local/state/job/agent.log",
            ])
            Issue.record("\(error): \(try home.record(2)); there: \(there.stdout) \(there.stderr)")
            throw error
        }
        let slurmId = try #require(try home.record(2)["schedulerJobId"] as? String)
        // The computer's agent submitted it, as the computer's user.
        let there = try computers.ssh(["server01", "job get --format json"])
        #expect(there.stdout.contains("SlurmJob"), "\(there.stdout) \(there.stderr)")
        let owner = try setup.cluster.run("squeue", ["-h", "-t", "all", "-j", slurmId, "-o", "%u"]).stdout
        #expect(owner == computers.user(1) + "\n")
        // The laptop sleeps: its agent is gone while the job goes on and ends there.
        let pid = try #require(try home.agentPid())
        kill(pid, SIGKILL)
        try home.awaitAgentGone()
        try home.release(gate)
        let received = try home.job(["receive", "1", "--wait"], timeout: 150)
        #expect(received.status == 3, "\(received.stderr)")
        #expect(received.stdout == "in \(slurmId) as \(computers.user(1))\nafter\n", "\(received.stdout)|\(slurmId)")
        #expect(received.stderr.hasPrefix("oops\n"), "\(received.stderr)")
        let child = try home.record(2)
        #expect(child["state"] as? String == "Failed" && child["exitStatus"] as? Int == 3, "\(child)")
        #expect(child["schedulerJobId"] as? String == slurmId)

        // Waiting in Slurm's queue there: NotStarted here with Slurm's reason; stop cancels it there.
        try home.job(
            "start", "--computer", "server01", "--scheduler", "slurm", "--sbatch-option", "--begin=now+600", "--quiet",
            "echo never")  // 3, 4
        try TestHome.eventually(timeout: 90, "the second to wait in Slurm") {
            try home.record(4)["reason"] as? String == "pending in Slurm (BeginTime)"
        }
        #expect(try home.record(4)["state"] as? String == "NotStarted")
        let waiting = try #require(try home.record(4)["schedulerJobId"] as? String)
        #expect(try home.job(["stop", "3"], timeout: 90).status == 0)
        #expect(try home.record(4)["state"] as? String == "Stopped")
        #expect(
            try setup.cluster.run("squeue", ["-h", "-t", "all", "-j", waiting, "-o", "%T"]).stdout == "CANCELLED\n")
    }

    @Test("invoke --scheduler: runs now, each line tagged by its task, the exit status by invoke's rules, no job left")
    func invoke() throws {
        let setup = try Setup(port: 7097)
        let home = setup.home
        let tasks = try home.job(
            [
                "invoke", "--scheduler", "slurm", "--tasks", "3",
                "echo task $SLURM_ARRAY_TASK_ID; [ $SLURM_ARRAY_TASK_ID != 1 ]",
            ], timeout: 120)
        #expect(tasks.status == 1, "\(tasks.stderr)")
        #expect(tasks.stdout.split(separator: "\n").sorted() == ["0: task 0", "1: task 1", "2: task 2"])
        #expect(tasks.stderr.contains("exited with status 1"), "\(tasks.stderr)")
        // One job: its own status, its lines as they are.
        let one = try home.job(["invoke", "--scheduler", "slurm", "echo hi; exit 5"], timeout: 120)
        #expect(one.status == 5 && one.stdout == "hi\n", "\(one.stdout) \(one.stderr)")
        // As Invoke-Command without -AsJob, nothing is left behind.
        #expect(try TestHome.jobs(try home.job("get", "--format", "json")).isEmpty)
        let here = try home.job("invoke", "--scheduler", "slurm", "--computer", "localhost", "true")
        #expect(here.status == 1 && here.stderr.contains("for this one, leave out --computer"), "\(here.stderr)")
        let array = try home.job("start", "--scheduler", "slurm", "--computer", "server01", "--tasks", "2", "true")
        #expect(array.status == 2 && array.stderr.contains("--tasks does not go with --scheduler and --computer"))
    }

    @Test("restart --failed submits only the failed tasks again, each with its own index, and keeps the history")
    func restartFailed() throws {
        let setup = try Setup(port: 7107)
        let home = setup.home
        // Task 1 fails the first time only (its marker is made then).
        let marker = home.scratch + "/failed-once"
        try home.job(
            "start", "--scheduler", "slurm", "--tasks", "3", "--quiet",
            "echo run $SLURM_ARRAY_TASK_ID; if [ $SLURM_ARRAY_TASK_ID = 1 ] && [ ! -e \(marker) ]; then "
                + "touch \(marker); exit 9; fi")
        #expect(try home.job(["wait", "1"], timeout: 120).status == 0)
        #expect(try home.record(1)["state"] as? String == "Failed")
        let before = try home.record(3)["schedulerJobId"] as? String
        let restarted = try home.job(["restart", "--failed", "--keep-history", "1"], timeout: 60)
        #expect(restarted.status == 0, "\(restarted.stderr)")
        #expect(try home.job(["wait", "1"], timeout: 120).status == 0)
        #expect(try home.record(1)["state"] as? String == "Completed")
        let task = try home.record(3)
        let after = try #require(task["schedulerJobId"] as? String)
        #expect(after != before && after.hasSuffix("_1"), "\(after)")
        #expect((task["history"] as? [String])?.count == 1 && task["restarts"] as? Int == 1)
        #expect(try home.job("log", "3", "--stdout").stdout == "run 1\n")
        // The others ran once.
        #expect(try home.record(2)["restarts"] as? Int == 0)
        #expect(try home.record(4)["restarts"] as? Int == 0)
    }

    @Test("--after and --after-any between Slurm jobs are Slurm's dependencies; after one that failed, never run")
    func dependencies() throws {
        let setup = try Setup(port: 7117)
        let home = setup.home
        let gate = try home.fifo("gate")
        let stamp = home.scratch + "/order"
        try home.job("start", "--scheduler", "slurm", "--quiet", "read line < \(gate); echo first >> \(stamp)")  // 1, 2
        try TestHome.eventually(timeout: 60, "the first job to run") {
            try home.record(2)["state"] as? String == "Running"
        }
        let second = try home.job(
            "start", "--scheduler", "slurm", "--after", "1", "--quiet", "echo second >> \(stamp)")  // 3, 4
        #expect(second.status == 0, "\(second.stderr)")
        try TestHome.eventually(timeout: 60, "the second to wait on its dependency") {
            try home.record(4)["reason"] as? String == "pending in Slurm (Dependency)"
        }
        try home.release(gate)
        #expect(try home.job(["wait", "3"], timeout: 120).status == 0)
        #expect(try String(contentsOfFile: stamp, encoding: .utf8) == "first\nsecond\n")
        #expect(try home.record(3)["after"] as? [Int] == [1])
        // After one that failed: Failed at once, never run; --after-any runs all the same.
        try home.job("start", "--scheduler", "slurm", "--quiet", "exit 1")  // 5, 6
        #expect(try home.job(["wait", "5"], timeout: 120).status == 0)
        try home.job("start", "--scheduler", "slurm", "--after", "5", "--quiet", "echo never >> \(stamp)")  // 7, 8
        let never = try home.record(8)
        #expect(never["state"] as? String == "Failed", "\(never)")
        #expect((never["reason"] as? String ?? "").hasPrefix("never ran:"))
        try home.job("start", "--scheduler", "slurm", "--after-any", "5", "--quiet", "echo anyway >> \(stamp)")
        #expect(try home.job(["wait", "9"], timeout: 120).status == 0)
        #expect(try String(contentsOfFile: stamp, encoding: .utf8) == "first\nsecond\nanyway\n")
        let unknown = try home.job("start", "--scheduler", "slurm", "--after", "99", "true")
        #expect(unknown.status == 1 && unknown.stderr.contains("--after 99: no job has that Id"), "\(unknown.stderr)")
    }

    @Test("a local job on either side of --after: the agent holds the submission until it ends; the queue's rule holds")
    func mixedDependencies() throws {
        let setup = try Setup(port: 7137)
        let home = setup.home
        let gate = try home.fifo("gate")
        let stamp = home.scratch + "/order"
        func comments() throws -> [Substring] {
            try setup.cluster.run("squeue", ["-h", "-t", "all", "-o", "%k"]).stdout.split(separator: "\n").filter {
                $0.hasPrefix("job:")
            }
        }
        try home.job("start", "--quiet", "read line < \(gate); echo local >> \(stamp)")  // 1, 2
        let held = try home.job(
            "start", "--scheduler", "slurm", "--after", "1", "--tasks", "2", "--quiet",
            "echo slurm $SLURM_ARRAY_TASK_ID >> \(stamp)")  // 3; 4, 5
        #expect(held.status == 0, "\(held.stderr)")
        try home.job("start", "--scheduler", "slurm", "--after", "3", "--quiet", "echo chained >> \(stamp)")  // 6, 7
        for id in [4, 5] {
            let child = try home.record(id)
            #expect(child["state"] as? String == "NotStarted" && child["schedulerJobId"] == nil)
            #expect(child["reason"] as? String == "waiting for Job1 to end before it is submitted to Slurm")
        }
        #expect(try home.record(7)["reason"] as? String == "waiting for Job3 to be submitted to Slurm first")
        // Nothing is in Slurm while they are held.
        #expect(try comments().isEmpty)
        try home.release(gate)
        #expect(try home.job(["wait", "6"], timeout: 120).status == 0)
        let order = try String(contentsOfFile: stamp, encoding: .utf8).split(separator: "\n")
        #expect(order.first == "local" && order.last == "chained" && Set(order[1...2]) == ["slurm 0", "slurm 1"])
        // The array went to Slurm as one array, the chained job with Slurm's own dependency on it.
        let task = try #require(try home.record(4)["schedulerJobId"] as? String)
        let other = try home.record(5)["schedulerJobId"] as? String
        #expect(task.hasSuffix("_0") && other == task.dropLast(2) + "_1")

        // After a local job that fails: Failed, never submitted. A local job after a Slurm job:
        // runs when it completed, never when it failed.
        let gate2 = try home.fifo("gate2")
        try home.job("start", "--quiet", "read line < \(gate2); exit 1")  // 8, 9
        try home.job("start", "--scheduler", "slurm", "--after", "8", "--quiet", "echo never")  // 10, 11
        try home.job("start", "--after", "6", "--quiet", "echo local after slurm")  // 12, 13
        try home.job("start", "--scheduler", "slurm", "--quiet", "exit 3")  // 14, 15
        try home.job("start", "--after", "14", "--quiet", "echo never")  // 16, 17
        try home.release(gate2)
        #expect(try home.job(["wait", "10", "12", "16"], timeout: 120).status == 0)
        let never = try home.record(11)
        #expect(never["state"] as? String == "Failed" && never["schedulerJobId"] == nil, "\(never)")
        #expect((never["reason"] as? String ?? "").hasPrefix("never ran: Job8"), "\(never)")
        #expect(try home.job("receive", "12").stdout == "local after slurm\n")
        #expect(try home.record(17)["state"] as? String == "Failed")
        #expect(try home.job("receive", "16").stdout == "")

        // Held when the agent is killed: the next agent submits it once, when its local job ends.
        let gate3 = try home.fifo("gate3")
        try home.job("start", "--quiet", "read line < \(gate3)")  // 18, 19
        try home.job("start", "--scheduler", "slurm", "--after", "18", "--quiet", "echo once")  // 20, 21
        let pid = try #require(try home.agentPid())
        kill(pid, SIGKILL)
        try home.awaitAgentGone()
        try home.release(gate3)
        let once = try home.job(["receive", "20", "--wait"], timeout: 120)
        #expect(once.status == 0 && once.stdout == "once\n", "\(once.stdout) \(once.stderr)")
        let instance = try #require(try home.record(21)["instanceId"] as? String)
        #expect(try comments().filter { $0 == "job:\(instance)" }.count == 1)

        // A held one stops at once; nothing reaches Slurm.
        try home.job("start", "--quiet", "sleep 300")  // 22, 23
        try home.job("start", "--scheduler", "slurm", "--after", "22", "--quiet", "echo stopped")  // 24, 25
        #expect(try home.job(["stop", "24"], timeout: 60).status == 0)
        let stopped = try home.record(25)
        #expect(stopped["state"] as? String == "Stopped" && stopped["schedulerJobId"] == nil, "\(stopped)")
    }

    @Test("stop cancels in Slurm: a running job and a held one end Stopped; scancel from outside says so")
    func stop() throws {
        let setup = try Setup(port: 7027)
        let home = setup.home
        try home.job("start", "--scheduler", "slurm", "--quiet", "echo running; exec sleep 300")  // 1, 2
        try TestHome.eventually(timeout: 60, "the job to run in Slurm") {
            try home.record(2)["state"] as? String == "Running"
        }
        let stopped = try home.job(["stop", "1"], timeout: 60)
        #expect(stopped.status == 0, "\(stopped.stderr)")
        let child = try home.record(2)
        #expect(child["state"] as? String == "Stopped" && child["reason"] as? String == "stopped by request")
        let slurmId = try #require(child["schedulerJobId"] as? String)
        let state = try setup.cluster.run("squeue", ["-h", "-t", "all", "-j", slurmId, "-o", "%T"])
        #expect(state.stdout == "CANCELLED\n")

        // Held in Slurm: Suspended, and why.
        try home.job("start", "--scheduler", "slurm", "--sbatch-option", "--hold", "--quiet", "echo held")  // 3, 4
        try TestHome.eventually(timeout: 60, "the held job to be seen held") {
            try home.record(4)["state"] as? String == "Suspended"
        }
        #expect(try home.record(4)["reason"] as? String == "held in Slurm's queue: resume releases it")
        #expect(try home.job(["stop", "3"], timeout: 60).status == 0)
        #expect(try home.record(4)["state"] as? String == "Stopped")

        // Cancelled by someone else: Stopped, and the Reason says where.
        try home.job("start", "--scheduler", "slurm", "--quiet", "exec sleep 300")  // 5, 6
        try TestHome.eventually(timeout: 60, "the job to have its Slurm id") {
            try home.record(6)["schedulerJobId"] as? String != nil
        }
        let outside = try #require(try home.record(6)["schedulerJobId"] as? String)
        #expect(try setup.cluster.run("scancel", [outside]).status == 0)
        try TestHome.eventually(timeout: 60, "the cancel to be seen") {
            try home.record(6)["state"] as? String == "Stopped"
        }
        #expect(try home.record(6)["reason"] as? String == "cancelled in Slurm")
        // --signal goes to its steps first: a trap sees it, and the job is cancelled all the same.
        try home.job(
            "start", "--scheduler", "slurm", "--quiet",
            "trap 'echo got USR1' USR1; echo ready; while :; do sleep 0.1; done")  // 7, 8
        try TestHome.eventually(timeout: 60, "the trap to be set, and the job seen running") {
            try home.job("log", "7", "--stdout").stdout == "ready\n" && home.record(8)["state"] as? String == "Running"
        }
        #expect(try home.job(["stop", "--signal", "USR1", "7"], timeout: 60).status == 0)
        #expect(try home.record(8)["state"] as? String == "Stopped")
        #expect(try home.job("log", "7", "--stdout").stdout == "ready\ngot USR1\n")
        // remove refuses a job Slurm still runs, unless forced (which cancels it first).
        try home.job("start", "--scheduler", "slurm", "--quiet", "exec sleep 300")  // 9, 10
        try TestHome.eventually(timeout: 60, "the job to run") { try home.record(10)["state"] as? String == "Running" }
        let removed = try home.job("remove", "9")
        #expect(removed.status == 1 && removed.stderr.contains("stop it first"), "\(removed.stderr)")
        #expect(try home.job(["remove", "--force", "9"], timeout: 60).status == 0)
    }

    @Test("suspend holds a job waiting in Slurm's queue and resume releases it; a running one is suspended in Slurm")
    func suspendResume() throws {
        let setup = try Setup(port: 7127)
        let home = setup.home
        func slurm(_ id: Int) throws -> String {
            let slurmId = try #require(try home.record(id)["schedulerJobId"] as? String)
            return try setup.cluster.run("squeue", ["-h", "-t", "all", "-j", slurmId, "-o", "%T %r"]).stdout
        }
        // Waiting (Slurm starts it in ten minutes): held, then released.
        try home.job("start", "--scheduler", "slurm", "--sbatch-option", "--begin=now+600", "--quiet", "echo late")
        try TestHome.eventually(timeout: 60, "the job to wait in Slurm") {
            try home.record(2)["reason"] as? String == "pending in Slurm (BeginTime)"
        }
        let held = try home.job("suspend", "1")
        #expect(held.status == 0, "\(held.stderr)")
        #expect(try home.record(2)["state"] as? String == "Suspended")
        #expect(try home.record(2)["reason"] as? String == "held in Slurm's queue: resume releases it")
        #expect(try slurm(2) == "PENDING JobHeldUser\n")
        #expect(try home.job("resume", "1").status == 0)
        #expect(try home.record(2)["state"] as? String == "NotStarted")
        let released = try slurm(2)
        #expect(released.hasPrefix("PENDING ") && !released.contains("JobHeld"), "\(released)")
        // Running: suspended in Slurm, resumed, suspended again, and stop still stops it.
        try home.job("start", "--scheduler", "slurm", "--quiet", "echo ready; exec sleep 300")  // 3, 4
        try TestHome.eventually(timeout: 60, "the job to run") { try home.record(4)["state"] as? String == "Running" }
        #expect(try home.job("suspend", "3").status == 0)
        #expect(try home.record(4)["state"] as? String == "Suspended")
        #expect(try slurm(4) == "SUSPENDED None\n")
        #expect(try home.job("resume", "3").status == 0)
        #expect(try home.record(4)["state"] as? String == "Running")
        #expect(try slurm(4) == "RUNNING None\n")
        #expect(try home.job("suspend", "3").status == 0)
        #expect(try home.job(["stop", "1", "3"], timeout: 60).status == 0)
        #expect(try home.record(2)["state"] as? String == "Stopped" && home.record(4)["state"] as? String == "Stopped")

        // An ordinary user of the cluster: a running job is Slurm's operators' to suspend, and
        // the refusal says so in plain words; holding one that waits is the user's right.
        let user = try TestHome()
        defer { user.close() }
        try user.runAsNobody()
        user.extraEnvironment = setup.cluster.environment
        let first = try user.job("start", "--scheduler", "slurm", "--quiet", "exec sleep 300")
        #expect(first.status == 0, "\(first.stderr)")
        do {
            try TestHome.eventually(timeout: 90, "nobody's job to run") {
                try user.record(2)["state"] as? String == "Running"
            }
        } catch {
            // What a user would look at: the job, Slurm's queue, the agent's log.
            let queue = try setup.cluster.run("squeue", ["-h", "-t", "all", "-o", "%i %u %T %r"]).stdout
            let log = (try? String(contentsOfFile: user.path + "/agent.log", encoding: .utf8)) ?? "no log"
            Issue.record("\(error): \(try user.record(2)); squeue: \(queue); agent log: \(log.suffix(2000))")
            throw error
        }
        let refused = try user.job("suspend", "1")
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("Slurm refused to suspend") && refused.stderr.contains("operator's right"))
        #expect(refused.stderr.contains("Access/permission denied"), "\(refused.stderr)")
        #expect(try user.record(2)["state"] as? String == "Running")
        try user.job("start", "--scheduler", "slurm", "--sbatch-option", "--begin=now+600", "--quiet", "true")
        try TestHome.eventually(timeout: 60, "nobody's second job to be in Slurm") {
            try user.record(4)["schedulerJobId"] as? String != nil
        }
        #expect(try user.job("suspend", "3").status == 0)
        #expect(try user.record(4)["state"] as? String == "Suspended")
        #expect(try user.job("resume", "3").status == 0)
        #expect(try user.record(4)["state"] as? String == "NotStarted")
        #expect(try user.job(["stop", "--all"], timeout: 60).status == 0)
        #expect(try user.record(2)["state"] as? String == "Stopped")
    }

    @Test("the agent killed while its Slurm job runs: the next one follows it to its end and its bytes")
    func agentRestart() throws {
        let setup = try Setup(port: 7037)
        let home = setup.home
        let gate = try home.fifo("gate")
        try home.job("start", "--scheduler", "slurm", "--quiet", "echo before; read line < \(gate); echo after")
        try TestHome.eventually(timeout: 60, "the job to run") { try home.record(2)["state"] as? String == "Running" }
        let pid = try #require(try home.agentPid())
        kill(pid, SIGKILL)
        try home.awaitAgentGone()
        try home.release(gate)
        // A new agent (started by this command) finds it in Slurm and sees it end.
        let received = try home.job(["receive", "1", "--wait"], timeout: 120)
        #expect(received.status == 0, "\(received.stderr)")
        #expect(received.stdout == "before\nafter\n")
        #expect(try home.record(2)["state"] as? String == "Completed")
        // And stop still stops, for this agent.
        try home.job("start", "--scheduler", "slurm", "--quiet", "exec sleep 300")  // 3, 4
        try TestHome.eventually(timeout: 60, "the second to run") {
            try home.record(4)["state"] as? String == "Running"
        }
        #expect(try home.job(["stop", "3"], timeout: 60).status == 0)
        #expect(try home.record(4)["state"] as? String == "Stopped")
    }

    @Test(
        "a job that ended while no agent ran, and that squeue no longer lists: its exact end from the completion records"
    )
    func endedUnseen() throws {
        let setup = try Setup(port: 7087, minJobAge: 2)
        let home = setup.home
        let gate = try home.fifo("gate")
        try home.job("start", "--scheduler", "slurm", "--quiet", "read line < \(gate); echo done; exit 4")
        try TestHome.eventually(timeout: 60, "the job to run") { try home.record(2)["state"] as? String == "Running" }
        let slurmId = try #require(try home.record(2)["schedulerJobId"] as? String)
        let pid = try #require(try home.agentPid())
        kill(pid, SIGKILL)
        try home.awaitAgentGone()
        try home.release(gate)
        // Slurm forgets it MinJobAge (2 s) after its end, at its next purge.
        try TestHome.eventually(timeout: 120, "squeue to forget the job") {
            try setup.cluster.run("squeue", ["-h", "-t", "all", "-j", slurmId]).stdout.isEmpty
        }
        let received = try home.job(["receive", "1", "--wait"], timeout: 120)
        #expect(received.status == 4 && received.stdout == "done\n", "\(received.stdout) \(received.stderr)")
        let child = try home.record(2)
        #expect(child["state"] as? String == "Failed" && child["exitStatus"] as? Int == 4, "\(child)")
    }

    @Test("the controller not answering: get answers from the store, a start waits and is submitted once it answers")
    func controllerDown() throws {
        let setup = try Setup(port: 7057, messageTimeout: 2)
        let home = setup.home
        let gate = try home.fifo("gate")
        try home.job("start", "--scheduler", "slurm", "--quiet", "read line < \(gate); echo first")  // 1, 2
        try TestHome.eventually(timeout: 60, "the job to run") { try home.record(2)["state"] as? String == "Running" }
        try setup.cluster.pauseController(true)
        // A start is stored and answered at once; it waits to be submitted, saying why.
        let began = Date()
        let started = try home.job(["start", "--scheduler", "slurm", "--quiet", "echo second"], timeout: 30)
        #expect(started.stdout == "3\n", "\(started.stderr)")
        #expect(Date().timeIntervalSince(began) < 10)
        try TestHome.eventually(timeout: 60, "the start to wait for the controller") {
            (try home.record(4)["reason"] as? String ?? "").hasPrefix("waiting to be submitted: the Slurm controller")
        }
        #expect(try home.record(4)["state"] as? String == "NotStarted")
        // The running job keeps its state, and says since when Slurm has not answered.
        try TestHome.eventually(timeout: 60, "the running job to say the controller is silent") {
            (try home.record(2)["reason"] as? String ?? "").hasPrefix("Slurm controller not answering since")
        }
        #expect(try home.record(2)["state"] as? String == "Running")
        // The job ends while the controller does not answer; its end is read once it does.
        try home.release(gate)
        try setup.cluster.pauseController(false)
        #expect(try home.job(["receive", "1", "--wait"], timeout: 120).stdout == "first\n")
        let second = try home.job(["receive", "3", "--wait"], timeout: 120)
        let secondChild = try home.record(4)
        #expect(second.stdout == "second\n", "\(second.stdout) \(second.stderr) \(secondChild)")
        #expect(secondChild["state"] as? String == "Completed")
        let first = try home.record(2)
        #expect(first["reason"] is NSNull && first["exitStatus"] as? Int == 0, "\(first)")
        // And stop still stops.
        try home.job("start", "--scheduler", "slurm", "--quiet", "exec sleep 300")  // 5, 6
        try TestHome.eventually(timeout: 60, "the third to run") { try home.record(6)["state"] as? String == "Running" }
        #expect(try home.job(["stop", "5"], timeout: 60).status == 0)
        #expect(try home.record(6)["state"] as? String == "Stopped")
    }

    @Test("--timeout is Slurm's time limit, in whole minutes: a job that reaches it is Failed, timed out")
    func timeLimit() throws {
        let setup = try Setup(port: 7167)
        let home = setup.home
        try home.job("start", "--scheduler", "slurm", "--timeout", "30s", "--quiet", "echo begun; exec sleep 300")
        try TestHome.eventually(timeout: 60, "the job to be in Slurm") {
            try home.record(2)["schedulerJobId"] as? String != nil
        }
        let limit = try setup.cluster.run("squeue", ["-h", "-t", "all", "-o", "%l"]).stdout
        #expect(limit == "1:00\n", "30 s is rounded up to a minute: \(limit)")
        // Slurm checks time limits about every 30 s: the end comes within two minutes or so.
        // job events follows it to its end, as any job.
        let events = try home.job(["events", "1", "--until-finished", "--format", "json"], timeout: 260)
        #expect(events.status == 0, "\(events.stderr)")
        let lines = events.stdout.split(separator: "\n")
        #expect(lines.contains { $0.contains("\"Running\"") } && lines.last?.contains("\"Failed\"") == true, "\(lines)")
        #expect(try home.job(["wait", "1", "--timeout", "10s"]).status == 0)
        let child = try home.record(2)
        #expect(child["state"] as? String == "Failed", "\(child)")
        #expect(child["reason"] as? String == "timed out (Slurm's time limit)", "\(child)")
        #expect(try home.job("receive", "1").stdout == "begun\n")
    }

    @Test(
        "the agent killed in a start, before sbatch and after it (its id not stored): submitted once, found by the next",
        arguments: ["start-after-answer", "start-after-launch"])
    func killedInStart(point: String) throws {
        let setup = try Setup(port: point == "start-after-answer" ? 7067 : 7077)
        let home = setup.home
        // This command starts the agent, which kills itself at the fault point.
        let started = try home.job(
            ["start", "--scheduler", "slurm", "--quiet", "echo once"], environment: ["JOB_TEST_FAULT": point])
        #expect(started.stdout == "1\n", "\(started.stderr)")
        try home.awaitAgentGone()
        // The next agent (this command starts it) finds the submission by its comment, or makes
        // it: the command runs once.
        let received = try home.job(["receive", "1", "--wait"], timeout: 120)
        #expect(received.status == 0 && received.stdout == "once\n", "\(received.stdout) \(received.stderr)")
        let comments = try setup.cluster.run("squeue", ["-h", "-t", "all", "-o", "%k"]).stdout
        #expect(comments.split(separator: "\n").filter { $0.hasPrefix("job:") }.count == 1, "\(comments)")
        #expect(try home.record(2)["state"] as? String == "Completed")
    }

    @Test("bad input: an unknown scheduler, --tasks out of range, sbatch's refusal in its words")
    func badInput() throws {
        let setup = try Setup(port: 7047)
        let home = setup.home
        let unknown = try home.job("start", "--scheduler", "pbs", "true")
        #expect(unknown.status == 2 && unknown.stderr.contains("--scheduler takes slurm"))
        let tasks = try home.job("start", "--scheduler", "slurm", "--tasks", "0", "true")
        #expect(tasks.status == 2 && tasks.stderr.contains("--tasks"))
        let without = try home.job("start", "--tasks", "3", "true")
        #expect(without.status == 2 && without.stderr.contains("goes with --scheduler"))
        let option = try home.job("start", "--scheduler", "slurm", "--sbatch-option", "partition=x", "true")
        #expect(option.status == 1 && option.stderr.contains("is not an sbatch option"), "\(option.stderr)")
        // sbatch refuses it: the job is Failed with sbatch's words.
        let refused = try home.job("start", "--scheduler", "slurm", "--sbatch-option", "--partition=nowhere", "true")
        #expect(refused.status == 0, "\(refused.stderr)")
        try TestHome.eventually(timeout: 60, "the refusal to be recorded") {
            try home.record(2)["state"] as? String == "Failed"
        }
        let reason = try home.record(2)["reason"] as? String ?? ""
        #expect(reason.hasPrefix("sbatch refused it: ") && reason.contains("partition"), "\(reason)")
        #expect(try home.job("get").stdout.contains("Failed"))
    }
}
