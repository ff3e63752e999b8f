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

/// Persistent sessions, here and on a test computer: each test opens its own session in a home
/// of its own, runs commands in it through the real CLI and checks the jobs they became.
@Suite("persistent sessions", .timeLimit(.minutes(10)))
struct SessionTests: OnTestComputers {
    let computers: TestComputers
    let home: TestHome

    init() throws {
        computers = try sharedComputers.get()
        home = try TestHome()
    }

    /// Opens a session and returns its Id.
    func open(_ computer: String) throws -> String {
        let opened = try job("session", "new", "--computer", computer, "--format", "json")
        #expect(opened.status == 0, "\(opened.stderr)")
        let list = try JSONSerialization.jsonObject(with: Data(opened.stdoutBytes)) as? [[String: Any]]
        let id = try #require(list?.first?["id"] as? Int)
        return String(id)
    }

    /// Runs a command in the session, waits for it, and returns its child's record and output.
    func run(_ session: String, _ command: String) throws -> (record: [String: Any], output: CommandResult) {
        let started = try job("start", "--session", session, "--quiet", command)
        #expect(started.status == 0, "\(started.stderr)")
        let id = try #require(Int(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        try job("wait", String(id))
        let output = try job("receive", String(id))
        return (try home.record(id + 1), output)
    }

    func session(_ id: String) throws -> [String: Any] {
        let result = try job("session", "get", id, "--format", "json")
        let list = try JSONSerialization.jsonObject(with: Data(result.stdoutBytes)) as? [[String: Any]]
        return try #require(list?.first)
    }

    @Test("state is carried across commands: cd, a variable, a function, umask", arguments: ["localhost", "server01"])
    func state(computer: String) throws {
        let id = try open(computer)
        #expect(
            try run(id, "cd /usr/share; answer=42; greet() { echo \"hello $1\"; }; umask 027").record["state"]
                as? String == "Completed")
        #expect(
            try run(id, "cd doc; export EXPORTED=out; alias hi='echo aliased'").record["location"] as? String
                == computer)
        let (record, output) = try run(id, "pwd; echo $answer; greet there; umask; sh -c 'echo $EXPORTED'; hi")
        #expect(record["state"] as? String == "Completed")
        #expect(output.stdout == "/usr/share/doc\n42\nhello there\n0027\nout\naliased\n")
        let listed = try session(id)
        #expect(listed["state"] as? String == "Opened")
        #expect(listed["availability"] as? String == "Available")
        #expect(listed["jobCount"] as? Int == 3)
        #expect(listed["computerName"] as? String == computer)
        #expect(
            listed.keys.sorted() == [
                "availability", "computerName", "id", "jobCount", "name", "reason", "shell", "state",
            ])
    }

    @Test(
        "output is separated exactly: a fake marker, no final newline, 1 MB of random bytes, stderr",
        arguments: ["localhost", "server01"])
    func separation(computer: String) throws {
        let id = try open(computer)
        // A fake marker of the right shape, split across writes, with the real prefix.
        let fake = try run(
            id, "printf '\\nJOBSESSION0123456789abcdef0123456789abcdef:1 0\\n'; printf 'JOBSESS'; printf 'ION:end 3\\n'"
        )
        #expect(fake.output.stdout == "\nJOBSESSION0123456789abcdef0123456789abcdef:1 0\nJOBSESSION:end 3\n")
        #expect(fake.record["state"] as? String == "Completed")
        let partial = try run(id, "printf 'no newline'; printf 'err, no newline' >&2")
        #expect(partial.output.stdoutBytes == Array("no newline".utf8))
        #expect(partial.output.stderrBytes == Array("err, no newline".utf8))
        // 1 MB of random bytes, from a file the test computer's user can read.
        var bytes = [UInt8](repeating: 0, count: 1 << 20)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        let path = home.scratch + "/random.bin"
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o644])
        chmod(home.scratch, 0o755)
        chmod((home.scratch as NSString).deletingLastPathComponent, 0o755)
        let binary = try run(id, "cat \(path)")
        #expect(binary.output.stdoutBytes.count == bytes.count)
        #expect(binary.output.stdoutBytes == bytes)
        // And the next command's output is only its own.
        #expect(try run(id, "echo next").output.stdout == "next\n")
    }

    @Test(
        "exit statuses, a syntax error failing only its command, stdin at end-of-file",
        arguments: ["localhost", "server01"])
    func statuses(computer: String) throws {
        let id = try open(computer)
        let failed = try run(id, "false")
        #expect(failed.record["state"] as? String == "Failed")
        #expect(failed.record["exitStatus"] as? Int == 1)
        let seven = try run(id, "(exit 7)")
        #expect(seven.record["exitStatus"] as? Int == 7)
        let syntax = try run(id, "if then fi (")
        #expect(syntax.record["state"] as? String == "Failed")
        #expect(syntax.output.stderr.contains("yntax error"))
        let reader = try run(id, "cat; read line || echo got-eof")
        #expect(reader.output.stdout == "got-eof\n")
        #expect(try run(id, "echo still here").output.stdout == "still here\n")
        #expect(try session(id)["state"] as? String == "Opened")
    }

    @Test("commands run one at a time in order; the waiting ones are NotStarted", arguments: ["localhost", "server01"])
    func order(computer: String) throws {
        let id = try open(computer)
        let fifo = try home.fifo("gate")
        chmod(fifo, 0o666)
        chmod(home.scratch, 0o755)
        chmod((home.scratch as NSString).deletingLastPathComponent, 0o755)
        let first = try job("start", "--session", id, "--quiet", "echo waiting; read x < \(fifo); echo first")
        let second = try job("start", "--session", id, "--quiet", "echo second")
        let secondId = Int(second.stdout.trimmingCharacters(in: .whitespacesAndNewlines))!
        #expect(try home.record(secondId + 1)["state"] as? String == "NotStarted")
        #expect(try session(id)["availability"] as? String == "Busy")
        // Output streams while the command runs, each line whole with its newline.
        let firstParent = first.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try TestHome.eventually("the first line to arrive whole") {
            try job("receive", firstParent, "--keep").stdout == "waiting\n"
        }
        let writer = try home.shell("echo go > \(fifo)")
        #expect(writer.status == 0)
        try job("wait", String(secondId))
        let firstId = Int(first.stdout.trimmingCharacters(in: .whitespacesAndNewlines))!
        let a = try home.record(firstId + 1)
        let b = try home.record(secondId + 1)
        #expect(a["state"] as? String == "Completed")
        #expect(b["state"] as? String == "Completed")
        #expect((a["endTime"] as? String ?? "z") <= (b["beginTime"] as? String ?? ""))
    }

    @Test(
        "stop ends only the command and drops the rest of its line, the session stays usable; a builtin loop that ignores SIGTERM breaks it, with the reason",
        arguments: ["localhost", "server01"])
    func stop(computer: String) throws {
        let id = try open(computer)
        #expect(try run(id, "kept=yes").record["state"] as? String == "Completed")
        let started = try job("start", "--session", id, "--quiet", "sleep 300 & sleep 301; echo never")
        let parent = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try TestHome.eventually("the command to run") {
            try home.record(Int(parent)! + 1)["state"] as? String == "Running"
        }
        #expect(try job("stop", parent, "--grace", "2").status == 0)
        let stopped = try home.record(Int(parent)! + 1)
        #expect(stopped["state"] as? String == "Stopped")
        #expect(try session(id)["availability"] as? String == "Available")
        #expect(try run(id, "echo kept=$kept").output.stdout == "kept=yes\n")
        #expect(try job("receive", parent).stdout == "")
        // A loop of builtins: the shell's trap ends it, and the session goes on.
        let builtins = try job("start", "--session", id, "--quiet", "while :; do :; done; echo never")
        let builtinsId = Int(builtins.stdout.trimmingCharacters(in: .whitespacesAndNewlines))!
        try TestHome.eventually("the loop to run") { try home.record(builtinsId + 1)["state"] as? String == "Running" }
        #expect(try job("stop", String(builtinsId), "--grace", "2").status == 0)
        #expect(try home.record(builtinsId + 1)["state"] as? String == "Stopped")
        #expect(try job("receive", String(builtinsId)).stdout == "")
        #expect(try run(id, "echo kept=$kept").output.stdout == "kept=yes\n")

        let loop = try job("start", "--session", id, "--quiet", "trap '' TERM; while :; do :; done")
        let loopId = loop.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try TestHome.eventually("the loop to run") {
            try home.record(Int(loopId)! + 1)["state"] as? String == "Running"
        }
        #expect(try job("stop", loopId, "--grace", "0.5").status == 0)
        #expect(try home.record(Int(loopId)! + 1)["state"] as? String == "Stopped")
        let broken = try session(id)
        #expect(broken["state"] as? String == "Broken")
        #expect((broken["reason"] as? String ?? "").contains("loop of builtins"))
    }

    @Test("exec and a killed shell break the session too, with the reason", arguments: ["localhost", "server01"])
    func brokenOtherwise(computer: String) throws {
        let execed = try open(computer)
        let replaced = try run(execed, "exec true")
        #expect(replaced.record["state"] as? String == "Failed")
        #expect(
            (replaced.record["reason"] as? String ?? "").contains("exited with status 0 (a command ran exit or exec)"))
        #expect(try session(execed)["state"] as? String == "Broken")
        let killed = try open(computer)
        let shot = try run(killed, "kill -9 $$")
        #expect(shot.record["state"] as? String == "Failed")
        #expect((shot.record["reason"] as? String ?? "").contains("killed by signal 9 (SIGKILL)"))
        #expect(try session(killed)["state"] as? String == "Broken")
    }

    @Test(
        "exit breaks the session: its job fails with the reason, later commands are refused with no job made",
        arguments: ["localhost", "server01"])
    func brokenByExit(computer: String) throws {
        let id = try open(computer)
        let gone = try run(id, "echo bye; exit 3")
        #expect(gone.record["state"] as? String == "Failed")
        #expect((gone.record["reason"] as? String ?? "").contains("exited with status 3"))
        #expect(gone.output.stdout == "bye\n")
        let broken = try session(id)
        #expect(broken["state"] as? String == "Broken")
        let before = try TestHome.jobs(try job("get", "--format", "json")).count
        let refused = try job("start", "--session", id, "echo no")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("is Broken"))
        #expect(try TestHome.jobs(try job("get", "--format", "json")).count == before)
        let invoked = try job("invoke", "--session", id, "echo no")
        #expect(invoked.status == 1)
        let removed = try job("session", "remove", id, "--pass-thru", "--format", "json")
        #expect(removed.status == 0)
        #expect(removed.stdout.contains("\"state\": \"Closed\""))
        #expect(try job("session", "get").stdout == "")
    }

    @Test("a dropped connection breaks a remote session and fails its running command")
    func droppedConnection() throws {
        let id = try open("server02")
        let started = try job("start", "--session", id, "--quiet", "sleep 303")
        let parent = Int(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines))!
        try TestHome.eventually("the command to run") { try home.record(parent + 1)["state"] as? String == "Running" }
        let agent = try #require(try home.agentPid())
        // The session's ssh client is the agent's child: end it as a network failure would.
        let children = try TestHome.run(
            "/usr/bin/pgrep", ["-P", String(agent), "-x", "ssh"], stdin: nil, environment: [:], directory: "/",
            timeout: 10)
        let sshPids = children.stdout.split(separator: "\n").compactMap { Int32($0) }
        #expect(!sshPids.isEmpty)
        for pid in sshPids { kill(pid, SIGKILL) }
        try job("wait", String(parent))
        let record = try home.record(parent + 1)
        #expect(record["state"] as? String == "Failed")
        #expect((record["reason"] as? String ?? "").contains("connection to server02 was lost"))
        #expect(try session(id)["state"] as? String == "Broken")
        try TestHome.eventually("no process of the command to be left on server02") {
            let listing = try TestHome.run(
                "/bin/ps", ["-o", "stat=,args=", "-u", "jobtest02"], stdin: nil, environment: [:], directory: "/",
                timeout: 10)
            return !listing.stdout.split(separator: "\n").contains { $0.contains("sleep 303") && !$0.hasPrefix("Z") }
        }
    }

    @Test("restart runs a session's command again in that session, with its state; a removed session's is refused")
    func restartInSession() throws {
        let id = try open("localhost")
        #expect(try run(id, "count=0").record["state"] as? String == "Completed")
        let (record, output) = try run(id, "count=$((count + 1)); echo $count")  // parent 3, child 4
        #expect(record["state"] as? String == "Completed" && output.stdout == "1\n")
        #expect(try job("restart", "3", "--quiet").status == 0)
        try job("wait", "3")
        #expect(try job("receive", "3").stdout == "2\n")
        let rerun = try home.record(4)
        #expect(rerun["restarts"] as? Int == 1 && rerun["location"] as? String == "localhost")
        #expect(try session(id)["jobCount"] as? Int == 2)
        #expect(try job("session", "remove", id).status == 0)
        let refused = try job("restart", "3")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("ran in session \(id), which is gone"))
    }

    @Test("remove refuses a busy session unless --force; sessions end with the agent, failing their command")
    func removeAndAgentStop() throws {
        let id = try open("localhost")
        let started = try job("start", "--session", id, "--quiet", "sleep 304")
        let parent = Int(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines))!
        try TestHome.eventually("the command to run") { try home.record(parent + 1)["state"] as? String == "Running" }
        let refused = try job("session", "remove", id)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("Busy"))
        #expect(try job("session", "remove", id, "--force", "--grace", "1").status == 0)
        #expect(try home.record(parent + 1)["state"] as? String == "Stopped")

        let second = try open("localhost")
        let running = try job("start", "--session", second, "--quiet", "sleep 305")
        let runningId = Int(running.stdout.trimmingCharacters(in: .whitespacesAndNewlines))!
        try TestHome.eventually("the command to run") {
            try home.record(runningId + 1)["state"] as? String == "Running"
        }
        #expect(try job("agent", "stop").status == 0)
        let after = try home.record(runningId + 1)
        #expect(after["state"] as? String == "Failed")
        #expect((after["reason"] as? String ?? "").contains("sessions end with it"))
        #expect(try job("session", "get").stdout == "")
        try TestHome.eventually("the session's command to be ended") {
            let listing = try TestHome.run(
                "/usr/bin/pgrep", ["-f", "sleep 305"], stdin: nil, environment: [:], directory: "/", timeout: 10)
            return listing.stdout.isEmpty
        }
    }

    @Test("bad input: an unreachable computer, a missing shell, an unknown session, options that do not fit")
    func badInput() throws {
        let unreachable = try job("session", "new", "--computer", "unreachable")
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("could not open a session on unreachable: ssh: connect to host"))
        let noShell = try job("session", "new", "--computer", "localhost", "--shell", "/bin/no-such-shell")
        #expect(noShell.status == 1)
        #expect(noShell.stderr.contains("its shell /bin/no-such-shell ended before it answered, with status 127"))
        #expect(try job("session", "get").stdout == "")
        let unknown = try job("start", "--session", "nosuch", "true")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no session is named 'nosuch'"))
        #expect(try job("get", "--format", "json").stdout == "[]\n")
        #expect(try job("start", "--session", "1", "--env", "A=1", "true").status == 2)
        #expect(try job("session", "new", "--computer", "localhost", "--exclude", "localhost").status == 2)
        #expect(try job("session", "remove").status == 2)
        #expect(try job("session", "frobnicate").status == 2)
        #expect(try job("invoke", "--session", "1", "--computer", "localhost", "true").status == 2)
        #expect(try job("invoke", "--session", "1", "--env", "A=1", "true").status == 2)
    }

    @Test("an agent killed with -9 takes its sessions with it: the next agent records their command as Failed")
    func agentKilled() throws {
        let id = try open("localhost")
        let started = try job("start", "--session", id, "--quiet", "sleep 306")
        let parent = Int(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines))!
        try TestHome.eventually("the command to run") { try home.record(parent + 1)["state"] as? String == "Running" }
        let agent = try #require(try home.agentPid())
        kill(agent, SIGKILL)
        try TestHome.eventually("the agent to be gone") { kill(agent, 0) != 0 }
        // The next command starts a new agent, which finds the command's session gone.
        let record = try home.record(parent + 1)
        #expect(record["state"] as? String == "Failed")
        #expect((record["reason"] as? String ?? "").contains("its session ended with the agent"))
        #expect(try job("session", "get").stdout == "")
        try TestHome.eventually("the session's command to be ended") {
            let listing = try TestHome.run(
                "/usr/bin/pgrep", ["-f", "sleep 306"], stdin: nil, environment: [:], directory: "/", timeout: 10)
            return listing.stdout.isEmpty
        }
    }

    @Test("invoke --session runs in several sessions as one RemoteJob, streamed with prefixes")
    func invokeInSessions() throws {
        let local = try open("localhost")
        let remote = try open("server03")
        let result = try job("invoke", "--session", "\(local),\(remote)", "id -un")
        #expect(result.status == 0, "\(result.stderr)")
        let lines = Set(result.stdout.split(separator: "\n").map(String.init))
        #expect(lines.contains("server03: jobtest03"))
        #expect(lines.count == 2)
        let asJob = try job("invoke", "--session", "\(local),\(remote)", "--as-job", "--format", "json", "true")
        let parent = try TestHome.jobs(asJob)
        #expect(parent.first?["type"] as? String == "RemoteJob")
        #expect(parent.first?["location"] as? String == "localhost,server03")
    }
}
