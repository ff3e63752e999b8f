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

import CJobSupport
import JobClient
import JobCore
import JobProtocol

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

enum ReceiveVerb {
    static let spec = VerbSpec(
        name: "receive", summary: "write the output received so far", usage: ["receive SELECTOR... [OPTIONS]"],
        about: """
            Write the output received so far: the jobs' stdout to stdout, their stderr to
            stderr. Receiving consumes (the next receive goes on from there) unless --keep. A
            failed job's Reason goes to stderr at the end. If the reader goes away early, what
            it did not take stays unreceived.
            """,
        operands: SelectionArguments.operands, operandCompletion: .jobs,
        options: SelectionArguments.options + [
            .flag("--keep", "leave the read position where it was"),
            .flag("--from-start", "start from the first byte"),
            .flag(
                "--wait",
                "stream until the jobs finish; exit 0 when all completed, else for one job its exit status "
                    + "(128+N for signal N, 124 when its --timeout stopped it), else 1"),
            .flag("--auto-remove", "remove the jobs once received (finished)"),
            .flag("--prefix", "start each line with 'NAME: ' (default: when the jobs span several computers)"),
            .flag("--no-prefix", "never start lines with 'NAME: '"),
            .flag("--no-recurse", "a parent's own results only (it runs nothing)"),
            .flag(
                "--group",
                "gather each child's stdout and show identical ones once, under the folded list of their "
                    + "computers (dshbak -c's way; with --wait, once all have finished)"),
            .option(
                "--format", "text|json",
                "json: one object per piece, with id, computer, stream and data (or dataBase64)"),
        ] + RemoteAgents.options)

    static func run(_ parsed: ParsedArguments) throws {
        let selection = try Terminal.requiredSelection(parsed, verb: "receive")
        let format = parsed.value("--format") ?? "text"
        guard format == "text" || format == "json" else {
            throw CLIFailure.usage("--format takes text or json, not '\(format)'")
        }
        if let remote = try RemoteAgents(parsed) {
            // Every line is tagged with its computer unless --no-prefix; the other side
            // tags its own lines as it would anyway.
            let outcomes = remote.run(
                ["receive"] + parsed.arguments(without: RemoteAgents.names.union(["--prefix"])),
                sink: .stream(prefix: !parsed.flag("--no-prefix"), json: format == "json"))
            var statuses: [Int32] = []
            for outcome in outcomes {
                if let failure = outcome.failure { Terminal.error("\(outcome.computer): \(failure)") }
                statuses.append(outcome.failure == nil ? outcome.status : 1)
            }
            let status = RemoteAgents.combined(statuses)
            if status != 0 { throw CLIFailure(status: status, message: "") }
            return
        }
        let wait = parsed.flag("--wait")
        let prefix: Bool? = parsed.flag("--prefix") ? true : parsed.flag("--no-prefix") ? false : nil
        let client = try JobClient()
        var session = ReceiveSession(
            client: client, selection: selection, keep: parsed.flag("--keep"), fromStart: parsed.flag("--from-start"),
            noRecurse: parsed.flag("--no-recurse"), prefix: prefix, json: format == "json")
        if parsed.flag("--group") {
            guard format == "text" else {
                throw CLIFailure.usage("--group writes text; it does not go with --format json")
            }
            session.collected = []
        }
        let grants = try wait ? session.streamUntilFinished() : session.round()
        if let collected = session.collected { Self.showGroups(collected) }
        // A parent has no output of its own: with --no-recurse, --wait still waits for it.
        var unfinishedParents = false
        if wait && parsed.flag("--no-recurse") && !session.readerGone {
            let waited = try client.waitInSlices(WaitRequest(selection))
            unfinishedParents = waited.jobs.contains { $0.isParent && $0.state != .completed }
        }
        for grant in grants where grant.state == .failed {
            Terminal.error("\(Terminal.named(grant)) failed: \(grant.reason ?? "failed")")
        }
        if parsed.flag("--auto-remove") && grants.allSatisfy(\.state.isFinished) {
            _ = try client.send(RemoveRequest(selection))
        }
        let problems = Terminal.report(session.problems ?? [])
        if wait {
            let status = unfinishedParents && grants.isEmpty ? 1 : Self.status(of: grants)
            if status != 0 { throw CLIFailure(status: status, message: "") }
        }
        if problems { throw CLIFailure.failed() }
    }

    /// Children whose stdout is the same, once, under the folded list of their computers
    /// (or of their Ids, when they all ran on one computer), as `dshbak -c` prints.
    static func showGroups(_ collected: [(grant: StreamGrant, bytes: [UInt8])]) {
        let computers = Set(collected.map(\.grant.computer))
        var order: [[UInt8]] = []
        var labels: [[UInt8]: [String]] = [:]
        // A child with nothing (new) to show is left out, as dshbak leaves out silent hosts.
        for (grant, bytes) in collected where !bytes.isEmpty {
            if labels[bytes] == nil { order.append(bytes) }
            labels[bytes, default: []].append(computers.count > 1 ? grant.computer : "Job\(grant.id)")
        }
        for bytes in order {
            let names = labels[bytes] ?? []
            let header = NodeSet.fold(names) + " (\(names.count))"
            let rule = String(repeating: "-", count: max(15, header.count))
            var text = Array((rule + "\n" + header + "\n" + rule + "\n").utf8) + bytes
            if let last = bytes.last, last != 10 { text.append(10) }
            var slice = text[...]
            let length = slice.count
            if FileWriter.writeAll(1, &slice) < length { return }
        }
    }

    /// 0 when all completed; for a single job that did not, its exit status or 128+signal (124
    /// when its timeout stopped it, as timeout(1) exits); else 1.
    static func status(of grants: [StreamGrant]) -> Int32 {
        if grants.allSatisfy({ $0.state == .completed }) { return 0 }
        if grants.count == 1, let only = grants.first {
            if only.timedOut == true { return 124 }
            if let code = only.exitStatus, code != 0 { return Int32(truncatingIfNeeded: code) }
            if let signal = only.signal { return Int32(128 + signal) }
        }
        return 1
    }
}

/// Which of a job's streams.
enum OutputStream { case output, error }

/// The line a streaming `invoke` keeps on stderr at a terminal: how many of its children are
/// done, failed, running and queued, and for how long it has run.
struct ProgressLine {
    let began = Date()
    var shown = false

    mutating func draw(_ grants: [StreamGrant]) {
        guard !grants.isEmpty else { return }
        let done = grants.filter { $0.state == .completed }.count
        let failed = grants.filter { $0.state == .failed || $0.state == .stopped }.count
        let queued = grants.filter { $0.state == .notStarted }.count
        let running = grants.count - done - failed - queued
        let elapsed = Int(-began.timeIntervalSinceNow)
        Terminal.errorText(
            "\rjob: \(done) done, \(failed) failed, \(running) running, \(queued) queued of \(grants.count) "
                + "(\(elapsed) s)\u{1B}[K")
        shown = true
    }

    mutating func clear() {
        guard shown else { return }
        Terminal.errorText("\r\u{1B}[K")
        shown = false
    }
}

/// One `job receive` (or `job log`): rounds of reading what is new, remembering positions between rounds
/// (with --keep nothing moves in the agent, so the positions live here).
struct ReceiveSession {
    let client: JobClient
    let selection: JobSelection
    let keep: Bool
    var fromStart: Bool
    let noRecurse: Bool
    let prefix: Bool?
    let json: Bool
    /// `job log --stdout` / `--stderr`: only that stream is written.
    var only: OutputStream? = nil
    /// `job log --tail N`: each stream starts N lines before its end.
    var tailLines: Int? = nil
    /// A streaming `invoke` at a terminal: a line on stderr with the children's counts,
    /// redrawn after each round and cleared before output is written.
    var progress: ProgressLine? = nil
    /// `receive --group`: each child's stdout is kept here, in order, instead of written.
    var collected: [(grant: StreamGrant, bytes: [UInt8])]? = nil
    var positions: [String: (Int64, Int64)] = [:]
    var readerGone = false
    var generation: UInt64 = 0
    var problems: [String]? = nil  // the first round's

    init(
        client: JobClient, selection: JobSelection, keep: Bool, fromStart: Bool, noRecurse: Bool, prefix: Bool?,
        json: Bool
    ) {
        self.client = client
        self.selection = selection
        self.keep = keep
        self.fromStart = fromStart
        self.noRecurse = noRecurse
        self.prefix = prefix
        self.json = json
    }

    /// Receives until every selected job has finished (or the reader went away): a round,
    /// then a wait for output to grow (inotify) or the agent to report a change, and again.
    mutating func streamUntilFinished(interrupt: Int32 = -1) throws -> [StreamGrant] {
        // Armed before the first round looks at the files' sizes: a write in between still
        // wakes the wait below (a job's first line could otherwise wait for its end).
        let watcher = OutputWatcher()
        watcher.watch(folder: client.home.jobsPath)
        var grants = try round()
        // The fault suite stops the reader here, between its first look at the files and its
        // first wait, and writes output meanwhile: that output must wake the wait.
        if ProcessEnvironment.variable("JOB_TEST_FAULT") == "stream-after-first-round" { raise(SIGSTOP) }
        progress?.draw(grants)
        defer { progress?.clear() }
        guard !readerGone else { return grants }
        var events = try JobClient()
        var pending = false
        var answerDue = 0.0
        while !readerGone && !grants.allSatisfy(\.state.isFinished) {
            watcher.watch(grants)
            do {
                if !pending {
                    // The agent answers within a slice even when nothing changed: an answer that
                    // does not come in time means the agent is stopped or stuck.
                    try events.post(WaitEventRequest(after: generation, timeout: JobClient.waitSlice))
                    pending = true
                    answerDue = JobClient.monotonicNow() + JobClient.waitSlice + JobClient.patience
                }
                switch watcher.waitForChange(
                    orReadable: events.socketFD, interrupt: interrupt,
                    timeout: max(0, answerDue - JobClient.monotonicNow()))
                {
                case .socket:
                    generation = try events.collect(WaitEventRequest.self).generation
                    pending = false
                case .interrupted:
                    throw Interrupted()
                case .output:
                    break
                case .timedOut:
                    throw events.unresponsive()
                }
            } catch let error as JobError where error.agentWentAway {
                // The agent went away (its jobs run on): the stream goes on with the next one,
                // whose changes are counted from 0.
                events = try JobClient()
                pending = false
                generation = 0
            }
            progress?.clear()
            grants = try round()
            progress?.draw(grants)
        }
        return grants
    }

    struct Interrupted: Error {}

    mutating func round() throws -> [StreamGrant] {
        // While a consuming round holds claims, Ctrl-C, SIGTERM and SIGHUP only stop the
        // writing: what was claimed and not written is handed back, then the signal ends the
        // process as it would have. Between rounds nothing is held, and they act at once.
        if !keep {
            cjob_catch_interrupts()
        }
        defer {
            if !keep { cjob_release_interrupts() }
        }
        var request = ReceiveRequest(selection)
        request.keep = keep
        request.fromStart = fromStart
        request.noRecurse = noRecurse
        let response = try client.send(request)
        if problems == nil { problems = response.problems }
        fromStart = false
        generation = response.generation
        let grants = response.streams
        let computers = Set(grants.map(\.computer))
        let prefixed = prefix ?? (computers.count > 1)
        // Lines are tagged with the computer when the jobs span several (the pdsh way),
        // else with the job's name.
        func label(_ grant: StreamGrant) -> String { computers.count > 1 ? grant.computer : grant.name }
        var advances: [ReadAdvance] = []
        for grant in grants {
            guard !readerGone else {
                // Nothing of this one was written: all of its claim is read next time.
                if grant.outputEnd >= 0 {
                    advances.append(
                        ReadAdvance(instanceId: grant.instanceId, output: grant.outputOffset, error: grant.errorOffset))
                }
                continue
            }
            var (output, error) = (grant.outputOffset, grant.errorOffset)
            // With --keep nothing moves in the agent: this reader remembers where it got to, and
            // follows that only (another reader consuming the job moves the agent's positions).
            if keep, let known = positions[grant.instanceId] {
                output = known.0
                error = known.1
            } else if let tailLines {
                output = max(output, OutputPump.startOfLastLines(tailLines, path: grant.outputPath))
                error = max(error, OutputPump.startOfLastLines(tailLines, path: grant.errorPath))
            }
            let claimed = grant.outputEnd >= 0
            let final = grant.state.isFinished
            let outStyle: OutputStyle =
                json
                ? .json(id: grant.id, computer: grant.computer, stream: "output")
                : prefixed ? .prefixed(label(grant)) : .raw
            let errStyle: OutputStyle =
                json
                ? .json(id: grant.id, computer: grant.computer, stream: "error")
                : prefixed ? .prefixed(label(grant)) : .raw
            if collected != nil {
                let read = OutputPump.read(path: grant.outputPath, from: output, end: claimed ? grant.outputEnd : nil)
                output = read.position
                if let index = collected!.firstIndex(where: { $0.grant.instanceId == grant.instanceId }) {
                    collected![index].bytes += read.bytes
                    collected![index].grant = grant
                } else {
                    collected!.append((grant, read.bytes))
                }
            } else if only != .error {
                let out = OutputPump.copy(
                    path: grant.outputPath, from: output, to: 1, style: outStyle, final: final,
                    end: claimed ? grant.outputEnd : nil)
                output = out.position
                readerGone = out.readerGone
            }
            if !readerGone && only != .output {
                let err = OutputPump.copy(
                    path: grant.errorPath, from: error, to: json ? 1 : 2, style: errStyle, final: final,
                    end: claimed ? grant.errorEnd : nil)
                error = err.position
                readerGone = err.readerGone
            }
            positions[grant.instanceId] = (output, error)
            // Every claim is ended, so that other readers of the job get their turn; where this
            // one got short of its end, the rest is read next.
            if claimed { advances.append(ReadAdvance(instanceId: grant.instanceId, output: output, error: error)) }
        }
        if !keep { try client.advance(advances) }
        return grants
    }
}
