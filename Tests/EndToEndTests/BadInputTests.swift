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
import JobClient
import JobTestSupport
import Testing

@Suite("bad input", .timeLimit(.minutes(10)))
struct BadInputTests {
    @Test("an empty command is bad usage (2) and makes no job")
    func emptyCommand() throws {
        let home = try TestHome()
        let none = try home.job("start")
        #expect(none.status == 2)
        #expect(none.stderr.contains("needs a command"))
        #expect(try home.job("start", "   ").status == 2)
        #expect(try home.job("get", "--format", "json").stdout == "[]\n")
    }

    @Test("a missing working directory makes a Failed job with that Reason, not an error from start")
    func missingDirectory() throws {
        let home = try TestHome()
        let result = try home.job("start", "--working-directory", "/nope", "true")
        #expect(result.status == 0)
        #expect(result.stdout.contains("Failed"))
        #expect(try home.record(2)["reason"] as? String == "working directory /nope does not exist")
        let shell = try home.job("start", "--shell", "/no/shell", "true")
        #expect(shell.status == 0)
        #expect(try home.record(4)["reason"] as? String == "shell /no/shell does not exist")
    }

    @Test("a shell that cannot be executed fails the job with the reason, found after the launch")
    func shellThatCannotRun() throws {
        let home = try TestHome()
        let shell = home.scratch + "/not-a-program"
        try Data([0xDE, 0xAD, 0xBE, 0xEF]).write(to: URL(fileURLWithPath: shell))
        chmod(shell, 0o755)
        #expect(try home.job("start", "--quiet", "--shell", shell, "true").status == 0)
        let result = try home.job("receive", "1", "--wait")
        #expect(result.status == 1)
        let record = try home.record(2)
        #expect(record["state"] as? String == "Failed")
        #expect(record["reason"] as? String == "cannot run shell \(shell): Exec format error")
        #expect(record["exitStatus"] is NSNull)
    }

    @Test("an unwritable JOB_HOME gets a clear message and exit 1")
    func unwritableHome() throws {
        let home = try TestHome()
        let result = try home.job(["get"], environment: ["JOB_HOME": "/proc/nope/job"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("JOB_HOME"))
        #expect(!result.stderr.contains("Fatal"))
    }

    @Test("a huge command line runs or fails with a Reason; the store stays sound")
    func hugeCommand() throws {
        let home = try TestHome()
        // Twenty words of 10 KB: each fits on the client's command line, the joined command
        // (200 KB) is over what Linux lets one argument of `sh -c` be.
        let words = Array(repeating: String(repeating: "y", count: 10_000), count: 20)
        let result = try home.job(["start", "--quiet", "--", "echo"] + words)
        #expect(result.status == 0)
        try home.job("wait")
        let record = try home.record(2)
        #expect(record["state"] as? String == "Failed")
        #expect((record["reason"] as? String ?? "").contains("too long"))
        #expect(try home.job("start", "--quiet", "true").stdout == "3\n")
    }

    @Test("an agent socket owned by another user is refused with a message")
    func foreignSocket() throws {
        let home = try TestHome()
        try FileManager.default.createDirectory(atPath: home.path, withIntermediateDirectories: true)
        let socket = home.path + "/agent.sock"
        let fd = Foundation.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in socket.utf8.enumerated() { raw[index] = byte }
        }
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        defer { close(fd) }
        guard getuid() == 0 else {
            Issue.record("this test must run as root to give the socket to another user")
            return
        }
        #expect(chown(socket, 4321, 4321) == 0)
        let result = try home.job("get")
        #expect(result.status == 1)
        #expect(result.stderr.contains("belongs to uid 4321"))
        unlink(socket)
    }

    @Test("a JOB_HOME that belongs to another user is refused, and nothing is written there")
    func foreignHome() throws {
        let home = try TestHome()
        try FileManager.default.createDirectory(atPath: home.path, withIntermediateDirectories: true)
        guard getuid() == 0 else {
            Issue.record("this test must run as root to give the folder to another user")
            return
        }
        #expect(chown(home.path, 4321, 4321) == 0)
        let result = try home.job("get")
        #expect(result.status == 1)
        #expect(result.stderr.contains("belongs to uid 4321"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: home.path).isEmpty)
        #expect(chown(home.path, 0, 0) == 0)
    }

    @Test("garbage on the socket gets an error and a closed connection; the agent serves on")
    func garbage() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "true")
        let socket = home.path + "/agent.sock"
        for payload in [[UInt8](repeating: 0xFF, count: 64), [0, 0, 0, 5] + Array("hello".utf8), [0x7F, 0, 0, 0]] {
            let script =
                "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); "
                + "s.sendall(bytes.fromhex(sys.argv[2])); s.shutdown(socket.SHUT_WR); print(len(s.recv(65536)))"
            let hex = payload.map { String(format: "%02x", $0) }.joined()
            let sent = try TestHome.run(
                "/usr/bin/env", ["python3", "-c", script, socket, hex], stdin: nil,
                environment: ProcessInfo.processInfo.environment, directory: "/", timeout: 30)
            #expect(sent.status == 0)
        }
        #expect(try home.job("get", "--format", "json").status == 0)
        #expect(try home.job("start", "--quiet", "true").stdout == "3\n")
    }

    @Test("unknown options and bad values are bad usage (2)")
    func usage() throws {
        let home = try TestHome()
        #expect(try home.job("get", "--bogus").status == 2)
        #expect(try home.job("wait", "--timeout", "-1").status == 2)
        #expect(try home.job("start", "--env", "NOEQUALS", "true").status == 2)
        #expect(try home.job("frobnicate").status == 2)
        #expect(try home.job("--help").status == 0)
    }

    @Test("--env keys and --ssh-option values that could inject are refused, by the CLI and by the agent")
    func injectionThroughOptions() throws {
        let home = try TestHome()
        let marker = home.scratch + "/injected"
        let key = try home.job(
            "invoke", "--computer", "localhost", "--env", "A;touch${IFS}\(marker);B=1", "--as-job", "true")
        #expect(key.status == 2)
        #expect(key.stderr.contains("variable name"))
        let digit = try home.job("start", "--env", "1A=x", "true")
        #expect(digit.status == 2)
        let destination = try home.job("invoke", "--computer", "server01", "--ssh-option", "evil.example", "true")
        #expect(destination.status == 2)
        #expect(destination.stderr.contains("starting with '-'"))
        #expect(try home.job("invoke", "--computer", "server01", "--ssh-option", "--", "true").status == 2)
        #expect(try home.job("get", "--computer", "server01", "--ssh-option", "x").status == 2)
        // The agent checks the same for callers of the API.
        let client = try JobClient(environment: home.environment)
        #expect(throws: JobError.self) {
            _ = try client.invoke(
                "true", on: ["localhost"], remoteEnvironment: ["A;touch${IFS}\(marker)=1"])
        }
        #expect(throws: JobError.self) {
            _ = try client.invoke("true", on: ["server01"], sshOptions: ["host.example"])
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(try home.job("get", "--format", "json").stdout == "[]\n")
    }

    @Test(
        "small things: a file as the folder, a folder as input, a huge name, a relative JOB_HOME, a terminal as input")
    func smallThings() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "-C", "/etc/passwd", "true")
        #expect(try home.record(2)["reason"] as? String == "working directory /etc/passwd is not a folder")
        let folder = try home.job("start", "--input", home.scratch, "cat")
        #expect(folder.status == 2)
        #expect(folder.stderr.contains("is a folder"))
        let name = try home.job("start", "--name", String(repeating: "n", count: 100_000), "true")
        #expect(name.status == 2)
        #expect(name.stderr.contains("at most 256 bytes"))
        #expect(try home.job("start", "--name", "a\u{1B}[2Jb", "true").status == 2)
        let relative = try home.job(["get"], environment: ["JOB_HOME": "relative/home"])
        #expect(relative.status == 2)
        #expect(relative.stderr.contains("absolute path"))
        #expect(!FileManager.default.fileExists(atPath: home.scratch + "/relative"))
        // At a terminal (tmux gives one), --input - is refused instead of taking the user's typing.
        let tty = try home.shell(
            "script -qec '\"$JOB\" start --input - cat; echo status=$?' /dev/null", timeout: 30)
        #expect(tty.stdout.contains("status=2"), "\(tty.stdout)")
        #expect(tty.stdout.contains("is a terminal"))
        #expect(try home.job("get", "--format", "json").stdout.contains("\"id\": 3") == false)
    }

    @Test("receive --wait --no-recurse on a running parent waits for it to finish")
    func receiveNoRecurseWaits() throws {
        let home = try TestHome()
        let gate = try home.fifo("gate")
        try home.job("start", "--quiet", "read x < \(gate); exit 3")
        // While the parent runs, the receive does not return: cut off after 2 s, it exits 124.
        let cut = try home.shell("timeout 2 \"$JOB\" receive 1 --wait --no-recurse; echo status=$?")
        #expect(cut.stdout == "status=124\n")
        try home.release(gate)
        let result = try home.job("receive", "1", "--wait", "--no-recurse")
        #expect(result.status == 1)
        #expect(try home.record(1)["state"] as? String == "Failed")
    }
}
