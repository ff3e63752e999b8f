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

import CLineEditor
import JobClient
import JobCore
import JobProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// `job enter NAME|SESSION`: an interactive prompt whose lines run in a session (Enter-PSSession).
enum EnterVerb {
    static let spec = VerbSpec(
        name: "enter", summary: "an interactive prompt in a session", usage: ["enter SESSION|COMPUTER [OPTIONS]"],
        about: """
            An interactive prompt, '[computer] $ ', whose lines run one by one in a session: the
            given session (its state is shared with every other use of it), or a new one on the
            computer (localhost, or over ssh), removed when you leave. Output appears as it is
            produced; Ctrl-C stops the running command; `exit` or end-of-file (Ctrl-D) leaves.
            Each line is a job while it runs, removed once it has ended.
            """,
        operandCompletion: .sessions,
        options: [
            .option("--shell", "PATH", completes: .files, "for a new session: the shell (default /bin/sh)"),
            .option("--ssh-option", "OPTION", "for a new session: an option for ssh (repeatable)"),
        ])

    static func run(_ parsed: ParsedArguments) throws {
        guard parsed.positionals.count == 1, let target = parsed.positionals.first else {
            throw CLIFailure.usage("job enter needs one session (Id or name) or one computer name")
        }
        let client = try JobClient()
        var session: SessionRecord
        var temporary = false
        if let found = try? client.sessions([target]), let only = found.first, found.count == 1 {
            session = only
        } else {
            if Int(target) != nil { throw CLIFailure.failed("no session has Id \(target); job session get lists them") }
            do {
                _ = try ComputerName(target)
            } catch {
                throw CLIFailure.usage("'\(target)' is neither a session nor a computer name: \(error)")
            }
            let made: SessionRecord
            let shell = try parsed.value("--shell") ?? UserSettings.current().shell.value
            let sshOptions = try parsed.sshOptions()
            do {
                made = try client.openSession(on: target, shell: shell, sshOptions: sshOptions)
            } catch {
                throw CLIFailure.failed(error.message)
            }
            session = made
            temporary = true
        }
        guard session.state == .opened else {
            throw CLIFailure.failed(
                "session \(session.name) is \(session.state.rawValue)" + (session.reason.map { ": \($0)" } ?? ""))
        }
        let interrupt = Interruption.install()
        var lines = LineReader()
        let prompt = "[\(session.computerName)] $ "
        // At a terminal, lines are edited with libedit and kept in a history of the home's.
        let editing = isatty(0) == 1 && isatty(1) == 1
        let history = client.home.path + "/enter.history"
        if editing { cjob_edit_load_history(history) }
        var status: Int32 = 0
        defer {
            if editing { cjob_edit_save_history(history, 1000) }
            if temporary { _ = try? client.removeSessions([String(session.id)], force: true) }
        }
        while true {
            let line: String??
            if editing {
                var interrupted: Int32 = 0
                if let read = cjob_edit_line(prompt, &interrupted) {
                    line = .some(String(cString: read))
                    free(read)
                } else {
                    line = interrupted != 0 ? .some(nil) : nil
                    if interrupted != 0 { Terminal.out("^C") }
                }
            } else {
                Terminal.out(prompt)
                line = lines.next(interrupt: interrupt)
            }
            guard let line else {
                Terminal.out("\n")
                break
            }
            guard let text = line else {
                Terminal.out("\n")
                continue
            }
            let trimmed = String(
                text.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" })
                    .reversed())
            if trimmed.isEmpty { continue }
            if editing { cjob_edit_remember(text) }
            if trimmed == "exit" { break }
            let job: Job
            do {
                job = try client.start(text, inSessions: [String(session.id)])
            } catch {
                Terminal.error("\(error)")
                status = 1
                break
            }
            try run(job, client: client, interrupt: interrupt)
            if let now = try? client.sessions([String(session.id)]).first, now.state != .opened {
                Terminal.error("the session is \(now.state.rawValue): \(now.reason ?? "its shell ended")")
                status = 1
                break
            }
        }
        if status != 0 { throw CLIFailure(status: status, message: "") }
    }

    /// Streams one line's job until it ends (Ctrl-C stops it), then removes it.
    static func run(_ job: Job, client: JobClient, interrupt: Int32) throws {
        let selection = JobSelection(selectors: [String(job.id)])
        var receiver = ReceiveSession(
            client: client, selection: selection, keep: false, fromStart: false, noRecurse: false, prefix: false,
            json: false)
        while true {
            do {
                _ = try receiver.streamUntilFinished(interrupt: interrupt)
                break
            } catch is ReceiveSession.Interrupted {
                Interruption.drain(interrupt)
                Terminal.out("\n")
                // As a shell does: SIGINT to the command, whose session and state go on.
                _ = try client.stopping(selection, grace: 2, signal: Int(SIGINT))
            }
        }
        _ = try client.removing(selection, force: true)
    }
}

/// Lines from stdin, as the terminal gives them. `next` returns nil at end-of-file and
/// `.some(nil)` when Ctrl-C interrupted the line.
struct LineReader {
    private var buffer: [UInt8] = []
    private var ended = false

    mutating func next(interrupt: Int32) -> String?? {
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return .some(line)
            }
            if ended {
                guard !buffer.isEmpty else { return nil }
                defer { buffer = [] }
                return .some(String(decoding: buffer, as: UTF8.self))
            }
            var fds = [
                pollfd(fd: 0, events: Int16(POLLIN), revents: 0),
                pollfd(fd: interrupt, events: Int16(POLLIN), revents: 0),
            ]
            if poll(&fds, 2, -1) < 0 { continue }
            if fds[1].revents != 0 {
                Interruption.drain(interrupt)
                buffer = []
                return .some(nil)
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                ended = true
            } else {
                buffer += chunk[..<n]
            }
        }
    }
}
