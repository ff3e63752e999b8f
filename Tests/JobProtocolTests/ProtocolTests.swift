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
import JobCore
import JobProtocol
import JobTestSupport
import Testing

/// One fixed message of every kind, with every field set, for the golden frames.
enum GoldenSamples {
    static let time = Date(timeIntervalSince1970: 1_790_000_000.25)
    static let selection = JobSelection(selectors: ["3", "build*"], names: ["nightly"], states: [.running], all: true)

    static let record = JobRecord(
        id: 12, parentId: 11, childIds: [13, 14], name: "Job12", instanceId: "4c1e0b9e-1", type: "RemoteJob",
        state: .failed, hasMoreData: true, location: "web01,web02", command: "make 'all' ü",
        workingDirectory: "/srv/app", reason: "exit 2", exitStatus: 2, signal: 15, pid: 4242, beginTime: time,
        endTime: time.addingTimeInterval(61.5), computer: "db01")

    /// A record with the field of protocol 8: a Slurm child's id.
    static var slurmRecord: JobRecord {
        var record = record
        record.schedulerJobId = "4242_7"
        return record
    }

    static let session = SessionRecord(
        id: 2, name: "ops", computerName: "web01", state: .broken, availability: .none, jobCount: 7, shell: "/bin/bash",
        reason: "the connection closed")

    static var grant: StreamGrant {
        var grant = StreamGrant(
            id: 13, instanceId: "4c1e0b9e-2", name: "Job13", computer: "web01", outputPath: "/h/out/2.out",
            errorPath: "/h/out/2.err", outputOffset: 1024, errorOffset: 0, state: .completed, reason: "done",
            exitStatus: 0, signal: 9)
        grant.outputEnd = 4096
        grant.errorEnd = -1
        return grant
    }

    static func request(_ verb: Verb) -> Request {
        switch verb {
        case .status: return Request(StatusRequest())
        case .schedulerStart:
            var start = SchedulerStartRequest()
            start.command = "python train.py"
            start.name = "sweep"
            start.workingDirectory = "/scratch/me"
            start.environment = ["A=1"]
            start.umask = 0o027
            start.tasks = 200
            start.throttle = 8
            start.options = ["--mem=4G", "--partition=gpu"]
            start.timeout = 3600
            start.after = [7]
            start.afterAny = [8, 9]
            return Request(start)
        case .invoke:
            var invoke = InvokeRequest()
            invoke.command = "uptime"
            invoke.name = "fleet"
            invoke.workingDirectory = "/srv"
            invoke.environment = ["A=1"]
            invoke.umask = 0o027
            invoke.hasInput = true
            invoke.computers = ["web01", "web02"]
            invoke.throttleLimit = 4
            invoke.sshOptions = ["-p", "2222"]
            invoke.remoteEnvironment = ["TERM=dumb"]
            invoke.durable = true
            invoke.deploy = true
            invoke.timeout = 60
            invoke.after = [2]
            invoke.afterAny = [3]
            invoke.notBefore = time
            invoke.group = "fleet"
            invoke.maxOutput = 1 << 20
            invoke.stopGrace = 5
            return Request(invoke)
        case .sessionStart:
            return Request(SessionStartRequest(command: "make", name: "build", sessions: ["ops", "3"], asInvoke: true))
        case .startQueued:
            var start = request(.start).payload as! StartRequest
            start.timeout = 900
            start.after = [1, 3]
            start.afterAny = [5]
            start.notBefore = time
            start.group = "build"
            start.maxOutput = 1 << 30
            return Request(QueuedStartRequest(start))
        case .shutdown: return Request(ShutdownRequest())
        case .start:
            var start = StartRequest(
                command: "sleep 1; echo done", name: "nightly", workingDirectory: "/srv", environment: ["A=1", "B="],
                shell: "/bin/bash", hasInput: true, umask: 0o027)
            start.computers = ["web01", "web02"]
            start.throttleLimit = 4
            start.sshOptions = ["-p", "2222"]
            start.remoteEnvironment = ["TERM=dumb"]
            start.sessions = ["ops"]
            return Request(start)
        case .get:
            var get = GetRequest(selection)
            get.includeChildren = true
            get.childrenOf = "11"
            get.command = "make*"
            get.hasMoreData = false
            get.before = time
            get.after = time.addingTimeInterval(-3600)
            get.newest = 20
            return Request(get)
        case .receive:
            var receive = ReceiveRequest(selection)
            receive.keep = true
            receive.fromStart = true
            receive.noRecurse = true
            return Request(receive)
        case .advance:
            return Request(AdvanceRequest([ReadAdvance(instanceId: "4c1e0b9e-2", output: 4096, error: -1)]))
        case .wait: return Request(WaitRequest(selection, any: true, timeout: 2.5))
        case .waitEvent: return Request(WaitEventRequest(after: 1 << 40, timeout: 10))
        case .stop: return Request(StopRequest(selection, grace: 0.5))
        case .remove: return Request(RemoveRequest(selection, force: true, grace: 3))
        case .sessionNew:
            var session = SessionNewRequest()
            session.computers = ["localhost", "web01"]
            session.name = "ops"
            session.shell = "/bin/bash"
            session.sshOptions = ["-4"]
            session.workingDirectory = "/srv"
            session.environment = ["A=1"]
            session.umask = 0o077
            return Request(session)
        case .sessionGet: return Request(SessionGetRequest(["ops", "2"]))
        case .sessionRemove: return Request(SessionRemoveRequest(["ops"], force: true, grace: 1))
        case .groupSet: return Request(GroupSetRequest(["build"], limit: 4, paused: false))
        case .groupGet: return Request(GroupGetRequest(["build", "default"]))
        case .groupRemove: return Request(GroupRemoveRequest(["build"]))
        case .suspend: return Request(SuspendRequest(selection))
        case .rename: return Request(RenameRequest(selection, to: "nightly"))
        case .resume: return Request(ResumeRequest(selection))
        case .signal: return Request(SignalRequest(selection, signal: 1))
        case .restart: return Request(RestartRequest(selection, failedOnly: true, keepHistory: true))
        }
    }

    static func reply(_ verb: Verb) -> any TaggedMessage {
        switch verb {
        case .status:
            return AgentStatus(
                pid: 777, socket: "/h/agent.sock", home: "/h", version: "0.1.0", protocolVersion: 5,
                jobs: ["Running": 2, "Completed": 40], startTime: time)
        case .start, .startQueued, .invoke, .sessionStart, .schedulerStart: return StartReply(job: record)
        case .get, .stop, .remove, .suspend, .resume, .signal, .restart, .rename:
            return JobsReply(jobs: [record], problems: ["no job has Id 99"])
        case .receive:
            var reply = ReceiveReply()
            reply.streams = [grant]
            reply.problems = ["no job is named 'x'"]
            reply.generation = 99
            return reply
        case .advance, .shutdown: return EmptyReply()
        case .wait:
            var reply = WaitReply()
            reply.jobs = [record]
            reply.problems = ["no job has Id 99"]
            reply.timedOut = true
            return reply
        case .waitEvent: return WaitEventReply(generation: 1 << 40 + 1)
        case .sessionNew, .sessionGet, .sessionRemove:
            return SessionsReply(sessions: [session], problems: ["could not open a session on web02: refused"])
        case .groupSet, .groupGet, .groupRemove:
            return GroupsReply(
                groups: [GroupRecord(name: "build", limit: 4, paused: true, running: 4, queued: 12)],
                problems: ["no group is named 'x'"])
        }
    }

    static func requestFrame(_ verb: Verb) -> [UInt8] {
        var encoder = WireEncoder()
        Frame.writeRequest(request(verb).payload, to: &encoder)
        return encoder.bytes
    }

    static func replyFrame(_ verb: Verb) -> [UInt8] {
        var encoder = WireEncoder()
        Frame.writeReply(reply(verb), verb: verb.rawValue, to: &encoder)
        return encoder.bytes
    }

    static var failureFrame: [UInt8] {
        var encoder = WireEncoder()
        Frame.writeFailure(Failure(.refused, "the command is empty"), verb: "start", to: &encoder)
        return encoder.bytes
    }

    static var rows: [UInt8] { JobRows.encode([record, JobRecord()]) }
    /// The rows of a SlurmJob's children (protocol 8), as their own golden frame.
    static var slurmRows: [UInt8] { JobRows.encode([slurmRecord]) }

    /// Every golden frame of this version, by file name.
    static var frames: [(String, [UInt8])] {
        Verb.allCases.flatMap { verb in
            [("\(verb.rawValue).request", requestFrame(verb)), ("\(verb.rawValue).reply", replyFrame(verb))]
        } + [("failure.reply", failureFrame), ("rows", rows), ("slurmRows", slurmRows)]
    }
}

/// Reads a reply frame as the reply of `verb`'s request type and compares it with `expected`.
func replyMatches(_ body: [UInt8], _ verb: Verb, _ expected: any TaggedMessage) throws -> Bool {
    func check<R: AgentRequest>(_ type: R.Type) throws -> Bool {
        guard case .success(let reply) = try Frame.readReply(body, for: type) else { return false }
        return reply == (expected as? R.Reply)
    }
    return try check(verb.requestType)
}

func readRequest(_ body: [UInt8]) throws -> Request {
    var incoming = try Frame.readRequest(body)
    return try incoming.request().get()
}

@Suite("the protocol: golden frames, round trips and versions one apart")
struct ProtocolTests {
    static let goldenFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Golden")
    static var currentFolder: URL { goldenFolder.appendingPathComponent("v\(ProtocolVersion.current)") }

    static func hex(_ bytes: [UInt8]) -> String {
        stride(from: 0, to: bytes.count, by: 32).map { start in
            bytes[start..<min(start + 32, bytes.count)].map { String(format: "%02x", $0) }.joined()
        }.joined(separator: "\n") + "\n"
    }

    static func bytes(hex text: String) -> [UInt8] {
        let digits = Array(text.filter(\.isHexDigit))
        return stride(from: 0, to: digits.count - 1, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
    }

    static func golden(_ name: String, in folder: URL) throws -> [UInt8] {
        bytes(hex: try String(contentsOf: folder.appendingPathComponent(name + ".hex"), encoding: .utf8))
    }

    @Test("a durable start's fields go and come back; they are written only when set")
    func durableStartFields() throws {
        let plain = StartRequest(command: "make", workingDirectory: "/", environment: ["A=1"])
        var durable = plain
        durable.durable = true
        durable.deploy = true
        durable.instanceId = "0b7e6a2c-5f44-4d7b-9a53-0d4f1c2e9b10"
        let back = try StartRequest(decodingFields: durable.encodedFields())
        #expect(back.durable && back.deploy && back.instanceId == durable.instanceId && back.command == "make")
        let again = try StartRequest(decodingFields: plain.encodedFields())
        #expect(!again.durable && !again.deploy && again.instanceId == nil)
        #expect(durable.encodedFields().count > plain.encodedFields().count)
    }

    @Test("a mirror frame's header is read back; a stream that is not frames is refused")
    func mirrorFrameHeaders() {
        let header = MirrorFrame.header(MirrorFrame.output, length: 70_000)
        #expect(MirrorFrame.parse(header[...])?.kind == MirrorFrame.output)
        #expect(MirrorFrame.parse(header[...])?.length == 70_000)
        #expect(MirrorFrame.parse(Array("sh: 1".utf8)[...]) == nil)
        #expect(MirrorFrame.parse(MirrorFrame.header(MirrorFrame.error, length: MirrorFrame.largest + 1)[...]) == nil)
    }

    /// `JOB_WRITE_GOLDEN=1 swift test --filter ProtocolTests` writes this version's frames;
    /// check them in, and keep the folders of earlier versions, which must go on decoding.
    @Test("this version writes exactly the golden frames checked in for it")
    func writesGoldenFrames() throws {
        if ProcessInfo.processInfo.environment["JOB_WRITE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: Self.currentFolder, withIntermediateDirectories: true)
            for (name, bytes) in GoldenSamples.frames {
                try Self.hex(bytes).write(
                    to: Self.currentFolder.appendingPathComponent(name + ".hex"), atomically: true, encoding: .utf8)
            }
        }
        for (name, bytes) in GoldenSamples.frames {
            #expect(try Self.golden(name, in: Self.currentFolder) == bytes, "\(name) changed")
        }
    }

    /// The compatibility check: the frames of every version since the tagged encoding began
    /// decode into the samples (a field added since then keeps its default in both).
    @Test("the golden frames of every version decode into their messages")
    func readsGoldenFrames() throws {
        let versions = try FileManager.default.contentsOfDirectory(atPath: Self.goldenFolder.path).filter {
            $0.hasPrefix("v")
        }
        #expect(versions.contains("v\(ProtocolVersion.current)"))
        for version in versions {
            let folder = Self.goldenFolder.appendingPathComponent(version)
            // A version knows the verbs it had; the current one must have a frame for each.
            let verbs = Verb.allCases.filter {
                version == "v\(ProtocolVersion.current)"
                    || FileManager.default.fileExists(
                        atPath: folder.appendingPathComponent("\($0.rawValue).request.hex").path)
            }
            for verb in verbs {
                #expect(
                    try readRequest(try Self.golden("\(verb.rawValue).request", in: folder))
                        == GoldenSamples.request(verb), "\(version) \(verb) request")
                #expect(
                    try replyMatches(
                        try Self.golden("\(verb.rawValue).reply", in: folder), verb, GoldenSamples.reply(verb)),
                    "\(version) \(verb) reply")
            }
            let failure = try Frame.readReply(try Self.golden("failure.reply", in: folder), for: StartRequest.self)
            #expect(throws: Failure(.refused, "the command is empty")) { try failure.get() }
            #expect(try JobRows.decode(try Self.golden("rows", in: folder)) == [GoldenSamples.record, JobRecord()])
            // Since 8: a Slurm child's row says its id there.
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("slurmRows.hex").path) {
                #expect(try JobRows.decode(try Self.golden("slurmRows", in: folder)) == [GoldenSamples.slurmRecord])
            }
        }
    }

    @Test("every request and reply round-trips, with every field set at random", arguments: Verb.allCases)
    func roundTrip(verb: Verb) throws {
        var maker = MessageMaker(seed: UInt64(verb.hashValue & 0xFFFF))
        for _ in 0..<200 {
            let request = maker.request(verb)
            #expect(try readRequest(maker.frame(request)) == request)
            let reply = maker.reply(verb)
            var encoder = WireEncoder()
            Frame.writeReply(reply, verb: verb.rawValue, to: &encoder)
            #expect(try replyMatches(encoder.bytes, verb, reply))
            // A failure in place of the reply, with a code this version may not know.
            let failure = Failure(Failure.Code(maker.text()), maker.text())
            var refused = WireEncoder()
            Frame.writeFailure(failure, verb: verb.rawValue, to: &refused)
            #expect(try Frame.readReply(refused.bytes, for: GetRequest.self) == .failure(failure))
        }
    }

    @Test("a reply made of records encoded before is the same bytes as the reply of those records")
    func preEncodedReply() throws {
        var maker = MessageMaker(seed: 11)
        for count in [0, 1, 30] {
            let records = (0..<count).map { _ in maker.record() }
            var expected = WireEncoder()
            Frame.writeReply(JobsReply(jobs: records, problems: ["p"]), verb: "get", to: &expected)
            var made = EncodedJobsReply()
            made.jobs =
                records.isEmpty
                ? nil
                : PreEncoded(
                    elements: records.map { record in
                        var encoder = WireEncoder()
                        record.encode(into: &encoder)
                        return encoder.bytes
                    })
            made.problems = ["p"]
            var actual = WireEncoder()
            Frame.writeReply(made, verb: "get", to: &actual)
            #expect(actual.bytes == expected.bytes)
            #expect(try Frame.readReply(actual.bytes, for: GetRequest.self).get().jobs == records)
        }
    }

    @Test("a get's reply read as table rows gives each record's columns; a rows request is the get's bytes")
    func tableRows() throws {
        var maker = MessageMaker(seed: 13)
        for count in [0, 1, 40] {
            let records = (0..<count).map { _ in maker.record() }
            var encoder = WireEncoder()
            Frame.writeReply(JobsReply(jobs: records, problems: ["p"]), verb: "get", to: &encoder)
            let rows = try Frame.readReply(encoder.bytes, for: GetRowsRequest.self).get()
            #expect(rows.jobs == records.map(JobRow.init) && rows.problems == ["p"])
            // A row written alone reads back as itself.
            for row in rows.jobs {
                var rowEncoder = WireEncoder()
                row.encode(into: &rowEncoder)
                var decoder = WireDecoder(rowEncoder.bytes)
                #expect(try JobRow.decode(from: &decoder) == row)
            }
            guard let get = maker.request(.get).payload as? GetRequest else { continue }
            var rowsFrame = WireEncoder()
            Frame.writeRequest(GetRowsRequest(get), to: &rowsFrame)
            #expect(rowsFrame.bytes == maker.frame(Request(get)))
        }
    }

    @Test("job rows round-trip, every field at random")
    func rowsRoundTrip() throws {
        var maker = MessageMaker(seed: 7)
        for count in [0, 1, 2, 50] {
            let records = (0..<count).map { _ in maker.record() }
            #expect(try JobRows.decode(JobRows.encode(records)) == records)
        }
    }

    /// What a newer sender adds (fields with tags this version lacks, in the envelope and in
    /// the payload and in a nested record) is passed over.
    @Test("fields from a newer version are skipped")
    func newerFieldsSkipped() throws {
        let start = GoldenSamples.request(.start)
        var payload = WireEncoder()
        payload.raw(start.payload.encodedFields())
        Self.unknownFields(&payload, from: 40)
        var frame = handWrittenFrame(version: ProtocolVersion.current + 1, verb: "start", payload: payload.bytes)
        // Header fields after 5 (what a request needs, since protocol 7).
        Self.unknownFields(&frame, from: 6)
        #expect(try readRequest(frame.bytes) == start)

        // A record with a field added after `computer` (18), inside a reply.
        var record = WireEncoder()
        record.raw(GoldenSamples.record.encodedFields())
        Self.unknownFields(&record, from: 40)
        var startReply = WireEncoder()
        startReply.raw([1 << 3 | 2])
        startReply.lengthPrefixed { $0.raw(record.bytes) }
        let reply = handWrittenFrame(version: ProtocolVersion.current + 1, verb: "start", payload: startReply.bytes)
        #expect(try Frame.readReply(reply.bytes, for: StartRequest.self).get() == StartReply(job: GoldenSamples.record))
    }

    /// One field of each kind, with tags from `tag` up.
    static func unknownFields(_ encoder: inout WireEncoder, from tag: Int) {
        var number = -42
        var text = "from the future"
        var fraction = 0.5
        var list = [1, 2, 3]
        encoder.value(tag, &number)
        encoder.value(tag + 1, &text)
        encoder.value(tag + 2, &fraction)
        encoder.array(tag + 30, &list)
    }

    /// What an older sender did not have is defaulted: a start request of only a command and
    /// a working directory.
    @Test("fields an older version lacks get their defaults")
    func olderFieldsDefaulted() throws {
        var payload = WireEncoder()
        var command = "make"
        var folder = "/srv"
        payload.value(1, &command)
        payload.value(3, &folder)
        let frame = handWrittenFrame(verb: "start", payload: payload.bytes)
        let expected = StartRequest(command: "make", workingDirectory: "/srv", environment: [])
        #expect(try readRequest(frame.bytes) == Request(expected))
        #expect(expected.shell == "/bin/sh" && expected.umask == 0o022 && expected.throttleLimit == 0)
        // A reply with no payload at all: every field defaulted.
        let empty = handWrittenFrame(verb: "wait")
        #expect(try Frame.readReply(empty.bytes, for: WaitRequest.self).get() == WaitReply())
    }

    @Test("a request that needs what this side lacks is refused, naming it and both versions; one it has is read")
    func needs() throws {
        var payload = WireEncoder()
        var start = StartRequest(command: "make", workingDirectory: "/", environment: [])
        start.fields(&payload)
        // The frame of a newer client: its verb, its payload, and field 5, what it needs.
        func frame(needing needs: [String]) -> [UInt8] {
            var encoder = handWrittenFrame(version: ProtocolVersion.current + 1, verb: "start", payload: payload.bytes)
            var needs = needs
            encoder.array(5, &needs)
            return encoder.bytes
        }
        var incoming = try Frame.readRequest(frame(needing: ["teleport", Capability.instanceId]))
        guard case .failure(let failure) = incoming.request() else { throw TestFailure("a lacking agent accepted it") }
        #expect(failure.code == .unsupported)
        #expect(failure.message.contains("teleport") && !failure.message.contains(Capability.instanceId))
        #expect(failure.message.contains("protocol \(ProtocolVersion.current + 1)"))
        var known = try Frame.readRequest(frame(needing: [Capability.instanceId]))
        #expect(try known.request().get() == Request(start))
        // A start that names its InstanceId says it needs that; one that does not, nothing.
        start.instanceId = "0b7e6a2c-5f44-4d7b-9a53-0d4f1c2e9b10"
        var written = WireEncoder()
        Frame.writeRequest(start, to: &written)
        var read = try Frame.readRequest(written.bytes)
        #expect(try read.request().get() == Request(start))
        #expect(start.needs == [Capability.instanceId])
        #expect(StartRequest().needs.isEmpty && InvokeRequest().needs.isEmpty)
    }

    @Test("a verb this side lacks is refused with a message naming both versions")
    func unknownVerb() throws {
        let frame = handWrittenFrame(version: ProtocolVersion.current + 1, verb: "teleport")
        var incoming = try Frame.readRequest(frame.bytes)
        #expect(incoming.verb == nil)
        guard case .failure(let failure) = incoming.request() else { throw TestFailure("an unknown verb was accepted") }
        #expect(failure.code == .unknownVerb)
        #expect(failure.message.contains("'teleport'"))
        #expect(failure.message.contains("protocol \(ProtocolVersion.current)"))
        #expect(failure.message.contains("protocol \(ProtocolVersion.current + 1)"))
    }

    @Test("a frame of protocol 4 is recognised, and an answer in its encoding is read as one")
    func legacyFrames() throws {
        // Protocol 4 began with the version as eight little-endian bytes, then the operation.
        var legacy: [UInt8] = [4, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]
        legacy += Array("get".utf8)
        #expect(throws: Frame.LegacyRequest.self) { try Frame.readRequest(legacy) }
        var answer = WireEncoder()
        Frame.writeLegacyFailure("this agent speaks protocol 4 and the client 5", to: &answer)
        guard case .failure(let failure) = try Frame.readReply(answer.bytes, for: GetRequest.self) else {
            throw TestFailure("a protocol 4 answer was not read as a failure")
        }
        #expect(failure.message.contains("older protocol"))
        #expect(failure.message.contains("job agent stop"))
        let rows = Array("JOBROWS\n".utf8) + [4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        #expect(throws: JobRows.Unreadable.self) { try JobRows.decode(rows) }
        do {
            _ = try JobRows.decode(rows)
        } catch {
            #expect(error.description.contains("protocol version 4"))
        }
    }

    @Test("a reply to another verb, a wrong kind or a cut frame is malformed, not misread")
    func mismatches() throws {
        let getReply = GoldenSamples.replyFrame(.get)
        #expect(throws: Malformed.self) { try Frame.readReply(getReply, for: WaitRequest.self) }
        #expect(throws: Malformed.self) { try Frame.readReply(Array(getReply.dropLast(3)), for: GetRequest.self) }
        // Field 1 (the version) sent as text.
        var wrongKind = WireEncoder()
        var text = "5"
        wrongKind.value(1, &text)
        #expect(throws: Malformed.self) { try Frame.readRequest(wrongKind.bytes) }
        // NaN where a number is due.
        var timeout = WireEncoder()
        var notANumber = Double.nan
        timeout.value(3, &notANumber)
        let nan = handWrittenFrame(verb: "wait", payload: timeout.bytes)
        var incoming = try Frame.readRequest(nan.bytes)
        guard case .failure(let failure) = incoming.request() else { throw TestFailure("NaN was accepted") }
        #expect(failure.code == .badRequest)
        #expect(failure.message.contains("not finite"))
    }
}
