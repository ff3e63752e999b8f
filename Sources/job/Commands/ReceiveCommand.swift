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
            let waited = try client.waiting(for: selection)
            unfinishedParents = waited.value.jobs.contains { $0.isParent && $0.state != .completed }
        }
        for grant in grants where grant.state == .failed {
            Terminal.error("\(Terminal.named(grant)) failed: \(grant.reason ?? "failed")")
        }
        if parsed.flag("--auto-remove") && grants.allSatisfy(\.state.isFinished) {
            _ = try client.removing(selection)
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

/// One `job receive`, `log`, streaming `invoke` or `enter` line: the library's receive engine
/// writing to this process's stdout and stderr, with a progress line redrawn between rounds.
struct ReceiveSession {
    private var engine: ReceiveEngine
    private var sink: ProgressSink

    init(
        client: JobClient, selection: JobSelection, keep: Bool, fromStart: Bool, noRecurse: Bool, prefix: Bool?,
        json: Bool
    ) {
        engine = ReceiveEngine(
            connection: client, selection: selection, keep: keep, fromStart: fromStart, noRecurse: noRecurse)
        sink = ProgressSink(base: DescriptorSink(prefix: prefix, json: json, consuming: !keep))
    }

    /// `job log --stdout` / `--stderr`: only that stream is written.
    var only: OutputChunk.Stream? {
        get { sink.base.only }
        set { sink.base.only = newValue }
    }
    /// `job log --tail N`: each stream starts N lines before its end.
    var tailLines: Int? {
        get { engine.tailLines }
        set { engine.tailLines = newValue }
    }
    /// A streaming `invoke` at a terminal: a line on stderr with the children's counts,
    /// redrawn after each round and cleared before output is written.
    var progress: ProgressLine? {
        get { sink.progress }
        set { sink.progress = newValue }
    }
    /// `receive --group`: each child's stdout is kept here, in order, instead of written.
    var collected: [(grant: StreamGrant, bytes: [UInt8])]? {
        get { sink.base.collected }
        set { sink.base.collected = newValue }
    }
    var readerGone: Bool { engine.readerGone }
    /// The first round's selectors that named nothing.
    var problems: [String]? { engine.problems }

    struct Interrupted: Error {}

    /// Receives until every selected job has finished (or the reader went away).
    mutating func streamUntilFinished(interrupt: Int32 = -1) throws -> [StreamGrant] {
        defer { sink.progress?.clear() }
        switch try engine.stream(into: &sink, interrupt: interrupt) {
        case .finished(let grants): return grants
        case .interrupted: throw Interrupted()
        }
    }

    mutating func round() throws -> [StreamGrant] {
        try engine.round(into: &sink)
    }
}

/// A descriptor sink with `invoke`'s progress line: cleared before a round writes, drawn after.
struct ProgressSink: OutputSink {
    var base: DescriptorSink
    var progress: ProgressLine?

    mutating func roundBegins() {
        progress?.clear()
        base.roundBegins()
    }

    mutating func claimed(_ grants: [StreamGrant]) -> Bool { base.claimed(grants) }

    mutating func take(_ span: OutputSpan) -> OutputPump.Result { base.take(span) }

    mutating func roundEnded(_ grants: [StreamGrant]) {
        base.roundEnded(grants)
        progress?.draw(grants)
    }
}
