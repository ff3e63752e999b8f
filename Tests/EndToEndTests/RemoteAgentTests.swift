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

/// Jobs that live in another computer's own agent: made there by `job invoke ... -- job start`,
/// then reached with `--computer` on get, receive, wait, stop and remove. The test computers
/// have the built `job` installed in each user's ~/bin. Each test names its jobs uniquely,
/// because the computers' agents are shared by the tests running at the same time.
@Suite("jobs in the agents of other computers (--computer)", .timeLimit(.minutes(10)))
struct RemoteAgentTests: OnTestComputers {
    let computers: TestComputers
    let home: TestHome
    let tag = String(UUID().uuidString.prefix(8))

    init() throws {
        computers = try sharedComputers.get()
        home = try TestHome()
    }

    @Test("invoke -- job start makes the job in each computer's agent; every verb reaches it, tagged")
    func jobsInRemoteAgents() throws {
        let name = "remote-\(tag)"
        let started = try job(
            "invoke", "--computer", "server01,server02", "--", "job", "start", "--quiet", "--name", name,
            "echo from $(id -un); echo oops >&2")
        #expect(started.status == 0, "\(started.stderr)")
        // Each computer's agent answered with the Id it gave; the lines are tagged.
        let ids = started.stdout.split(separator: "\n")
        #expect(Set(ids.map { $0.split(separator: ":").first.map(String.init) ?? "" }) == ["server01", "server02"])
        // Nothing was made here: the jobs are in the computers' agents.
        #expect(try job("get", "--format", "json").stdout == "[]\n")

        let waited = try job("wait", "--computer", "server01,server02", name, "--format", "json")
        #expect(waited.status == 0, "\(waited.stderr)")
        let rows = try TestHome.jobs(waited)
        #expect(rows.map { $0["computer"] as? String } == ["server01", "server02"])
        #expect(rows.map { $0["state"] as? String } == ["Completed", "Completed"])
        #expect(rows.map { $0["workingDirectory"] as? String } == ["/home/jobtest01", "/home/jobtest02"])

        let table = try job("get", "--computer", "server01,server02", name)
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("Computer  Id") == true)
        #expect(lines.count == 4)
        #expect(lines[2].hasPrefix("server01 ") && lines[2].contains(name))
        #expect(lines[3].hasPrefix("server02 ") && lines[3].contains(name))

        let received = try job("receive", "--computer", "server01,server02", name)
        #expect(received.status == 0)
        #expect(
            Set(received.stdout.split(separator: "\n").map(String.init)) == [
                "server01: from jobtest01", "server02: from jobtest02",
            ])
        #expect(received.stderr.contains("server01: oops"))
        #expect(received.stderr.contains("server02: oops"))
        // Received means consumed, in the computer's own agent.
        #expect(try job("receive", "--computer", "server01,server02", name).stdout == "")
        let again = try job("receive", "--computer", "server01", name, "--from-start", "--keep", "--format", "json")
        #expect(again.stdout.contains(#""computer":"server01","stream":"output","data":"from jobtest01\n""#))
        #expect(!again.stdout.contains("localhost"))
        // Straight from the computer: the job is there, and received.
        let there = try computers.ssh(["server01", "job", "get", name, "--format", "json"])
        #expect(there.stdout.contains(#""hasMoreData": false"#))

        #expect(try job("remove", "--computer", "server01,server02", name).status == 0)
        let gone = try job("get", "--computer", "server01,server02", name)
        #expect(gone.status == 1)
        #expect(gone.stderr.contains("server01: job: no job is named '\(name)'"))
        #expect(gone.stderr.contains("server02: job: no job is named '\(name)'"))
    }

    @Test("events --computer streams the changes of jobs in other computers' agents, tagged, until they finish")
    func eventsThere() throws {
        let name = "events-\(tag)"
        let gate = "/tmp/gate-\(tag)"
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let started = try job(
            "invoke", "--computer", "server01,server02", "--", "job", "start", "--quiet", "--name", name,
            "while [ ! -e \(gate) ]; do sleep 0.05; done")
        #expect(started.status == 0, "\(started.stderr)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestHome.binary)
        process.arguments = [
            "events", "--computer", "server01,server02", "--name", name, "--existing", "--until-finished",
        ]
        process.environment = home.environment.merging(["JOB_SSH_CONFIG": computers.sshConfig]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        DispatchQueue.global().asyncAfter(deadline: .now() + 60) { if process.isRunning { process.terminate() } }
        // Each computer shows its job as it is: then both watch, and the gate ends the jobs.
        var present = Set<String>()
        while present.count < 2, let line = output.fileHandleForReading.readLine() {
            if line.hasSuffix(": Running"), let computer = line.split(separator: ":").first {
                present.insert(String(computer))
            }
        }
        #expect(present == ["server01", "server02"])
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        var lines: [String] = []
        while let line = output.fileHandleForReading.readLine() { lines.append(line) }
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        for computer in ["server01", "server02"] {
            #expect(
                lines.contains { $0.hasPrefix(computer + ": ") && $0.hasSuffix("Running -> Completed") },
                "\(lines)")
        }
        #expect(try job("remove", "--computer", "server01,server02", name).status == 0)
    }

    @Test("a remote agent's job outlives the connection that made it; stop ends it there; wait times out as 124")
    func stopInRemoteAgent() throws {
        let name = "long-\(tag)"
        let marker = "sleep 29\(Int.random(in: 100...999))"
        let started = try job(
            "invoke", "--computer", "server03", "--", "job", "start", "--quiet", "--name", name, marker)
        #expect(started.status == 0, "\(started.stderr)")
        func running() -> Bool {
            let listing = try? TestHome.run(
                "/bin/ps", ["-o", "stat=,args=", "-u", "jobtest03"], stdin: nil, environment: [:], directory: "/",
                timeout: 10)
            return listing?.stdout.split(separator: "\n").contains { $0.contains(marker) && !$0.hasPrefix("Z") }
                ?? false
        }
        // The invoke has ended (its connection is gone); the job runs on in server03's agent
        // (which answers a start before its launch).
        try TestHome.eventually("the job to run on server03") { running() }
        let timedOut = try job("wait", "--computer", "server03", name, "--timeout", "0")
        #expect(timedOut.status == 124)
        let stopped = try job("stop", "--computer", "server03", name, "--pass-thru", "--format", "json", "--grace", "1")
        #expect(stopped.status == 0, "\(stopped.stderr)")
        let rows = try TestHome.jobs(stopped)
        #expect(rows.map { $0["state"] as? String } == ["Stopped"])
        #expect(rows.map { $0["computer"] as? String } == ["server03"])
        try TestHome.eventually("no process of the job to be left on server03") { !running() }
        #expect(try job("remove", "--computer", "server03", name).status == 0)
    }

    @Test("failures are per computer: an unreachable one, no job there, bad names and options")
    func failures() throws {
        let name = "failures-\(tag)"
        try job("invoke", "--computer", "server01", "--", "job", "start", "--quiet", "--name", name, "true")
        let mixed = try job("wait", "--computer", "server01,unreachable", name)
        #expect(mixed.status == 1)
        #expect(mixed.stdout.contains("server01"))
        #expect(mixed.stderr.contains("job: unreachable: ssh: connect to host 127.0.0.250 port 2222"))

        let missing = try job("get", "--computer", "server01", "--remote-job", "/opt/nowhere/job")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("server01: /opt/nowhere/job was not found there"))
        #expect(missing.stderr.contains("--remote-job PATH"))

        let explicit = try job("get", "--computer", "server01", "--remote-job", "/home/jobtest01/bin/job", name)
        #expect(explicit.status == 0)
        #expect(explicit.stdout.contains(name))

        let badName = try job("get", "--computer", "-oProxyCommand=touch /tmp/x")
        #expect(badName.status == 2)
        let lonely = try job("get", "--remote-job", "/usr/bin/job")
        #expect(lonely.status == 2)
        #expect(lonely.stderr.contains("go with --computer"))
        let noSelector = try job("stop", "--computer", "server01")
        #expect(noSelector.status == 2)
        #expect(try job("remove", "--computer", "server01", name).status == 0)

        // receive --wait streams until the job ends there, and exits with its status.
        let failing = "exit3-\(tag)"
        try job(
            "invoke", "--computer", "server02", "--", "job", "start", "--quiet", "--name", failing,
            "echo partial; sleep 0.3; exit 3")
        let streamed = try job("receive", "--computer", "server02", failing, "--wait", "--auto-remove")
        #expect(streamed.status == 3)
        #expect(streamed.stdout == "server02: partial\n")
        #expect(streamed.stderr.contains("failed: exited with status 3"))
        #expect(streamed.stderr.hasPrefix("server02: job: "))
        #expect(try job("get", "--computer", "server02", failing).status == 1)
    }

    @Test("invoke --durable --input: the job in the computer's agent reads the same bytes")
    func durableInput() throws {
        let bytes = Array("line one\nline two\nno newline".utf8)
        let started = try home.job(
            ["invoke", "--durable", "--computer", "server01,server02", "--input", "-", "--", "cat; echo; echo end"],
            stdin: bytes, environment: ["JOB_SSH_CONFIG": computers.sshConfig])
        #expect(started.status == 0, "\(started.stderr)")
        let lines = started.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        for computer in ["server01", "server02"] {
            #expect(
                lines.filter { $0.hasPrefix(computer + ": ") } == [
                    "\(computer): line one", "\(computer): line two", "\(computer): no newline", "\(computer): end",
                ])
        }
    }

    @Test("a durable job restarts as a new job there, once the last run's link has ended")
    func durableRestart() throws {
        let started = try job("invoke", "--durable", "--as-job", "--quiet", "--computer", "server02", "echo run $$")
        let id = started.stdout.trimmingCharacters(in: .newlines)
        #expect(try job("wait", id, "--timeout", "60").status == 0)
        let first = try job("receive", id).stdout
        #expect(first.hasPrefix("run "))
        #expect(try job("restart", id).status == 0)
        #expect(try job("wait", id, "--timeout", "60").status == 0)
        let record = try home.record(Int(id)! + 1)
        #expect(record["state"] as? String == "Completed")
        let second = try job("receive", id).stdout
        #expect(second.hasPrefix("run ") && second != first)
    }

    @Test("suspend and resume reach a durable child's job in its computer's agent")
    func durableSuspend() throws {
        let gate = "/tmp/durable-gate-\(tag)"
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let started = try job(
            "invoke", "--durable", "--as-job", "--quiet", "--computer", "server03",
            "while [ ! -e \(gate) ]; do sleep 0.05; done; echo through")
        let id = started.stdout.trimmingCharacters(in: .newlines)
        let child = String(Int(id)! + 1)
        let instance = try #require(try home.record(Int(child)!)["instanceId"] as? String)
        func stateThere() throws -> String {
            let rows = try TestHome.jobs(try computers.ssh(["server03", "job", "get", instance, "--format", "json"]))
            return rows.first?["state"] as? String ?? "none"
        }
        try TestHome.eventually("the job to run on server03") { try stateThere() == "Running" }
        #expect(try job("suspend", id).status == 0)
        try TestHome.eventually("the job to be Suspended on server03") { try stateThere() == "Suspended" }
        #expect(try home.record(Int(child)!)["state"] as? String == "Suspended")
        #expect(try job("resume", id).status == 0)
        try TestHome.eventually("the job to run again on server03") { try stateThere() == "Running" }
        #expect(FileManager.default.createFile(atPath: gate, contents: nil))
        #expect(try job("wait", id, "--timeout", "60").status == 0)
        #expect(try home.record(Int(child)!)["state"] as? String == "Completed")
        #expect(try job("receive", id).stdout == "through\n")
    }
}
