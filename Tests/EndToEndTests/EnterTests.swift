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

/// `job enter` in a real terminal: a tmux server of the test's own runs it in a pane, the test
/// types with `send-keys` and reads the screen with `capture-pane`.
@Suite("job enter and long waits in a real terminal", .timeLimit(.minutes(10)))
struct EnterTests: OnTestComputers {
    let computers: TestComputers
    let home: TestHome
    let terminal: TmuxTerminal

    init() throws {
        computers = try sharedComputers.get()
        home = try TestHome()
        terminal = try TmuxTerminal(home: home)
    }

    /// Runs tmux on this test's own server (see `TmuxTerminal`).
    @discardableResult
    func tmux(_ arguments: String...) throws -> CommandResult { try terminal.tmux(arguments) }

    /// Starts `job enter TARGET` in a new pane; the pane stays to show how it ended.
    func enter(_ target: String) throws {
        let script = "trap : INT; \"$JOB\" enter \(target); echo \"left with $?\"; exec sleep 600"
        let started = try tmux(
            "new-session", "-d", "-x", "150", "-y", "50", "-e", "JOB_HOME=\(home.path)", "-e", "JOB=\(TestHome.binary)",
            "-e", "JOB_SSH_CONFIG=\(computers.sshConfig)", "/bin/sh", "-c", script)
        #expect(started.status == 0, "\(started.stderr)")
    }

    func screen() throws -> String { try tmux("capture-pane", "-p", "-S", "-100").stdout }

    func type(_ line: String, newline: Bool = true) throws {
        try tmux("send-keys", "-l", "--", line + (newline ? "\n" : ""))
    }

    func waitFor(_ text: String, count: Int = 1) throws {
        try TestHome.eventually("'\(text)' on the screen") {
            try screen().components(separatedBy: text).count - 1 >= count
        }
    }

    @Test(
        "a temporary session: prompt, state across lines, output as produced, Ctrl-C, exit removes it",
        arguments: ["localhost", "server01"])
    func temporarySession(computer: String) throws {
        defer { _ = try? tmux("kill-server") }
        try enter(computer)
        try waitFor("[\(computer)] $")
        try type("cd /usr/share")
        try type("greeting=hello")
        try type("echo \"$greeting from $(pwd)\"")
        try waitFor("hello from /usr/share")
        let sessions = try job("session", "get", "--format", "json")
        #expect(sessions.stdout.contains("\"computerName\": \"\(computer)\""))
        // Output appears while the command still runs; Ctrl-C stops only the command, and the
        // rest of the line is dropped, as an interactive shell drops it.
        try type("echo started; sleep 300; echo not-$greeting")
        try waitFor("started")
        try tmux("send-keys", "C-c")
        try waitFor("[\(computer)] $", count: 5)
        try type("echo after $greeting")
        try waitFor("after hello")
        let shown = try screen()
        #expect(!shown.contains("not-hello"), "\(shown)")
        // A loop of builtins is ended the same way, and the session lives on.
        try type("while :; do :; done; echo not-$greeting")
        try TestHome.eventually("the loop to run") {
            try job("get", "--include-children", "--format", "json").stdout.contains("\"Running\"")
        }
        try tmux("send-keys", "C-c")
        try waitFor("[\(computer)] $", count: 7)
        try type("echo still $greeting")
        try waitFor("still hello")
        let after = try screen()
        #expect(!after.contains("not-hello"), "\(after)")
        try type("exit")
        try waitFor("left with 0")
        #expect(try job("session", "get").stdout == "")
        #expect(try job("get", "--format", "json").stdout == "[]\n")
    }

    @Test(
        "line editing and history (libedit), lines typed ahead go to the session, Ctrl-C sends SIGINT and keeps the state, Ctrl-D leaves"
    )
    func lineEditing() throws {
        defer { _ = try? tmux("kill-server") }
        try enter("localhost")
        try waitFor("[localhost] $")
        // Left arrow, then an insertion in the middle of the line.
        try type("count=5; echo helo", newline: false)
        try tmux("send-keys", "Left", "l", "Enter")
        try waitFor("\nhello\n")
        // Typed while the command runs: run in the session after it, not by the local shell.
        try type("sleep 1; echo first")
        try type("echo second $count")
        try waitFor("\nsecond 5\n")
        #expect(try screen().range(of: "\nfirst\n")!.lowerBound < (try screen()).range(of: "\nsecond 5\n")!.lowerBound)
        // Up recalls the last line; Enter runs it again.
        try tmux("send-keys", "Up", "Enter")
        try waitFor("second 5", count: 2)
        // Ctrl-C: SIGINT to the command (its trap runs), and the session's state is kept.
        try type("trap 'echo got INT' INT; echo waiting; sleep 300 & wait; trap - INT")
        try waitFor("\nwaiting\n")
        try tmux("send-keys", "C-c")
        try waitFor("got INT")
        try type("echo still $count")
        try waitFor("still 5")
        // Ctrl-C at the prompt abandons the line; Ctrl-D leaves.
        try type("echo never", newline: false)
        try tmux("send-keys", "C-c")
        try tmux("send-keys", "C-d")
        try waitFor("left with 0")
        #expect(!(try screen()).contains("\nnever\n"))
        let history = try String(contentsOfFile: home.path + "/enter.history", encoding: .utf8)
        #expect(history.contains("echo\\040second\\040$count"))
    }

    @Test("entering an existing session shares its state, and leaving keeps it")
    func existingSession() throws {
        defer { _ = try? tmux("kill-server") }
        let opened = try job("session", "new", "--computer", "localhost", "--name", "shared")
        #expect(opened.status == 0)
        let started = try job("start", "--session", "shared", "--quiet", "marker=from-start")
        try job("wait", started.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        try enter("shared")
        try waitFor("[localhost] $")
        try type("echo \"seen: $marker\"; marker=from-enter")
        try waitFor("seen: from-start")
        try type("exit")
        try waitFor("left with 0")
        let after = try job("start", "--session", "shared", "--quiet", "echo $marker")
        let id = after.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try job("wait", id)
        #expect(try job("receive", id).stdout == "from-enter\n")
    }

    @Test("a long wait at a terminal shows live progress on stderr, cleared when the wait ends")
    func waitProgress() throws {
        defer { _ = try? tmux("kill-server") }
        let gate = try home.fifo("gate")
        let started = try job("start", "--quiet", "read x < \(gate)")
        let id = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try job("start", "--quiet", "true")
        let script = "\"$JOB\" wait \(id); echo \"waited with $?\"; exec sleep 600"
        try tmux(
            "new-session", "-d", "-x", "150", "-y", "50", "-e", "JOB_HOME=\(home.path)", "-e", "JOB=\(TestHome.binary)",
            "/bin/sh", "-c", script)
        try waitFor("job: waiting for 1 job, 0 finished (")
        #expect(try home.shell("echo go > \(gate)").status == 0)
        try waitFor("waited with 0")
        let screen = try screen()
        #expect(!screen.contains("waiting for"))
        #expect(screen.contains("Completed"))
        // Without a terminal there is no progress line at all.
        #expect(try job("wait", id).stderr == "")
    }

    @Test("entering a broken or unknown session is refused with a clear message")
    func refused() throws {
        let unknown = try job("enter", "42")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no session has Id 42"))
        let bad = try job("enter", "-oProxyCommand=x")
        #expect(bad.status == 2)
    }
}
