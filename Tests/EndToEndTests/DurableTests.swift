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

/// Test computers in network namespaces of their own, with `job` installed: their links can
/// be cut for real (the veth goes down; ssh sees silence, not a closed connection). Each test
/// cuts only its own computer.
let cuttableComputers = Result { try TestComputers(count: 4, first: 171, installJob: true, netns: true) }

/// `invoke --durable`: remote children that run in their computer's agent and outlive a lost
/// link, with a real cut of the link in each test.
@Suite("durable remote children through a cut link", .timeLimit(.minutes(10)))
struct DurableTests: OnTestComputers {
    let computers: TestComputers
    let home: TestHome

    init() throws {
        computers = try cuttableComputers.get()
        home = try TestHome()
    }

    /// 200 numbered lines over 20 s: what the child must have, byte for byte, at the end.
    static let counting = counting(200)
    static let counted = counted(200)
    static func counting(_ lines: Int) -> String {
        "i=0; while [ $i -lt \(lines) ]; do printf 'line %d\\n' $i; i=$((i+1)); sleep 0.1; done"
    }
    static func counted(_ lines: Int) -> String { (0..<lines).map { "line \($0)\n" }.joined() }

    func state(_ id: Int) throws -> String { try home.record(id)["state"] as? String ?? "" }
    func reason(_ id: Int) throws -> String { try home.record(id)["reason"] as? String ?? "" }

    /// Starts a durable job on one computer and waits until its output has begun (so the
    /// link is up). Returns the parent's Id; the child's is the next.
    func startDurable(on computer: Int, _ command: String, environment: [String: String] = [:]) throws -> Int {
        let started = try home.job(
            ["invoke", "--durable", "--as-job", "--quiet", "--computer", computers.name(computer), "--", command],
            environment: ["JOB_SSH_CONFIG": computers.sshConfig].merging(environment) { $1 })
        #expect(started.status == 0, "\(started.stderr)")
        let id = Int(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        try TestHome.eventually(timeout: 30, "the output of Job\(id + 1) to begin") {
            try !job("log", String(id), "--stdout").stdout.isEmpty
        }
        return id
    }

    /// Whether a process whose command line holds `marker` runs on the computer (the pattern
    /// is written so that it does not match the remote shell that runs pgrep).
    func running(_ computer: String, _ marker: String) throws -> Bool {
        let result = try computers.ssh([
            computer, "pgrep", "-f", "'[" + marker.prefix(1) + "]" + marker.dropFirst() + "'",
        ])
        return result.status == 0
    }

    /// Cuts the link, and returns the seconds until the child was seen Disconnected.
    func cutAndAwaitDisconnected(_ computer: Int, child: Int) throws -> Double {
        let cutAt = Date()
        try computers.cut(computer)
        try TestHome.eventually(timeout: 40, "Job\(child) to be Disconnected") { try state(child) == "Disconnected" }
        return Date().timeIntervalSince(cutAt)
    }

    @Test("a link cut for 10 s: the child is Disconnected within 15 s, then Completed with every byte once")
    func cutForTenSeconds() throws {
        defer { try? computers.restore(1) }
        let id = try startDurable(on: 1, Self.counting)
        let seen = try cutAndAwaitDisconnected(1, child: id + 1)
        // ServerAliveInterval 5 x 2 probes: about 15 s by design (bench_remote.py's figure); the
        // bound has room for a loaded machine, and still fails a link that is never seen lost
        // or one waiting for TCP's own timeout (minutes).
        #expect(seen < 30, "seen Disconnected \(seen) s after the cut")
        // Its only child is Disconnected, so the parent is too (an unfinished state).
        #expect(try state(id) == "Disconnected")
        #expect(try reason(id + 1).contains("the link to server01 was lost"))
        // The outage lasts 10 s from the cut; the command goes on there meanwhile.
        Thread.sleep(until: Date().addingTimeInterval(max(0, 10 - seen)))
        try computers.restore(1)
        let waited = try job("wait", String(id), "--timeout", "90")
        #expect(waited.status == 0, "\(waited.stderr)")
        #expect(try state(id + 1) == "Completed")
        #expect(try home.record(id + 1)["exitStatus"] as? Int == 0)
        let received = try job("receive", String(id))
        #expect(received.stdout == Self.counted)
        // Once its end is stored here, the job is removed there.
        try TestHome.eventually(timeout: 20, "the job to be removed on server01") {
            try computers.ssh(["server01", "job", "get", "--all", "--format", "json"]).stdout == "[]\n"
        }
    }

    @Test("the agent killed with -9 while Disconnected, then again while the output streams: every byte arrives once")
    func agentKilledWhileDisconnected() throws {
        defer { try? computers.restore(2) }
        // 60 s of output, so that it still streams after the cut and the first restart.
        let id = try startDurable(on: 2, Self.counting(600))
        _ = try cutAndAwaitDisconnected(2, child: id + 1)
        let pid = try #require(try home.agentPid())
        kill(pid, SIGKILL)
        try home.awaitAgentGone()
        // A new agent takes the child over, still without a link.
        #expect(try state(id + 1) == "Disconnected")
        try computers.restore(2)
        // Linked again and streaming: the second kill comes in the middle of the output.
        let before = try job("log", String(id), "--stdout").stdout.count
        try TestHome.eventually(timeout: 60, "the output to go on") {
            try state(id + 1) == "Running" && job("log", String(id), "--stdout").stdout.count > before
        }
        let second = try #require(try home.agentPid())
        kill(second, SIGKILL)
        try home.awaitAgentGone()
        // The rest of a minute of output, after two restarts: more than the usual 60 s a command
        // of the tests may take.
        let waited = try home.job(
            ["wait", String(id), "--timeout", "120"], environment: ["JOB_SSH_CONFIG": computers.sshConfig],
            timeout: 150)
        #expect(waited.status == 0, "\(waited.stderr)")
        #expect(try state(id + 1) == "Completed")
        #expect(try job("receive", String(id)).stdout == Self.counted(600))
    }

    @Test("a stop while Disconnected is pending, shown by get, and delivered once the link is back")
    func stopWhileDisconnected() throws {
        defer { try? computers.restore(3) }
        let marker = "durable-stop-\(UUID().uuidString.prefix(8))"
        let id = try startDurable(
            on: 3, "trap 'echo trapped; exit 7' TERM; echo \(marker); while :; do sleep 0.1; done")
        _ = try cutAndAwaitDisconnected(3, child: id + 1)
        let before = Date()
        let stopped = try job("stop", String(id))
        #expect(stopped.status == 0, "\(stopped.stderr)")
        // It does not wait for a link that is not there (that would take the next try of the
        // link, 30 s and more); the bound has room for a loaded machine.
        #expect(Date().timeIntervalSince(before) < 15)
        #expect(try state(id + 1) == "Disconnected")
        #expect(try reason(id + 1).contains("a stop is pending"))
        // Removing it now would leave the command running there, unseen: refused.
        let removal = try job("remove", "--force", String(id))
        #expect(removal.status == 1 && removal.stderr.contains("not stopped there yet"), "\(removal.stderr)")
        #expect(try state(id + 1) == "Disconnected")
        try computers.restore(3)
        let waited = try job("wait", String(id), "--timeout", "90")
        #expect(waited.status != 124, "\(waited.stderr)")
        #expect(try state(id + 1) == "Stopped")
        // It was stopped there by SIGTERM, which its trap saw.
        #expect(try job("receive", String(id)).stdout == "\(marker)\ntrapped\n")
        #expect(try running("server03", marker) == false)
    }

    @Test("a link that never comes back: after reconnect-for the child fails, saying so, and the command runs on there")
    func linkNeverBack() throws {
        defer { try? computers.restore(4) }
        let marker = "durable-lost-\(UUID().uuidString.prefix(8))"
        let environment = ["JOB_RECONNECT_FOR": "20s"]
        let id = try startDurable(
            on: 4, "echo \(marker); while :; do sleep 0.1; done", environment: environment)
        _ = try cutAndAwaitDisconnected(4, child: id + 1)
        try TestHome.eventually(timeout: 90, "Job\(id + 1) to give up") { try state(id + 1) == "Failed" }
        #expect(try reason(id + 1).contains("could not reach it again within 20s"))
        #expect(try state(id) == "Failed")
        try computers.restore(4)
        // Nothing ended it there: it is the user's to look at (and stop) on that computer.
        #expect(try running("server04", marker) == true)
        let there = try computers.ssh(["server04", "job", "stop", "--all"])
        #expect(there.status == 0, "\(there.stderr)")
    }

    @Test("--durable on a computer without job fails the child at once, saying what to do")
    func notInstalled() throws {
        let bare = try TestComputers(count: 1, first: 185)
        defer { bare.stop() }
        let result = try home.job(
            ["invoke", "--durable", "--as-job", "--computer", "server01", "--", "echo hi"],
            environment: ["JOB_SSH_CONFIG": bare.sshConfig])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try job("wait", "1", "--timeout", "60").status == 0)
        let child = try home.record(2)
        #expect(child["state"] as? String == "Failed")
        #expect((child["reason"] as? String ?? "").contains("job is not installed on server01"))
    }

    @Test("--deploy copies this job to a computer without it, checked by checksum, and runs the child there")
    func deploys() throws {
        let bare = try TestComputers(count: 2, first: 187)
        defer { bare.stop() }
        let ssh = { (arguments: [String]) throws -> CommandResult in try bare.ssh(arguments) }
        for computer in ["server01", "server02"] {
            #expect(
                try ssh([computer, "rm -rf ~/.cache/job ~/bin/uname; command -v job || echo none"]).stdout == "none\n")
        }
        let environment = ["JOB_SSH_CONFIG": bare.sshConfig]
        let first = try home.job(
            ["invoke", "--deploy", "--as-job", "--quiet", "--computer", "server01", "--", "echo deployed"],
            environment: environment)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try home.job(["wait", "1", "--timeout", "60"], environment: environment).status == 0)
        let why = try reason(2)
        #expect(try state(2) == "Completed", "\(why)")
        #expect(try home.job(["receive", "1"], environment: environment).stdout == "deployed\n")
        // Both executables are there, the same bytes as here.
        let here = try TestHome.run(
            "/usr/bin/sha256sum",
            [TestHome.binary, (TestHome.binary as NSString).deletingLastPathComponent + "/job-agent"],
            stdin: nil, environment: ProcessInfo.processInfo.environment, directory: "/", timeout: 30)
        let there = try ssh(["server01", "sha256sum ~/.cache/job/*/job ~/.cache/job/*/job-agent"])
        let sums = { (text: String) in text.split(separator: "\n").map { $0.split(separator: " ").first ?? "" } }
        #expect(sums(there.stdout) == sums(here.stdout) && sums(here.stdout).count == 2, "\(there.stdout)")
        // A new agent finds them up to date and copies nothing.
        let before = try ssh(["server01", "stat -c %i.%Y ~/.cache/job/*/job"]).stdout
        #expect(try home.job(["agent", "stop"], environment: environment).status == 0)
        let second = try home.job(
            ["invoke", "--deploy", "--computer", "server01", "--", "echo again"], environment: environment)
        #expect(second.stdout == "again\n", "\(second.stderr)")
        #expect(try ssh(["server01", "stat -c %i.%Y ~/.cache/job/*/job"]).stdout == before)

        // Another system (uname through the PATH): refused, both named, nothing copied.
        #expect(
            try ssh([
                "server02",
                "mkdir -p ~/bin && printf '#!/bin/sh\\necho Linux aarch64\\n' >~/bin/uname && chmod 755 ~/bin/uname",
            ]).status == 0)
        defer { _ = try? ssh(["server02", "rm -f ~/bin/uname"]) }
        let refused = try home.job(
            ["invoke", "--deploy", "--as-job", "--quiet", "--computer", "server02", "--", "echo no"],
            environment: environment)
        let id = try #require(Int(refused.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try home.job(["wait", String(id), "--timeout", "60"], environment: environment).status == 0)
        #expect(try state(id + 1) == "Failed")
        let refusal = try reason(id + 1)
        #expect(refusal.contains("it runs Linux aarch64, and this job is built for Linux x86_64"), "\(refusal)")
        #expect(try ssh(["server02", "ls ~/.cache/job 2>/dev/null | wc -l"]).stdout == "0\n")
    }
}
