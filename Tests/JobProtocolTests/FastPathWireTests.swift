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

import CJobWire
import Foundation
import JobCore
import JobProtocol
import JobTestSupport
import Testing

/// The C side of the `job` program's fast path (Sources/CJobWire) against the Swift protocol:
/// the frames it writes are the bytes the Swift client writes for the same request, and the
/// replies it reads are shown as the Swift client shows them.
@Suite("the fast path's frames and tables")
struct FastPathWireTests {
    /// Calls `body` with the strings as a C array ending in NULL.
    func withCStrings<T>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> T) -> T {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) } + [nil]
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    func bytes(_ buffer: inout cjw_buffer) -> [UInt8] {
        defer { cjw_free(&buffer) }
        #expect(buffer.failed == 0)
        return Array(UnsafeBufferPointer(start: buffer.bytes, count: buffer.count))
    }

    func swiftFrame<R: AgentRequest>(_ request: R) throws -> [UInt8] {
        try FrameChannel.frame { Frame.writeRequest(request, to: &$0) }
    }

    func startFrame(_ command: String, name: String?, _ directory: String, _ environment: [String], umask: Int32)
        -> [UInt8]
    {
        var buffer = cjw_buffer()
        let named: UnsafeMutablePointer<CChar>? = name.flatMap { strdup($0) }
        defer { free(named) }
        withCStrings(environment) { entries in
            command.withCString { text in
                cjw_start_frame(
                    &buffer, text, strlen(text), named.map { UnsafePointer($0) }, directory, entries, "/bin/sh", umask)
            }
        }
        return bytes(&buffer)
    }

    @Test("a plain start is the frame the Swift client sends")
    func startFrames() throws {
        for (command, name, environment, mask) in [
            ("sleep 30", nil, ["PATH=/usr/bin:/bin", "HOME=/root", "LANG=C.UTF-8", "GREETING=grüße"], 0o022),
            ("printf '%s\\n' 'a b' 'it'\\''s'", "a build (nightly)", [], 0o077),
            (
                String(repeating: "x", count: 70_000), String(repeating: "n", count: 256),
                ["A=" + String(repeating: "y", count: 20_000)], 0
            ),
        ] {
            let request = StartRequest(
                command: command, name: name, workingDirectory: "/tmp/wörk dir", environment: environment,
                shell: "/bin/sh", hasInput: false, umask: mask)
            #expect(
                startFrame(command, name: name, "/tmp/wörk dir", environment, umask: Int32(mask))
                    == (try swiftFrame(request)))
        }
    }

    @Test("a wait and a get of selectors are the frames the Swift client sends")
    func selectionFrames() throws {
        for selectors in [[], ["3"], ["3", "build*", "1,4", "6efbdc70-c013-466d-ba22-68003c10646a"]] {
            var wait = cjw_buffer()
            var get = cjw_buffer()
            withCStrings(selectors) { cjw_wait_frame(&wait, $0, Int32(selectors.count), 10) }
            withCStrings(selectors) { cjw_get_frame(&get, $0, Int32(selectors.count)) }
            let selection = JobSelection(selectors: selectors)
            #expect(bytes(&wait) == (try swiftFrame(WaitRequest(selection, timeout: 10))))
            #expect(bytes(&get) == (try swiftFrame(GetRowsRequest(GetRequest(selection)))))
        }
    }

    @Test("a command's words are quoted as the Swift client quotes them")
    func commandLines() {
        func line(_ words: [String]) -> String {
            var buffer = cjw_buffer()
            withCStrings(words) { cjw_command_line(&buffer, $0, Int32(words.count)) }
            return String(decoding: bytes(&buffer), as: UTF8.self)
        }
        #expect(line(["make -j4 && make test"]) == "make -j4 && make test")
        #expect(line(["printf", "%s\n", "a b", "it's", ""]) == "printf '%s\n' 'a b' 'it'\\''s' ''")
        #expect(line(["env", "A=1", "ls", "-la", "/tmp/x_y@z+,.:"]) == "env A=1 ls -la /tmp/x_y@z+,.:")
        #expect(line(["echo", "ü", "$HOME"]) == "echo 'ü' '$HOME'")
    }

    @Test("text is sent as it is only when it is UTF-8 without LosslessText's escape range")
    func plainText() {
        func plain(_ bytes: [UInt8]) -> Bool {
            bytes.withUnsafeBufferPointer { cjw_is_plain_text($0.baseAddress, $0.count) } != 0
        }
        #expect(plain(Array("PATH=/usr/bin".utf8)))
        #expect(plain(Array("grüße 日本 🎉".utf8)))
        #expect(!plain([0x41, 0xFF]))
        #expect(!plain([0xC0, 0x80]))  // overlong
        #expect(!plain([0xED, 0xA0, 0x80]))  // a surrogate
        #expect(!plain([0xE2, 0x82]))  // cut short
        #expect(!plain(Array("\u{100000}".utf8)))  // LosslessText's range
        #expect(!plain([0x80]))
    }

    func record(_ id: Int, _ name: String, _ command: String, type: String = "BackgroundJob", more: Bool = true)
        -> JobRecord
    {
        JobRecord(
            id: id, name: name, instanceId: UUID().uuidString.lowercased(), type: type, state: .completed,
            hasMoreData: more, location: "localhost", command: command, workingDirectory: "/tmp")
    }

    func reply<R: TaggedMessage>(_ payload: R, verb: String) -> [UInt8] {
        var encoder = WireEncoder()
        Frame.writeReply(payload, verb: verb, to: &encoder)
        return encoder.bytes
    }

    func table(_ body: [UInt8], verb: String) -> (Int32, String, String) {
        var buffer = cjw_buffer()
        var message: UnsafePointer<UInt8>?
        var length = 0
        let status = body.withUnsafeBufferPointer {
            cjw_read_jobs_reply($0.baseAddress, $0.count, verb, &buffer, &message, &length)
        }
        let text = String(decoding: bytes(&buffer), as: UTF8.self)
        let said = message.map { String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self) }
        return (status, text, said ?? "")
    }

    @Test("a wait's and a get's jobs are the table the Swift client prints into a pipe")
    func tables() {
        var running = record(12, "a-much-longer-name", "sleep 1000", more: false)
        running.state = .running
        let jobs = [
            record(1, "Job1", "echo hi"), record(2, "Job2", "echo hi", type: ""), running,
            record(1234, "x", String(repeating: "long command ", count: 30)),
        ]
        let expected = String(decoding: JobFormatter.tableBytes(jobs.map(JobRow.init)), as: UTF8.self)
        var wait = WaitReply()
        wait.jobs = jobs
        #expect(table(reply(wait, verb: "wait"), verb: "wait") == (Int32(CJW_OK), expected, ""))
        #expect(table(reply(JobsReply(jobs: jobs), verb: "get"), verb: "get") == (Int32(CJW_OK), expected, ""))
        #expect(table(reply(WaitReply(), verb: "wait"), verb: "wait") == (Int32(CJW_OK), "", ""))
        #expect(expected.contains("12    a-much-longer-name  BackgroundJob  Running    False"))
    }

    @Test("what the fast path does not show is left to the Swift client")
    func leftToSwift() {
        // A wait that timed out (a slice): the Ids of its jobs, for the next slice.
        var timedOut = WaitReply()
        timedOut.jobs = [record(1, "Job1", "sleep 9"), record(120, "Jöb", "sleep 9")]
        timedOut.timedOut = true
        #expect(table(reply(timedOut, verb: "wait"), verb: "wait") == (Int32(CJW_TIMED_OUT), "1\u{0}120\u{0}", ""))
        #expect(
            table(reply(JobsReply(jobs: [], problems: ["no job has Id 9"]), verb: "get"), verb: "get").0
                == Int32(CJW_OTHER))
        #expect(
            table(reply(JobsReply(jobs: [record(1, "Jöb", "true")]), verb: "get"), verb: "get").0 == Int32(CJW_OTHER))
        #expect(
            table(reply(JobsReply(jobs: [record(1, "Job1", "printf 'a\tb'")]), verb: "get"), verb: "get").0
                == Int32(CJW_OTHER))
        var remote = record(1, "Job1", "true")
        remote.computer = "server01"
        #expect(table(reply(JobsReply(jobs: [remote]), verb: "get"), verb: "get").0 == Int32(CJW_OTHER))
        // A reply to another verb, or of no known protocol, is not read.
        #expect(table(reply(JobsReply(jobs: []), verb: "get"), verb: "wait").0 == Int32(CJW_MALFORMED))
        #expect(table([0xFF, 0xFF], verb: "get").0 == Int32(CJW_MALFORMED))
    }

    @Test("a start's reply gives the Id, or the agent's refusal")
    func startReplies() {
        func read(_ body: [UInt8]) -> (Int32, Int64, String) {
            let (status, id, said, _) = startReply(body)
            return (status, id, said)
        }
        #expect(read(reply(StartReply(job: record(4_000_001, "Job4000001", "true")), verb: "start")).0 == Int32(CJW_OK))
        #expect(read(reply(StartReply(job: record(4_000_001, "Job4000001", "true")), verb: "start")).1 == 4_000_001)
        var encoder = WireEncoder()
        Frame.writeFailure(Failure(.refused, "the disk is full"), verb: "start", to: &encoder)
        #expect(read(encoder.bytes).0 == Int32(CJW_REFUSED))
        #expect(read(encoder.bytes).2 == "the disk is full")
        #expect(read(reply(StartReply(job: record(7, "Job7", "true")), verb: "get")).0 == Int32(CJW_MALFORMED))
        #expect(read([]).0 == Int32(CJW_MALFORMED))
        // Without --quiet: the new job's table, as the Swift client prints it into a pipe.
        for job in [record(3, "Job3", "make -j4 test"), record(120, "a build (nightly)", "printf '%s\\n' 'a b'")] {
            var running = job
            running.state = .running
            running.hasMoreData = false
            let (status, id, _, shown) = startReply(reply(StartReply(job: running), verb: "start"), table: true)
            #expect(status == Int32(CJW_OK))
            #expect(id == Int64(running.id))
            #expect(shown == JobFormatter.tableBytes([JobRow(running)]))
        }
    }

    /// A start's reply as the fast path reads it: status, Id, the agent's message, and with
    /// `table` the table `job start` prints.
    func startReply(_ body: [UInt8], table: Bool = false) -> (Int32, Int64, String, [UInt8]) {
        var id: Int64 = 0
        var message: UnsafePointer<UInt8>?
        var length = 0
        var buffer = cjw_buffer()
        let status = body.withUnsafeBufferPointer { body in
            table
                ? cjw_read_start_reply(body.baseAddress, body.count, &id, &buffer, &message, &length)
                : cjw_read_start_reply(body.baseAddress, body.count, &id, nil, &message, &length)
        }
        let said = message.map { String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self) }
        return (status, id, said ?? "", bytes(&buffer))
    }

    @Test("generated replies of printable ASCII are shown as the Swift client shows them")
    func generatedTables() throws {
        var random = SeededGenerator(state: UInt64.random(in: 0...UInt64.max))
        func word(_ most: Int) -> String {
            String(
                decoding: (0..<Int.random(in: 0...most, using: &random)).map { _ in
                    UInt8.random(in: 0x20...0x7E, using: &random)
                }, as: UTF8.self)
        }
        for round in 0..<2_000 {
            let jobs = (0..<Int.random(in: 0...6, using: &random)).map { _ in
                var job = record(
                    Int.random(in: 1...Int(Int32.max), using: &random), word(20), word(60), type: word(14),
                    more: Bool.random(using: &random))
                job.state = JobState.allCases.randomElement(using: &random)!
                job.location = word(12)
                job.reason = Bool.random(using: &random) ? word(30) : nil
                job.exitStatus = Bool.random(using: &random) ? Int.random(in: -3...300, using: &random) : nil
                return job
            }
            let expected = String(decoding: JobFormatter.tableBytes(jobs.map(JobRow.init)), as: UTF8.self)
            let verb = round % 2 == 0 ? "wait" : "get"
            let body =
                verb == "wait"
                ? reply(
                    {
                        var r = WaitReply(); r.jobs = jobs; return r
                    }(), verb: verb)
                : reply(JobsReply(jobs: jobs), verb: verb)
            let (status, text, _) = table(body, verb: verb)
            #expect(status == Int32(CJW_OK))
            #expect(text == expected)
            if let first = jobs.first {
                #expect(startReply(reply(StartReply(job: first), verb: "start")).0 == Int32(CJW_OK))
                #expect(startReply(reply(StartReply(job: first), verb: "start")).1 == Int64(first.id))
            }
        }
    }

    /// The replies come from the agent, which runs as the same user; still, bytes that are not
    /// a reply are refused or shown, never a crash or a read past their end.
    @Test("300,000 mutated replies are read or refused, never a crash")
    func mutatedReplies() {
        let seed = UInt64.random(in: 0...UInt64.max)
        var maker = MessageMaker(seed: seed)
        var corpus: [(verb: String, body: [UInt8])] = []
        for index in 0..<300 {
            let verb: Verb = [.start, .wait, .get][index % 3]
            corpus.append((verb.rawValue, maker.replyFrame(verb)))
        }
        var counts = [Int32: Int]()
        for index in 0..<300_000 {
            let (verb, base) = corpus[index % corpus.count]
            let other = corpus[Int.random(in: 0..<corpus.count, using: &maker.random)].body
            let input = index < corpus.count ? base : maker.mutate(base, other: other)
            let status = verb == "start" ? startReply(input, table: index % 2 == 0).0 : table(input, verb: verb).0
            counts[status, default: 0] += 1
        }
        print("fast path fuzz (seed \(seed)): \(counts.sorted { $0.key < $1.key })")
        #expect(counts.values.reduce(0, +) == 300_000)
        #expect(counts[Int32(CJW_OK), default: 0] > 0)
    }
}
