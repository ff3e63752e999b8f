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

@Suite("the agent and durability", .timeLimit(.minutes(10)))
struct AgentTests {
    @Test("agent status exits 1 when none runs and stop exits 0; the first verb starts one; folders are private")
    func lifecycle() throws {
        let home = try TestHome()
        #expect(try home.job("agent", "status").status == 1)
        #expect(try home.job("agent", "stop").status == 0)
        #expect(try home.job("get").status == 0)
        let pid = try #require(try home.agentPid())
        #expect(processIsLive(pid))
        var info = stat()
        stat(home.path, &info)
        #expect(info.st_mode & 0o777 == 0o700)
        stat(home.path + "/agent.sock", &info)
        #expect(info.st_mode & 0o777 == 0o600)
        try home.job("start", "--quiet", "echo x")
        try home.job("wait")
        let output = home.path + "/jobs/" + (try home.record(2)["instanceId"] as? String ?? "") + ".out"
        stat(output, &info)
        #expect(info.st_mode & 0o777 == 0o600)
        stat(home.path + "/jobs.sqlite", &info)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(try home.job("agent", "stop").status == 0)
        #expect(try home.job("agent", "status").status == 1)
    }

    @Test("the agent started by a verb in a pipeline holds none of its pipes, so the pipeline ends")
    func detachedFromPipes() throws {
        let home = try TestHome()
        let result = try home.shell("\"$JOB\" get --format json | cat; echo done", timeout: 20)
        #expect(result.stdout == "[]\ndone\n")
        let agent = try #require(try home.agentPid())
        let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(agent)/fd")
        for fd in ["0", "1", "2"] where fds.contains(fd) {
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(agent)/fd/\(fd)")
            #expect(target == "/dev/null")
        }
    }

    @Test("clients racing to start the agent end with exactly one agent")
    func racingClients() throws {
        let home = try TestHome()
        let threads = (0..<6).map { _ in Thread.detachNewThreadWithResult { try? home.job("get") } }
        let results = threads.map { $0.value() }
        #expect(results.allSatisfy { $0??.status == 0 })
        let agents = try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init).filter { pid in
            guard processIsLive(pid),
                let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)
            else { return false }
            return command.contains("agent\0run\0--home\0\(home.path)\0")
        }
        #expect(agents.count == 1)
    }

    @Test("a job keeps running and recording while the agent is killed; the next agent records its exact status")
    func agentKilled() throws {
        let home = try TestHome()
        let gate = try home.fifo("gate")
        try home.job("start", "--quiet", "echo before; read x < \(gate); echo after; exit 7")
        try home.job("start", "--quiet", "sleep 300")
        try TestHome.eventually("the first line") { try home.job("receive", "1", "--keep").stdout == "before\n" }
        let agent = try #require(try home.agentPid())
        kill(agent, SIGKILL)
        try TestHome.eventually("the agent to die") { !processIsLive(agent) }
        try home.release(gate)
        let jobPid = Int32(try #require(try home.record(4)["pid"] as? Int))
        // The job that ended while no agent ran is recorded by the next one, exactly.
        let result = try home.job("receive", "1", "--wait")
        #expect(result.stdout == "before\nafter\n")
        #expect(result.status == 7)
        #expect(try home.agentPid() != agent)
        let running = try home.record(4)
        #expect(running["state"] as? String == "Running")
        #expect(processIsLive(jobPid))
        // A job still running across the restart is watched by the new agent.
        kill(-jobPid, SIGKILL)
        #expect(try home.job("receive", "3", "--wait").status == 137)
        #expect(try home.record(4)["reason"] as? String == "killed by signal 9 (SIGKILL)")
    }

    @Test(
        "job agent stop and SIGTERM stop the agent in order and leave running jobs running; the next agent sees them end"
    )
    func agentStopped() throws {
        let home = try TestHome()
        let gate = try home.fifo("gate")
        try home.job("start", "--quiet", "read x < \(gate); echo done")
        let first = try #require(try home.agentPid())
        #expect(try home.job("agent", "stop").status == 0)
        // The client went on once the agent had let go of the home (the lock is free, and the
        // process ends), and its last word was that it stopped (threads joined, store
        // closed), not cut off.
        let lock = open(home.path + "/agent.lock", O_RDONLY)
        #expect(flock(lock, LOCK_EX | LOCK_NB) == 0)
        close(lock)
        try TestHome.eventually("the stopped agent to be gone") { !processIsLive(first) }
        var log = try String(contentsOfFile: home.path + "/agent.log", encoding: .utf8)
        #expect(log.hasSuffix("] stopped\n"), "\(log.suffix(300))")
        // The same for SIGTERM.
        #expect(try home.job("get", "1").status == 0)
        let second = try #require(try home.agentPid())
        #expect(second != first)
        kill(second, SIGTERM)
        try TestHome.eventually("the agent to stop on SIGTERM") { !processIsLive(second) }
        log = try String(contentsOfFile: home.path + "/agent.log", encoding: .utf8)
        #expect(log.contains("stopping on signal 15"))
        #expect(log.hasSuffix("] stopped\n"), "\(log.suffix(300))")
        try home.release(gate)
        let result = try home.job("receive", "1", "--wait")
        #expect(result.status == 0)
        #expect(result.stdout == "done\n")
    }

    @Test("a job that was running at a reboot is Failed with that Reason")
    func reboot() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "sleep 300")
        let pid = Int32(try #require(try home.record(2)["pid"] as? Int))
        #expect(try home.job("agent", "stop").status == 0)
        // A reboot ends the job and its monitor, and the boot id changes.
        let monitor = try #require(parentPid(of: pid))
        kill(monitor, SIGKILL)
        kill(-pid, SIGKILL)
        try TestHome.eventually("the job and its monitor to be gone") { !processIsLive(pid) && !processIsLive(monitor) }
        _ = try home.sql("update job set bootId='earlier'")
        let record = try home.record(2)
        #expect(record["state"] as? String == "Failed")
        #expect(record["reason"] as? String == "the computer restarted while the job was running")
    }

    @Test("no zombie is left among the agent's or the supervisor's children once jobs have ended")
    func noZombies() throws {
        let home = try TestHome()
        for _ in 0..<5 { try home.job("start", "--quiet", "sleep 0.01 & true") }
        try home.job("wait")
        let agent = try #require(try home.agentPid())
        let supervisor = try #require(try supervisorPid(of: home))
        try TestHome.eventually("every child to be reaped") {
            let entries = try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init)
            return !entries.contains { pid in
                guard let fields = statFields(pid) else { return false }
                return fields[0] == "Z" && (Int32(fields[1]) == agent || Int32(fields[1]) == supervisor)
            }
        }
    }

    @Test("output files are made ahead as unnamed files that only the supervisor holds; a job writes its named files")
    func outputFilesMadeAhead() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "sleep 300")
        let pid = Int32(try #require(try home.record(2)["pid"] as? Int))
        let monitor = try #require(parentPid(of: pid))
        let supervisor = try #require(try supervisorPid(of: home))
        let jobs = home.path + "/jobs/"
        // O_TMPFILE files show as `FOLDER/#INODE (deleted)`.
        func unnamed(_ pid: Int32) throws -> [String] {
            try descriptors(of: pid).filter { $0.hasPrefix(jobs + "#") && $0.hasSuffix(" (deleted)") }
        }
        // Made once the supervisor has been idle a moment; the job's pid is known before its exec.
        try TestHome.eventually("the next files to be made ahead") { try unnamed(supervisor).count == 2 }
        try TestHome.eventually("the job to be sleep") { processName(pid) == "sleep" }
        #expect(try unnamed(monitor).isEmpty)
        #expect(try unnamed(pid).isEmpty)
        let named = try descriptors(of: pid).filter { $0.hasPrefix(jobs) }.sorted()
        #expect(named.count == 2 && named.allSatisfy { !$0.hasSuffix("(deleted)") }, "\(named)")
        // The next jobs take the files made ahead and write their own output, privately.
        try home.job("start", "--quiet", "echo out; echo err >&2")
        try home.job("start", "--quiet", "echo second")
        try home.job("wait", "3", "5")
        #expect(try home.job("receive", "3").stdout == "out\n")
        #expect(try home.job("receive", "5").stdout == "second\n")
        let files = try FileManager.default.contentsOfDirectory(atPath: jobs).filter { !$0.hasPrefix(".") }
        #expect(files.count == 6, "\(files)")
        for file in files {
            let mode = try #require(
                try FileManager.default.attributesOfItem(atPath: jobs + file)[.posixPermissions] as? Int)
            #expect(mode == 0o600, "\(file)")
        }
        try home.job("stop", "1")
    }

    /// Where each open descriptor of a process leads.
    func descriptors(of pid: Int32) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")
        }
    }

    /// The supervisor: the process named job-supervisor whose parent is this home's agent,
    /// or that serves this home's supervisor socket.
    func supervisorPid(of home: TestHome) throws -> Int32? {
        let agent = try home.agentPid()
        let entries = try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init)
        return entries.first { pid in
            guard let fields = statFields(pid), Int32(fields[1]) == agent,
                let name = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)
            else { return false }
            return name.hasPrefix("job-supervisor") && fields[0] != "Z"
        }
    }

    /// Fields of /proc/PID/stat after the command name: state, ppid, pgrp, ...
    func statFields(_ pid: Int32) -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 2 ? fields : nil
    }
}

@Suite("two executables", .timeLimit(.minutes(10)))
struct TwoExecutablesTests {
    @Test("the client links no SQLite; job-agent beside it does, and the client starts it")
    func thinClient() throws {
        let client = try Data(contentsOf: URL(fileURLWithPath: TestHome.binary))
        let agentPath = URL(fileURLWithPath: TestHome.binary).deletingLastPathComponent().appendingPathComponent(
            "job-agent")
        let agent = try Data(contentsOf: agentPath)
        let marker = Data("sqlite3_prepare_v2".utf8)
        #expect(client.range(of: marker) == nil)
        #expect(agent.range(of: marker) != nil)
        let home = try TestHome()
        #expect(try home.job("get").status == 0)
        let pid = try #require(try home.agentPid())
        let command = try String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)
        #expect(command.hasPrefix("job-agent\0run\0--home\0"))
    }

    @Test("job agent run serves in the foreground until job agent stop")
    func foreground() throws {
        let home = try TestHome()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestHome.binary)
        process.arguments = ["agent", "run", "--home", home.path]
        process.environment = home.environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try TestHome.eventually("the agent to answer") { try home.agentPid() == process.processIdentifier }
        #expect(try home.job("agent", "stop").status == 0)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
