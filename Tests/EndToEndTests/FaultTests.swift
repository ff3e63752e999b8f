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

/// How the long-lived processes of a home go away in a fault test.
enum Departure: String, CaseIterable, CustomTestStringConvertible {
    case agentStopped = "job agent stop"
    case agentKilled = "kill -9 of the agent"
    case supervisorKilled = "kill -9 of the supervisor"
    case bothKilled = "kill -9 of the agent and the supervisor at once"

    var testDescription: String { rawValue }
}

@Suite("durability under faults", .timeLimit(.minutes(10)))
struct FaultTests {
    @Test(
        "every running job survives its home's processes going away, stays stoppable, and what ended meanwhile is exact",
        arguments: Departure.allCases)
    func departures(_ departure: Departure) throws {
        let home = try TestHome()
        let exitGate = try home.fifo("exit")
        let signalGate = try home.fifo("signal")
        try home.job("start", "--quiet", "sleep 300")  // 1, 2
        try home.job("start", "--quiet", "echo before; read x < \(exitGate); printf after; exit 7")  // 3, 4
        try home.job("start", "--quiet", "trap '' TERM; echo ready; sleep 300")  // 5, 6
        try home.job("start", "--quiet", "read x < \(signalGate); kill -USR1 $$")  // 7, 8
        try TestHome.eventually("the first lines") {
            try home.job("receive", "3", "--keep").stdout == "before\n"
                && home.job("receive", "5", "--keep").stdout == "ready\n"
        }
        let pids = try [2, 4, 6, 8].map { Int32(try #require(try home.record($0)["pid"] as? Int)) }
        let agent = try #require(try home.agentPid())
        let supervisor = try #require(supervisorPid(of: agent))
        switch departure {
        case .agentStopped: #expect(try home.job("agent", "stop").status == 0)
        case .agentKilled: kill(agent, SIGKILL)
        case .supervisorKilled: kill(supervisor, SIGKILL)
        case .bothKilled:
            kill(agent, SIGKILL)
            kill(supervisor, SIGKILL)
        }
        if departure != .supervisorKilled { try TestHome.eventually("the agent to be gone") { !processIsLive(agent) } }
        if departure == .supervisorKilled || departure == .bothKilled {
            try TestHome.eventually("the supervisor to be gone") { !processIsLive(supervisor) }
        }
        // Two jobs end while nothing of ours above their monitors may be running.
        try home.release(exitGate)
        try home.release(signalGate)
        // Reaped by their monitors, not only exited.
        try TestHome.eventually("both to have ended and been reaped") {
            !FileManager.default.fileExists(atPath: "/proc/\(pids[1])")
                && !FileManager.default.fileExists(atPath: "/proc/\(pids[3])")
        }

        let all = try TestHome.jobs(try home.job("get", "--include-children", "--format", "json"))
        let byId = Dictionary(uniqueKeysWithValues: all.map { ($0["id"] as? Int ?? 0, $0) })
        #expect(byId[2]?["state"] as? String == "Running")
        #expect(byId[6]?["state"] as? String == "Running")
        #expect(byId[2]?["pid"] as? Int == Int(pids[0]))
        let exited = try home.job("receive", "3")
        #expect(exited.stdout == "before\nafter")
        #expect(byId[4]?["state"] as? String == "Failed")
        #expect(byId[4]?["exitStatus"] as? Int == 7)
        #expect(byId[8]?["signal"] as? Int == Int(SIGUSR1))
        #expect(byId[8]?["reason"] as? String == "killed by signal 10 (SIGUSR1)")

        // stop still ends the whole group, SIGTERM ignored or not.
        let stopped = try home.job("stop", "1", "5", "--grace", "1")
        #expect(stopped.status == 0)
        #expect(try home.record(2)["state"] as? String == "Stopped")
        #expect(try home.record(6)["state"] as? String == "Stopped")
        #expect(try home.record(6)["signal"] as? Int == Int(SIGKILL))
        #expect(liveMembers(ofGroup: pids[0]).isEmpty)
        #expect(liveMembers(ofGroup: pids[2]).isEmpty)
        // And new jobs start, through a new supervisor where the old one is gone.
        #expect(try home.job("start", "--quiet", "echo again").stdout == "9\n")
        #expect(try home.job("receive", "9", "--wait").stdout == "again\n")
    }

    @Test("the agent and a job's monitor both killed: the next agent finds the job by its stored pid and stops it")
    func agentAndMonitorKilled() throws {
        let home = try TestHome()
        try home.job(["start", "--quiet", "sleep 300"], environment: ["JOB_LOG_LEVEL": "debug"])
        let pid = Int32(try #require(try home.record(2)["pid"] as? Int))
        // The pid and its start time are stored a moment after the start answers, which the
        // log says at the debug level.
        try home.awaitLog("Job2's process \(pid) and its start time are stored")
        let agent = try #require(try home.agentPid())
        let monitor = try #require(parentPid(of: pid))
        kill(agent, SIGKILL)
        kill(monitor, SIGKILL)
        try TestHome.eventually("the agent and the monitor to be gone") {
            !processIsLive(agent) && !processIsLive(monitor)
        }
        #expect(try home.sql("select pid from job where id = 2") == String(pid))
        #expect(processIsLive(pid))
        let record = try home.record(2)
        #expect(record["state"] as? String == "Running", "\(record["reason"] ?? "")")
        #expect(try home.job("stop", "1", "--grace", "1").status == 0)
        #expect(try home.record(2)["state"] as? String == "Stopped")
        try TestHome.eventually("the job's process to be gone") { liveMembers(ofGroup: pid).isEmpty }
    }

    @Test("a killed monitor: its job runs on, is never shown Running without a process, and stop still stops it")
    func monitorKilled() throws {
        let home = try TestHome()
        let gate = try home.fifo("gate")
        try home.job("start", "--quiet", "sleep 300")  // 1, 2
        try home.job("start", "--quiet", "read x < \(gate); exit 3")  // 3, 4
        let first = Int32(try #require(try home.record(2)["pid"] as? Int))
        let second = Int32(try #require(try home.record(4)["pid"] as? Int))
        for pid in [first, second] {
            let monitor = try #require(parentPid(of: pid))
            #expect(processName(monitor) == "job-monitor")
            kill(monitor, SIGKILL)
            try TestHome.eventually("the monitor to be gone") { !processIsLive(monitor) }
        }
        #expect(processIsLive(first))
        #expect(try home.record(2)["state"] as? String == "Running")
        // The job that ends on its own is seen to end; its status died with its monitor.
        try home.release(gate)
        let ended = try home.job("wait", "3", "--timeout", "20")
        #expect(ended.status == 0)
        let record = try home.record(4)
        #expect(record["state"] as? String == "Failed")
        #expect(record["reason"] as? String == "its monitor was killed, so its exit status is unknown")
        // The agent restarting meanwhile changes nothing of that.
        #expect(try home.job("agent", "stop").status == 0)
        #expect(try home.record(2)["state"] as? String == "Running")
        #expect(try home.job("stop", "1", "--grace", "1").status == 0)
        #expect(try home.record(2)["state"] as? String == "Stopped")
        #expect(liveMembers(ofGroup: first).isEmpty)
    }

    @Test(
        "the agent killed inside start: the job is recorded either way, runs at most once, and its Id is not reused",
        arguments: ["start-after-insert", "start-after-answer", "start-after-launch"], [false, true])
    func killedInsideStart(_ point: String, fastPath: Bool) throws {
        let home = try TestHome()
        let marker = home.scratch + "/ran"
        let gate = try home.fifo("gate")
        // The start that starts the agent is the Swift client's; the fast path answers a start
        // only once an agent runs (here one started by a get, armed the same way).
        if fastPath { #expect(try home.job(["get"], environment: ["JOB_TEST_FAULT": point]).status == 0) }
        let started = try home.job(
            ["start", "--quiet", "echo x >> \(marker); read x < \(gate); echo done; exit 4"],
            environment: fastPath ? ["JOB_FAST_PATH": "only"] : ["JOB_TEST_FAULT": point])
        if point == "start-after-insert" {
            #expect(started.status == 1)
            #expect(started.stderr.contains("agent"))
        } else {
            // A local start is answered before its launch: the client has the job's Id.
            #expect(started.status == 0)
            #expect(started.stdout == "1\n")
        }
        try home.awaitAgentGone()
        let record = try home.record(2)
        if point != "start-after-launch" {
            #expect(record["state"] as? String == "Failed")
            #expect(record["reason"] as? String == "the agent stopped before the job could start")
            #expect(!FileManager.default.fileExists(atPath: marker))
        } else {
            #expect(record["state"] as? String == "Running")
            #expect(record["pid"] is Int)
            try home.release(gate)
            let result = try home.job("receive", "1", "--wait")
            #expect(result.stdout == "done\n")
            #expect(result.status == 4)
            #expect(try String(contentsOfFile: marker, encoding: .utf8) == "x\n")
        }
        #expect(try home.job("start", "--quiet", "true").stdout == "3\n")
    }

    @Test(
        "the agent killed after a wait was answered with a job's end, before storing it: the next agent stores that end"
    )
    func killedAfterAnsweringAWait() throws {
        let home = try TestHome()
        let gate = try home.fifo("gate")
        // The agent this start starts is killed at the first job end it reads.
        let started = try home.job(
            ["start", "--quiet", "read x < \(gate); echo out; exit 3"],
            environment: ["JOB_TEST_FAULT": "end-after-answer", "JOB_LOG_LEVEL": "debug"])
        #expect(started.stdout == "1\n")
        let agent = try #require(try home.agentPid())
        let (waiter, output) = try ReaderProbeTests.spawn(home, ["wait", "1", "--format", "json"])
        // The wait is held in the agent (its debug line says so): it is answered at the job's end.
        try home.awaitLog("a wait for Job1 is held")
        try home.release(gate)
        let answer = ReaderProbeTests.read(output) { _ in false }
        waiter.waitUntilExit()
        #expect(waiter.terminationStatus == 0)
        let parsed = try JSONSerialization.jsonObject(with: Data(answer)) as? [[String: Any]]
        let answered = try #require(parsed?.first, "wait printed \(answer.count) bytes")
        #expect(answered["state"] as? String == "Failed")
        // Answered by the agent that read the end, not by a next one the client had started
        // (it would have taken the lock file, with its own pid).
        let lock = try String(contentsOfFile: home.path + "/agent.lock", encoding: .utf8)
        #expect(Int32(lock.trimmingCharacters(in: .whitespacesAndNewlines)) == agent)
        try home.awaitAgentGone()
        // The end was not stored when the agent died: the monitor kept it for the next agent,
        // which stores the same one the wait printed.
        let stored = try home.record(1)
        #expect(stored["state"] as? String == "Failed")
        #expect(try home.record(2)["exitStatus"] as? Int == 3)
        #expect(stored["endTime"] as? String == answered["endTime"] as? String)
        #expect(stored["endTime"] != nil)
        #expect(try home.job("receive", "1").stdout == "out\n")
    }

    @Test("the agent killed inside remove: the next agent finishes it, and no output file is left behind")
    func killedInsideRemove() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "echo kept")  // 1, 2
        try home.job("start", "--quiet", "echo removed; echo e >&2")  // 3, 4
        try home.job("wait")
        let removed = try #require(try home.record(4)["instanceId"] as? String)
        let kept = try #require(try home.record(2)["instanceId"] as? String)
        #expect(try home.job("agent", "stop").status == 0)
        let result = try home.job(["remove", "3"], environment: ["JOB_TEST_FAULT": "remove-after-delete"])
        #expect(result.status == 1)
        try home.awaitAgentGone()
        #expect(FileManager.default.fileExists(atPath: home.path + "/jobs/\(removed).out"))
        #expect(try home.job("get", "3").status == 1)
        let files = try FileManager.default.contentsOfDirectory(atPath: home.path + "/jobs")
        #expect(!files.contains { $0.hasPrefix(removed) })
        #expect(files.contains("\(kept).out"))
        #expect(try home.job("receive", "1").stdout == "kept\n")
    }

    @Test("a remote child survives the agent and the supervisor killed at once; stop still ends it on its computer")
    func remoteChildSurvives() throws {
        let computers = try sharedComputers.get()
        let home = try TestHome()
        let environment = ["JOB_SSH_CONFIG": computers.sshConfig]
        let marker = "survive-\(UUID().uuidString.prefix(8))"
        try home.job(
            ["invoke", "--computer", "server01", "--as-job", "--quiet", "echo \(marker); sleep 303"],
            environment: environment)
        try TestHome.eventually("the remote command to start") {
            try home.job(["receive", "2", "--keep"], environment: environment).stdout.contains(marker)
        }
        let agent = try #require(try home.agentPid())
        let supervisor = try #require(supervisorPid(of: agent))
        kill(agent, SIGKILL)
        kill(supervisor, SIGKILL)
        try TestHome.eventually("both to be gone") { !processIsLive(agent) && !processIsLive(supervisor) }
        func remaining() -> Bool {
            let listing = try? TestHome.run(
                "/bin/ps", ["-o", "args=", "-u", computers.user(1)], stdin: nil, environment: [:], directory: "/",
                timeout: 10)
            return listing?.stdout.contains("sleep 303") ?? true
        }
        #expect(remaining())
        #expect(try home.job(["get", "2", "--format", "json"], environment: environment).stdout.contains("Running"))
        #expect(try home.job(["stop", "1", "--grace", "1"], environment: environment).status == 0)
        #expect(try home.record(2)["state"] as? String == "Stopped")
        try TestHome.eventually("no process of the job to be left on server01") { !remaining() }
    }
}

/// The supervisor of a home: the process named job-supervisor whose parent is its agent.
func supervisorPid(of agent: Int32) -> Int32? {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init)) ?? []
    return entries.first { pid in
        parentPid(of: pid) == agent && processName(pid) == "job-supervisor" && processIsLive(pid)
    }
}

func parentPid(of pid: Int32) -> Int32? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
    else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    return fields.count > 1 ? Int32(fields[1]) : nil
}

func processName(_ pid: Int32) -> String? {
    (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .newlines)
}

@Suite("a full disk", .timeLimit(.minutes(10)))
struct FullDiskTests {
    @Test("a job that fills the disk fails saying so; remove frees space; the agent starts again on a full disk")
    func fullDisk() throws {
        let disk = FileManager.default.temporaryDirectory.path + "/job-disk-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        let mounted = try TestHome.run(
            "/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", disk], stdin: nil, environment: [:],
            directory: "/", timeout: 30)
        guard mounted.status == 0 else { throw TestFailure("cannot mount a tmpfs (root needed): \(mounted.stderr)") }
        defer {
            _ = try? TestHome.run(
                "/bin/umount", ["-l", disk], stdin: nil, environment: [:], directory: "/", timeout: 30)
        }
        let home = try TestHome(in: disk)
        defer { home.close() }
        func free() -> UInt64 {
            var info = statvfs()
            statvfs(disk, &info)
            return UInt64(info.f_bavail) * UInt64(info.f_frsize)
        }

        // The agent says at the debug level when a launched job's pid is stored (a moment after
        // the start answers): each job below that fills the disk waits for that first, so that
        // no store write of its launch meets the full disk and spends the store's reserve.
        func pidStored(_ id: Int) throws {
            let pid = try #require(try home.record(id)["pid"] as? Int)
            try home.awaitLog("Job\(id)'s process \(pid) and its start time are stored")
        }

        // 1. A job that writes more than the disk holds: Failed, and the Reason says why.
        let first = try home.fifo("first")
        try home.job(
            ["start", "--quiet", "read x < \(first); head -c 20M /dev/zero"], environment: ["JOB_LOG_LEVEL": "debug"])
        try pidStored(2)
        try home.release(first)
        try home.job("wait", "1")
        let filled = try home.record(2)
        #expect(filled["state"] as? String == "Failed")
        #expect((filled["reason"] as? String ?? "").contains("is full"), "\(filled["reason"] ?? "")")

        // 2. remove frees its space.
        let before = free()
        #expect(try home.job("remove", "1").status == 0)
        #expect(free() > before + (1 << 20))

        // 2b. The store writes into its reserve while the disk is full (another verb runs
        // meanwhile, as under load): the job that filled it is still said to have.
        let wait = try home.fifo("wait")
        let go = try home.fifo("go")
        try home.job("start", "--quiet", "read x < \(go); head -c 20M /dev/zero; read x < \(wait); exit 1")  // 3, 4
        try pidStored(4)
        try home.release(go)
        try TestHome.eventually("the disk to fill") { free() < 64 << 10 }
        #expect(try home.job("start", "--quiet", "true").stdout == "5\n")
        #expect(!FileManager.default.fileExists(atPath: home.path + "/reserve"))
        try home.release(wait)
        try home.job("wait", "3")
        #expect((try home.record(4)["reason"] as? String ?? "").contains("is full"))
        #expect(try home.job("remove", "3", "5").status == 0)

        // 3. The disk full again while no agent runs, and a job ends meanwhile.
        let gate = try home.fifo("gate")
        try home.job("start", "--quiet", "read x < \(gate); exit 6")  // 7, 8
        // Its launch is stored whole before the disk fills.
        try pidStored(8)
        let filler = disk + "/filler"
        _ = try TestHome.run(
            "/bin/sh", ["-c", "head -c 20M /dev/zero > \(filler)"], stdin: nil, environment: [:], directory: "/",
            timeout: 30)
        #expect(free() < 64 << 10)
        #expect(try home.job("agent", "stop").status == 0)
        try home.release(gate)
        // The agent starts on the full disk and stores the end that came meanwhile.
        let got = try home.job("get", "7", "--format", "json")
        #expect(got.status == 0, "\(got.stderr)")
        let ended = try home.record(8)
        #expect(ended["exitStatus"] as? Int == 6)

        // 4. Space back: jobs run again, and the store is sound.
        unlink(filler)
        #expect(try home.job("start", "--quiet", "echo ok").stdout == "9\n")
        #expect(try home.job("receive", "9", "--wait").stdout == "ok\n")
        #expect(try home.job("agent", "stop").status == 0)
        #expect(try home.sql("PRAGMA integrity_check") == "ok")
    }
}

@Suite("several readers of one job", .timeLimit(.minutes(10)))
struct ReadersTests {
    @Test("two readers at once receive every byte exactly once between them", arguments: [false, true])
    func twoReaders(prefixed: Bool) throws {
        let home = try TestHome()
        let gate = try home.fifo("gate")
        try home.job(
            "start", "--quiet",
            "read x < \(gate); i=0; while [ $i -lt 6000 ]; do i=$((i+1)); echo line$i; "
                + "[ $((i % 300)) = 0 ] && sleep 0.01; done; true")
        let flags = prefixed ? ["--prefix"] : []
        let readers = (0..<2).map { _ in
            Thread.detachNewThreadWithResult { try? home.job(["receive", "1", "--wait"] + flags, timeout: 120) }
        }
        try home.release(gate)
        let outputs = readers.map { $0.value()??.stdout ?? "" }
        let expected = (1...6000).map { "line\($0)" }
        var lines = outputs.flatMap { $0.split(separator: "\n").map(String.init) }
        if prefixed {
            // Prefixed output is written in whole lines: each line once, whole.
            lines = lines.map { String($0.dropFirst("Job2: ".count)) }
            #expect(lines.count == 6000, "\(lines.count) lines")
            #expect(Set(lines) == Set(expected))
        } else {
            // Raw output is byte-exact, not line-exact: where one reader's part ended inside a
            // line (the file's size read while a line was being written), the other reader
            // starts with the rest of it. So: the same bytes, each once (as many of each byte
            // value as were written), and no whole line twice.
            var received: [UInt8: Int] = [:]
            for byte in outputs.flatMap(\.utf8) { received[byte, default: 0] += 1 }
            var written: [UInt8: Int] = [:]
            for byte in expected.flatMap({ Array(($0 + "\n").utf8) }) { written[byte, default: 0] += 1 }
            #expect(received == written)
            let whole = lines.filter(Set(expected).contains)
            #expect(Set(whole).count == whole.count, "a line received twice")
            #expect(whole.count > 5900, "\(whole.count) whole lines")
        }
        #expect(try home.job("receive", "1").stdout.isEmpty)
    }

    @Test("the agent killed after a reader wrote its part: the next reader does not get those bytes again")
    func killedAfterWrite() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "echo first; echo second >&2")
        try home.job("wait", "1")
        #expect(try home.job("agent", "stop").status == 0)
        let first = try home.job(["receive", "1"], environment: ["JOB_TEST_FAULT": "receive-after-write"])
        #expect(first.stdout == "first\n")
        #expect(first.stderr.contains("second"))
        try home.awaitAgentGone()
        let again = try home.job("receive", "1")
        #expect(again.stdout == "")
        #expect(!again.stderr.contains("second"))
        // What was never claimed is still there for the next reader.
        try home.job("start", "--quiet", "echo third")
        try home.job("wait", "3")
        #expect(try home.job("receive", "3").stdout == "third\n")
    }

    @Test("a reader that goes away early gives back what its pipe did not take")
    func earlyExit() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "seq 1 100000")
        try home.job("wait", "1")
        let head = try home.shell("\"$JOB\" receive 1 | head -n 1")
        #expect(head.stdout == "1\n")
        let rest = try home.job("receive", "1")
        let all = try home.job("receive", "1", "--from-start", "--keep")
        #expect(all.stdout.hasSuffix(rest.stdout))
        #expect(rest.stdout.hasSuffix("100000\n"))
    }
}
