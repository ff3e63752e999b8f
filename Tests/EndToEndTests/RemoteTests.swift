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

/// The test computers every remote test shares; they end with the test process (the
/// script stops its sshds when its stdin, held by this process, closes).
let sharedComputers = Result { try TestComputers(count: 3, installJob: true) }

/// A suite that runs `job` in a home of its own, with the shared test computers' ssh_config.
protocol OnTestComputers {
    var computers: TestComputers { get }
    var home: TestHome { get }
}

extension OnTestComputers {
    @discardableResult
    func job(_ arguments: String...) throws -> CommandResult {
        try home.job(arguments, environment: ["JOB_SSH_CONFIG": computers.sshConfig])
    }
}

@Suite("invoke on computers over ssh", .timeLimit(.minutes(10)))
struct RemoteTests: OnTestComputers {
    let computers: TestComputers
    let home: TestHome

    init() throws {
        computers = try sharedComputers.get()
        home = try TestHome()
    }

    @Test("the seed's scenario: localhost, an unreachable computer and a reachable one as one RemoteJob")
    func seedScenario() throws {
        let started = try job("invoke", "--computer", "localhost,unreachable,server02", "--as-job", "--quiet", "date")
        #expect(started.status == 0)
        #expect(started.stdout == "1\n")
        try job("wait", "1")
        let all = try TestHome.jobs(try job("get", "--include-children", "--format", "json"))
        #expect(all.map { $0["id"] as? Int } == [1, 2, 3, 4])
        #expect(all[0]["type"] as? String == "RemoteJob")
        #expect(all[0]["location"] as? String == "localhost,unreachable,server02")
        #expect(all[0]["state"] as? String == "Failed")
        #expect(all[1...].map { $0["state"] as? String } == ["Completed", "Failed", "Completed"])
        #expect(all[1...].map { $0["location"] as? String } == ["localhost", "unreachable", "server02"])
        #expect(all[2]["hasMoreData"] as? Bool == false)
        #expect((all[2]["reason"] as? String ?? "").contains("Connection refused"))
        // ssh ends its lines with \r\n; the Reason keeps neither.
        #expect((all[2]["reason"] as? String)?.last?.isWhitespace == false)
        // A parent of several children says which failed: its computer and its Id.
        #expect(all[0]["reason"] as? String == "unreachable (Job3) failed: \(all[2]["reason"] as? String ?? "")")
        // Receiving the parent tags every line with its computer, as the selection spans several.
        let received = try job("receive", "1")
        let lines = received.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("localhost: "))
        #expect(lines[1].hasPrefix("server02: "))
        #expect(
            received.stderr.contains(
                "Job1 on unreachable (Job3) failed: ssh: connect to host 127.0.0.250 port 2222: Connection refused"))
    }

    @Test("without --as-job the output streams tagged with the computer, failures at the end, no job left")
    func streaming() throws {
        let result = try job("invoke", "--computer", "server01,unreachable,server03", "id -un")
        #expect(result.status == 1)
        let lines = Set(result.stdout.split(separator: "\n").map(String.init))
        #expect(lines == ["server01: jobtest01", "server03: jobtest03"])
        #expect(result.stderr.contains("job: unreachable: ssh: connect to host 127.0.0.250 port 2222"))
        #expect(try job("get", "--format", "json").stdout == "[]\n")
        let ok = try job("invoke", "--computer", "server01", "--", "printf", "%s", "done")
        #expect(ok.status == 0)
        #expect(ok.stdout == "done")
    }

    @Test("the command arrives unchanged: quotes, $, backslashes, newlines, globs and non-ASCII text")
    func quoting() throws {
        let command = "printf '%s|' \"a  b\" '$HOME' \\$USER 'back\\\\slash' \"it's\" '*' 'ünï' \"two\nlines\"; echo"
        let local = try home.shell(command)
        let remote = try job("invoke", "--computer", "server01", "--no-prefix", command)
        #expect(remote.status == 0)
        #expect(remote.stdout == local.stdout)
        #expect(local.stdout.contains("$HOME|"))
    }

    @Test("a computer name that could be an ssh option or holds metacharacters is refused before anything runs")
    func badNames() throws {
        for name in ["-oProxyCommand=touch /tmp/pwned", "server01 server02", "a;b", "host\u{7}", "x$(id)", "user@"] {
            let result = try job("invoke", "--computer", name, "true")
            #expect(result.status == 2, "\(name)")
            #expect(result.stderr.contains("computer name"), "\(name)")
        }
        #expect(try job("get", "--format", "json").stdout == "[]\n")
    }

    @Test("on the remote side the command gets the login environment plus --env, never the local one")
    func environment() throws {
        let result = try home.job(
            ["invoke", "--computer", "server01", "--env", "GREETING=hello there", "echo \"$GREETING|$MARKER|$HOME\""],
            environment: ["JOB_SSH_CONFIG": computers.sshConfig, "MARKER": "local-only"])
        #expect(result.stdout == "hello there||/home/jobtest01\n")
    }

    @Test("a child the throttle held back starts with the caller's umask, as the first one did")
    func throttledUmask() throws {
        let result = try TestHome.run(
            "/bin/sh",
            [
                "-c", "umask 027; exec \"$0\" invoke --computer localhost,localhost --throttle-limit 1 umask",
                TestHome.binary,
            ],
            stdin: nil, environment: home.environment, directory: "/", timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "0027\n0027\n")
    }

    @Test("with --throttle-limit 1 no two children overlap in time, and they run in the order given")
    func throttle() throws {
        let started = try job(
            "invoke", "--computer", "server01,server02,server03", "--throttle-limit", "1", "--as-job", "--quiet",
            "date +%s.%N; sleep 0.3; date +%s.%N")
        #expect(started.status == 0)
        try job("wait", "1")
        var intervals: [(Double, Double)] = []
        for id in 2...4 {
            let times = try job("receive", String(id)).stdout.split(separator: "\n").compactMap { Double($0) }
            #expect(times.count == 2)
            if times.count == 2 { intervals.append((times[0], times[1])) }
        }
        for index in 1..<intervals.count {
            #expect(intervals[index].0 >= intervals[index - 1].1)
        }
    }

    @Test("stop ends the remote command's whole process tree on its computer")
    func stopRemoteTree() throws {
        let marker = "tree-\(UUID().uuidString.prefix(8))"
        let started = try job(
            "invoke", "--computer", "server02", "--as-job", "--quiet",
            "trap '' TERM; sleep 300 & (trap '' TERM; sleep 301) & echo \(marker); wait")
        #expect(started.status == 0)
        try TestHome.eventually("the remote command to start") {
            try job("receive", "2", "--keep").stdout.contains(marker)
        }
        func remaining() -> Int {
            let listing = try? TestHome.run(
                "/bin/ps", ["-o", "pid=,stat=,args=", "-u", "jobtest02"], stdin: nil, environment: [:], directory: "/",
                timeout: 10)
            return listing?.stdout.split(separator: "\n").filter {
                $0.contains("sleep 30") && !$0.contains(" Z")
            }.count ?? -1
        }
        #expect(remaining() >= 2)
        #expect(try job("stop", "1", "--grace", "1").status == 0)
        #expect(try home.record(2)["state"] as? String == "Stopped")
        try TestHome.eventually("no process of the job to be left on server02") { remaining() == 0 }
    }

    @Test("a dropped connection (the ssh client killed) ends the remote command too: no orphan is left")
    func droppedConnection() throws {
        let marker = "drop-\(UUID().uuidString.prefix(8))"
        try job("invoke", "--computer", "server03", "--as-job", "--quiet", "sleep 302 & echo \(marker); wait")
        try TestHome.eventually("the remote command to start") {
            try job("receive", "2", "--keep").stdout.contains(marker)
        }
        let sshPid = Int32(try #require(try home.record(2)["pid"] as? Int))
        kill(sshPid, SIGKILL)
        try job("wait", "1")
        #expect(try home.record(2)["state"] as? String == "Failed")
        try TestHome.eventually("no process of the job to be left on server03") {
            let listing = try TestHome.run(
                "/bin/ps", ["-o", "args=", "-u", "jobtest03"], stdin: nil, environment: [:], directory: "/", timeout: 10
            )
            return !listing.stdout.contains("sleep 302")
        }
    }

    @Test("a restart of the local agent does not end a remote job; the next agent records its end")
    func agentRestart() throws {
        let gate = "/tmp/" + "gate-\(UUID().uuidString.prefix(8))"
        try job(
            "invoke", "--computer", "server01", "--as-job", "--quiet",
            "while [ ! -e \(gate) ]; do sleep 0.05; done; echo through")
        try TestHome.eventually("the job to run") { try home.record(2)["pid"] is Int }
        let agent = try #require(try home.agentPid())
        kill(agent, SIGKILL)
        // The next agent starts once the old one is gone: a client that came while it was
        // dying could still reach its socket (it failed once so, "lost the agent").
        try home.awaitAgentGone()
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: gate) }
        let result = try job("receive", "1", "--wait", "--no-prefix")
        let child = try home.record(2)
        #expect(result.status == 0, "\(result.stderr); the child: \(child)")
        #expect(result.stdout == "through\n")
    }

    @Test("children on the same computer share one ssh connection, closed when the agent stops")
    func sharedConnection() throws {
        #expect(try job("invoke", "--computer", "server01", "true").status == 0)
        let folder = home.path + "/ssh"
        let sockets = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(sockets.count == 1)
        let socket = folder + "/" + (sockets.first ?? "")
        let check = try TestHome.run(
            "/usr/bin/ssh", ["-S", socket, "-O", "check", "server01"], stdin: nil, environment: [:], directory: "/",
            timeout: 10)
        #expect(check.status == 0)
        let master = Int32(check.stderr.split(separator: "=").last?.filter(\.isNumber) ?? "") ?? 0
        #expect(master > 1)
        #expect(try job("invoke", "--computer", "server01", "echo again").stdout == "again\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).count == 1)
        #expect(try job("agent", "stop").status == 0)
        try TestHome.eventually("the shared connection to close") { !processIsLive(master) }
    }

    @Test("Ctrl-C on a streaming invoke stops every computer's command and leaves no job")
    func interrupt() throws {
        let marker = "int-\(UUID().uuidString.prefix(8))"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestHome.binary)
        process.arguments = ["invoke", "--computer", "server01,server02", "sleep 303 & echo \(marker); wait"]
        process.environment = home.environment.merging(["JOB_SSH_CONFIG": computers.sshConfig]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Both computers have started once both have printed the marker.
        var seen = 0
        while seen < 2, let line = output.fileHandleForReading.readLine() {
            if line.hasSuffix(marker) { seen += 1 }
        }
        #expect(seen == 2)
        process.interrupt()
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        #expect(try job("get", "--format", "json").stdout == "[]\n")
        try TestHome.eventually("no process of the command to be left") {
            let listing = try TestHome.run(
                "/bin/ps", ["-o", "args=", "-u", "jobtest01,jobtest02"], stdin: nil, environment: [:], directory: "/",
                timeout: 10)
            return !listing.stdout.contains("sleep 303")
        }
    }

    @Test(
        "node sets: ranges, @groups from the groups file, --exclude and --computer-file; the parent shows the folded form"
    )
    func nodeSets() throws {
        let config = home.scratch + "/config"
        try FileManager.default.createDirectory(atPath: config + "/job", withIntermediateDirectories: true)
        try "# test computers\nfront: server[01-02]\nall: @front,server03\n".write(
            toFile: config + "/job/groups", atomically: true, encoding: .utf8)
        let environment = ["JOB_SSH_CONFIG": computers.sshConfig, "XDG_CONFIG_HOME": config]
        let ranged = try home.job(
            ["invoke", "--computer", "server[01-03]", "--as-job", "--quiet", "id -un"], environment: environment)
        #expect(ranged.status == 0, "\(ranged.stderr)")
        try home.job(["wait", "1"], environment: environment)
        let parent = try home.record(1)
        #expect(parent["location"] as? String == "server[01-03]")
        #expect(parent["state"] as? String == "Completed")
        let lines = try home.job(["receive", "1"], environment: environment).stdout.split(separator: "\n")
        #expect(Set(lines) == ["server01: jobtest01", "server02: jobtest02", "server03: jobtest03"])
        // A group, less one computer, streamed.
        let grouped = try home.job(
            ["invoke", "--computer", "@all", "--exclude", "server02", "id -un"], environment: environment)
        #expect(grouped.status == 0, "\(grouped.stderr)")
        #expect(Set(grouped.stdout.split(separator: "\n")) == ["server01: jobtest01", "server03: jobtest03"])
        // From a file.
        let file = home.scratch + "/computers"
        try "server03   # the last one\n\nserver01\n".write(toFile: file, atomically: true, encoding: .utf8)
        let listed = try home.job(
            ["invoke", "--computer-file", file, "--as-job", "--quiet", "true"], environment: environment)
        #expect(listed.status == 0)
        let id = try #require(Int(listed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        // The children in the file's order; the parent's Location folded (numbers sorted).
        #expect(try home.record(id + 1)["location"] as? String == "server03")
        #expect(try home.record(id)["location"] as? String == "server[01,03]")
        // Bad syntax and unknown groups: refused before anything runs.
        for bad in ["server[01-", "@nosuch", "server[3-1]"] {
            let refused = try home.job(["invoke", "--computer", bad, "--as-job", "true"], environment: environment)
            #expect(refused.status == 2, "\(bad)")
            #expect(refused.stderr.contains("bad computer list '\(bad)'"), "\(refused.stderr)")
        }
        #expect(try TestHome.jobs(try home.job(["get", "--format", "json"], environment: environment)).count == 2)
    }

    @Test("receive --group shows identical output once, under the folded list of its computers, on stored jobs")
    func groupedOutput() throws {
        let started = try job(
            "invoke", "--computer", "server[01-03]", "--as-job", "--quiet",
            "echo header; if [ \"$(id -un)\" = jobtest03 ]; then echo other; else echo same; fi")
        #expect(started.status == 0)
        try job("wait", "1")
        let grouped = try job("receive", "1", "--group", "--keep")
        #expect(grouped.status == 0)
        #expect(
            grouped.stdout == """
                -----------------
                server[01-02] (2)
                -----------------
                header
                same
                ---------------
                server03 (1)
                ---------------
                header
                other

                """)
        // With --keep nothing was consumed; without it, all is, and a second receive is empty.
        #expect(try job("receive", "1", "--group").stdout == grouped.stdout)
        #expect(try job("receive", "1", "--group").stdout == "")
    }

    @Test("--file ships a local script to each computer and runs it with its arguments; none is left there")
    func scriptFile() throws {
        let script = home.scratch + "/report.sh"
        try "#!/bin/sh\necho \"$(id -un): $# [$1] [$2]\"\n".write(toFile: script, atomically: true, encoding: .utf8)
        let result = try job("invoke", "--computer", "server[01-02]", "--file", script, "--", "a b", "it's")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            Set(result.stdout.split(separator: "\n")) == [
                "server01: jobtest01: 2 [a b] [it's]", "server02: jobtest02: 2 [a b] [it's]",
            ])
        let leftovers = try TestHome.run(
            "/bin/sh", ["-c", "ls /tmp/job-script.* 2>/dev/null | wc -l"], stdin: nil, environment: [:],
            directory: "/", timeout: 10)
        #expect(leftovers.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        let large = home.scratch + "/large.sh"
        try String(repeating: "# padding\n", count: 12_000).write(toFile: large, atomically: true, encoding: .utf8)
        let refused = try job("invoke", "--computer", "server01", "--file", large)
        #expect(refused.status == 2 && refused.stderr.contains("at most 96 KB"))
        #expect(try job("invoke", "--computer", "server01", "--file", home.scratch + "/missing").status == 2)
    }

    @Test("--input gives every child the same stdin, from a file or a pipe, and leaves nothing behind there")
    func inputToComputers() throws {
        // 300 KB that is not text and has no last newline: more than any pipe holds.
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / 256) }
        let file = home.scratch + "/input.bin"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let expected = try TestHome.run(
            "/usr/bin/sha256sum", [file], stdin: nil, environment: [:], directory: "/", timeout: 10
        ).stdout.prefix(64)
        let fromFile = try job(
            "invoke", "--computer", "server01,server02,localhost", "--input", file, "--", "sha256sum | cut -c1-64")
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(
            Set(fromFile.stdout.split(separator: "\n")) == [
                "server01: \(expected)", "server02: \(expected)", "localhost: \(expected)",
            ])
        let fromPipe = try home.job(
            [
                "invoke", "--computer", "server03", "--as-job", "--quiet", "--input", "-", "--",
                "sha256sum | cut -c1-64",
            ],
            stdin: bytes, environment: ["JOB_SSH_CONFIG": computers.sshConfig])
        #expect(fromPipe.status == 0, "\(fromPipe.stderr)")
        #expect(try job("wait", "--timeout", "60", fromPipe.stdout.trimmingCharacters(in: .newlines)).status == 0)
        #expect(try job("receive", fromPipe.stdout.trimmingCharacters(in: .newlines)).stdout == "\(expected)\n")
        // The copy here is the parent's, and the uploads there were removed once opened.
        let kept = try FileManager.default.contentsOfDirectory(atPath: home.path + "/jobs").filter {
            $0.hasSuffix(".in")
        }
        #expect(kept.count == 1)
        let child = try #require(
            try home.record(Int(fromPipe.stdout.trimmingCharacters(in: .newlines))! + 1)["instanceId"] as? String)
        #expect(try computers.ssh(["server03", "ls ~/.cache/job/input/"]).stdout.contains(child) == false)
        #expect(try job("remove", fromPipe.stdout.trimmingCharacters(in: .newlines)).status == 0)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: home.path + "/jobs").filter { $0.hasSuffix(".in") }
                .isEmpty)
        #expect(
            try job("invoke", "--computer", "server01", "--input", home.scratch + "/missing", "--", "cat").status == 1)
    }

    @Test("events follow a RemoteJob and a session command through each transition, in order")
    func eventsOfRemoteAndSessionJobs() throws {
        let gate = "/tmp/job-events-gate-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: gate) }
        #expect(try job("session", "new", "--computer", "server02").status == 0)
        try job("start", "--quiet", "true")  // 1, 2: once they are shown, the stream watches
        try job("wait", "1")
        let reader = try EventsTests.EventReader(home, ["--existing", "--no-output"])
        _ = try reader.event()
        _ = try reader.event()
        let waiting = "while [ ! -e \(gate) ]; do sleep 0.05; done"
        #expect(try job("invoke", "--computer", "server01", "--as-job", "--quiet", waiting).status == 0)  // 3, 4
        #expect(try job("start", "--session", "1", "--quiet", waiting).status == 0)  // 5, 6
        var seen: [String] = []
        while seen.count < 4 {
            let event = try reader.event()
            seen.append(
                "\(event["event"] as? String ?? "") \(event["id"] as? Int ?? 0) \(event["to"] as? String ?? "")")
        }
        #expect(seen == ["started 3 Running", "started 4 Running", "started 5 Running", "started 6 Running"])
        #expect(FileManager.default.createFile(atPath: gate, contents: nil))
        var ends: [Int: [String]] = [:]
        while ends.values.map(\.count).reduce(0, +) < 4 {
            let event = try reader.event()
            let id = event["id"] as? Int ?? 0
            ends[id, default: []].append("\(event["from"] as? String ?? "") -> \(event["to"] as? String ?? "")")
        }
        for id in [3, 4, 5, 6] { #expect(ends[id] == ["Running -> Completed"], "Job\(id): \(ends[id] ?? [])") }
        try job("session", "remove", "1")
    }

    @Test("--format json streams records that name the computer")
    func jsonRecords() throws {
        let result = try job("invoke", "--computer", "server01,server03", "--format", "json", "echo hi")
        #expect(result.status == 0)
        let records = result.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(Set(records.compactMap { $0["computer"] as? String }) == ["server01", "server03"])
        #expect(records.allSatisfy { $0["stream"] as? String == "output" && $0["data"] as? String == "hi\n" })
    }
}
