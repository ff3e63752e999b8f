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

/// The `job` program answers a plain `start --quiet`, `wait` and `get` in C before its Swift
/// client starts (Sources/CJobFront). These show that what it does is what the Swift client does
/// (`JOB_FAST_PATH=0` makes every command the Swift client's), and that it hands every other
/// form over (`JOB_FAST_PATH=only` makes a form it hands over fail instead, saying so).
@Suite("the fast path of start, wait and get", .timeLimit(.minutes(5)))
struct FastPathTests {
    static let fast = ["JOB_FAST_PATH": "only"]
    static let swift = ["JOB_FAST_PATH": "0"]

    /// A home whose runs see no config file of the host's user (one would decide which forms
    /// the fast path takes): the tests that want one name it.
    static func home() throws -> TestHome {
        let home = try TestHome()
        home.extraEnvironment["XDG_CONFIG_HOME"] = home.scratch + "/no-config"
        return home
    }

    @Test("a start through the fast path runs the job the Swift client would: command, folder, environment, umask")
    func startsTheSameJob() throws {
        let home = try Self.home()
        #expect(try home.job("get").status == 0)  // starts the agent
        let script = "pwd; umask; env | grep -v '^JOB_FAST_PATH=' | LC_ALL=C sort"
        var outputs: [String] = []
        var records: [[String: Any]] = []
        for (mode, expected) in [(Self.fast, "1\n"), (Self.swift, "3\n")] {
            let started = try home.job(
                ["start", "--quiet", "--", "sh", "-c", script, "it's", "a b"],
                environment: mode.merging(["GREETING": "grüße"]) { $1 }, directory: "/tmp")
            #expect(started.status == 0)
            let id = Int(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines))!
            #expect(started.stdout == "\(id)\n")
            #expect(try home.job(["wait", String(id)], environment: mode).status == 0)
            #expect(started.stdout == expected)
            outputs.append(try home.job("receive", String(id)).stdout)
            records.append(try home.record(id))
        }
        #expect(outputs[0] == outputs[1])
        #expect(outputs[0].hasPrefix("/tmp\n"))
        #expect(outputs[0].contains("GREETING=grüße\n"))
        for key in ["command", "workingDirectory", "type", "state", "exitStatus", "location"] {
            #expect("\(records[0][key] ?? "nil")" == "\(records[1][key] ?? "nil")", "\(key)")
        }
        #expect(
            records[0]["command"] as? String
                == "sh -c '\(script.replacingOccurrences(of: "'", with: "'\\''"))' 'it'\\''s' 'a b'")
        // The umask goes with the job, from the fast path too.
        let masked = try home.shell("umask 027; JOB_FAST_PATH=only \"$JOB\" start --quiet umask")
        #expect(masked.status == 0)
        let maskedId = masked.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try home.job(["receive", "--wait", maskedId]).stdout == "0027\n")
    }

    @Test("a wait and a get print, byte for byte, what the Swift client prints into a pipe")
    func listsTheSame() throws {
        let home = try Self.home()
        #expect(try home.job("start", "--quiet", "true").stdout == "1\n")
        #expect(try home.job("start", "--quiet", "--name", "a-longer-name", "echo 'a b'").status == 0)
        #expect(try home.job(["start", "--quiet", "exit 3"], environment: Self.fast).status == 0)
        #expect(try home.job(["wait"], environment: Self.fast).status == 0)
        for arguments in [["get"], ["get", "1", "5"], ["get", "Job*"], ["wait", "3"], ["wait"], ["get", "1,3"]] {
            let fast = try home.job(arguments, environment: Self.fast)
            let swift = try home.job(arguments, environment: Self.swift)
            #expect(fast.status == 0, "\(arguments)")
            #expect(fast.stdout == swift.stdout, "\(arguments)")
            #expect(fast.stderr == swift.stderr, "\(arguments)")
        }
        #expect(try home.job(["get"], environment: Self.fast).stdout.contains("a-longer-name"))
        // A job whose cells are not plain ASCII is shown by the Swift client, the same way.
        #expect(try home.job("start", "--quiet", "--name", "tâche", "true").stdout == "7\n")
        #expect(try home.job(["wait", "7"]).status == 0)
        let handed = try home.job(["get", "7"], environment: Self.fast)
        #expect(handed.status == 1)
        #expect(handed.stderr.contains("left to the Swift client"))
        #expect(try home.job("get", "7").stdout == (try home.job(["get", "7"], environment: Self.swift)).stdout)
        #expect(try home.job("get", "7").stdout.contains("tâche"))
        // A selector that names nothing: the Swift client's message and status.
        let missing = try home.job("wait", "1", "99")
        let missingSwift = try home.job(["wait", "1", "99"], environment: Self.swift)
        #expect(missing.status == 1)
        #expect(missing.stderr == "job: no job has Id 99\n")
        #expect(
            (missing.status, missing.stdout, missing.stderr) == (
                missingSwift.status, missingSwift.stdout, missingSwift.stderr
            ))
    }

    @Test("a start with --name, and one without --quiet into a pipe, print what the Swift client prints")
    func startsNamedAndShown() throws {
        let home = try Self.home()
        #expect(try home.job("get").status == 0)  // starts the agent
        var tables: [String] = []
        for mode in [Self.fast, Self.swift] {
            let started = try home.job(
                ["start", "--name", "a build (nightly)", "--", "sleep", "30"], environment: mode)
            #expect(started.status == 0)
            tables.append(started.stdout)
            let quiet = try home.job(["start", "-q", "--name=n2", "true"], environment: mode)
            #expect(quiet.status == 0)
            let id = Int(quiet.stdout.trimmingCharacters(in: .whitespacesAndNewlines))!
            #expect(try home.record(id)["name"] as? String == "n2")
        }
        // Ids 1 and 5: the same width, so the tables are the same but for the Id.
        #expect(tables[0].hasPrefix("Id  Name               Type           State    HasMoreData  Location   Command\n"))
        #expect(tables[0].contains("\n1   a build (nightly)  BackgroundJob  Running  "))
        #expect(tables[0].replacingOccurrences(of: "\n1 ", with: "\n5 ") == tables[1])
        #expect(try home.job("stop", "1", "5").status == 0)
    }

    @Test("a wait longer than the agent's slice of 10 s goes on until the job ends")
    func waitsInSlices() throws {
        let home = try Self.home()
        #expect(try home.job("start", "--quiet", "sleep 11; exit 5").stdout == "1\n")
        // The agent answers the first slice as timed out; the fast path asks again for job 1.
        let waited = try home.job(["wait", "1"], environment: Self.fast, timeout: 60)
        #expect(waited.status == 0)
        let rows = waited.stdout.split(separator: "\n")
        #expect(rows.count == 3)
        #expect(
            rows.last?.split(separator: " ", omittingEmptySubsequences: true).prefix(4) == [
                "1", "Job1", "BackgroundJob", "Failed",
            ])
        #expect(try home.record(1)["exitStatus"] as? Int == 5)
    }

    @Test("every other form goes to the Swift client, and works there")
    func handsOver() throws {
        let home = try Self.home()
        // No agent yet: the Swift client starts one.
        let first = try home.job(["start", "--quiet", "true"], environment: Self.fast)
        #expect(first.status == 1)
        #expect(first.stderr.contains("no agent"))
        #expect(try home.job("start", "--quiet", "true").stdout == "1\n")
        let config = home.scratch + "/config"
        try FileManager.default.createDirectory(atPath: config + "/job", withIntermediateDirectories: true)
        try "shell = \"/bin/bash\"\n".write(toFile: config + "/job/config.toml", atomically: true, encoding: .utf8)
        let forms: [([String], [String: String])] = [
            (["start", "--env", "A=1", "true"], [:]),
            (["start", "--quiet", "--name", "tâche", "true"], [:]),
            (["start", "-q", "-C", "/tmp", "true"], [:]),
            (["start", "-q", "echo ${BASH_VERSION:+bash}"], ["XDG_CONFIG_HOME": config]),
            (["start", "-q", "true"], ["JOB_MAX_OUTPUT": "1M"]),
            (["start", "-q", "make -j4", "--name", "x"], [:]),
            (["start", "-q", " "], [:]),
            (["wait", "--any"], [:]),
            (["get", "%"], [:]),
            (["get", "--include-children"], [:]),
        ]
        for (arguments, environment) in forms {
            let handed = try home.job(arguments, environment: environment.merging(Self.fast) { $1 })
            #expect(handed.status == 1, "\(arguments)")
            #expect(handed.stderr.hasPrefix("job: JOB_FAST_PATH=only, and this command is left to the Swift client"))
        }
        // A config file is read by the Swift client, which keeps what it read in the home's
        // cache; from then on the fast path applies its shell too, until the file changes.
        for mode in [Self.swift, Self.fast] {
            let shell = try home.job(
                ["start", "-q", "echo ${BASH_VERSION:+bash}"],
                environment: mode.merging(["XDG_CONFIG_HOME": config]) { $1 })
            #expect(shell.status == 0)
            let id = shell.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try home.job("receive", "--wait", id).stdout == "bash\n")
        }
        // Settings the fast path does not apply: a cap on output (the start is queued) and
        // colours in a pipe.
        for (line, arguments) in [("max-output = \"1M\"", ["start", "-q", "true"]), ("color = \"always\"", ["get"])] {
            try "shell = \"/bin/bash\"\n\(line)\n".write(
                toFile: config + "/job/config.toml", atomically: true, encoding: .utf8)
            #expect(try home.job(arguments, environment: ["XDG_CONFIG_HOME": config]).status == 0)
            let handed = try home.job(arguments, environment: Self.fast.merging(["XDG_CONFIG_HOME": config]) { $1 })
            #expect(handed.status == 1, "\(line)")
            #expect(handed.stderr.contains("settings the Swift client applies"), "\(line)")
        }
        // A script followed by what may be one of start's options: the Swift client's error.
        let late = try home.job("start", "-q", "make -j4", "--name", "x")
        #expect(late.status == 2)
        #expect(late.stderr.contains("comes after the command"))
        #expect(try home.job("start", "-q", " ").status == 2)
    }

    @Test("the agent gone between two starts: the fast path hands the start over and the Swift client starts one")
    func agentGone() throws {
        let home = try Self.home()
        #expect(try home.job("start", "--quiet", "true").stdout == "1\n")
        let agent = try #require(try home.agentPid())
        kill(agent, SIGKILL)
        try home.awaitAgentGone()
        // The socket file is left behind; connecting to it is refused.
        #expect(try home.job(["start", "--quiet", "true"], environment: Self.fast).status == 1)
        let started = try home.job("start", "--quiet", "echo again")
        #expect(started.status == 0)
        #expect(started.stdout == "3\n")
        #expect(try home.job(["receive", "--wait", "3"]).stdout == "again\n")
    }
}
