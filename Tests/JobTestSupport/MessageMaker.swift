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

/// A small seeded generator (SplitMix64), so that a failing run can be repeated by its seed.
package struct SeededGenerator: RandomNumberGenerator {
    package var state: UInt64
    package init(state: UInt64) { self.state = state }
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Messages with random fields, every operation and every optional part.
package struct MessageMaker {
    package var random: SeededGenerator
    package init(seed: UInt64) { random = SeededGenerator(state: seed) }

    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }

    /// A number of seconds or a time: the wire takes none beyond ±1e11, so the extremes are those.
    mutating func number() -> Double {
        [-1, 0, 1e11, -1e11, 0.5, Double.random(in: -1e6...1e6, using: &random)]
            .randomElement(using: &random)!
    }

    mutating func integer() -> Int {
        [Int.min, -1, 0, 1, Int.max, Int.random(in: -1000...1_000_000, using: &random)].randomElement(using: &random)!
    }

    package mutating func text() -> String {
        let count = chance(1) ? Int.random(in: 0...2000, using: &random) : Int.random(in: 0...8, using: &random)
        let scalars = (0..<count).map { _ -> Character in
            let value =
                chance(80)
                ? UInt32.random(in: 0x20...0x7E, using: &random) : UInt32.random(in: 0...0x10FFFF, using: &random)
            return Character(Unicode.Scalar(value) ?? "?")
        }
        return String(scalars)
    }

    mutating func texts() -> [String] { (0..<Int.random(in: 0...4, using: &random)).map { _ in text() } }

    mutating func selection() -> JobSelection {
        JobSelection(selectors: texts(), names: texts(), states: chance(30) ? [.running, .failed] : [])
    }

    mutating func maybe<T>(_ percent: Int, _ make: (inout MessageMaker) -> T) -> T? {
        chance(percent) ? make(&self) : nil
    }

    mutating func many<T>(_ most: Int, _ make: (inout MessageMaker) -> T) -> [T] {
        (0..<Int.random(in: 0...most, using: &random)).map { _ in make(&self) }
    }

    mutating func time() -> Date { Date(timeIntervalSince1970: number()) }

    /// A request of every verb in turn, its fields filled at random.
    package mutating func request(_ verb: Verb? = nil) -> Request {
        switch verb ?? Verb.allCases.randomElement(using: &random)! {
        case .status: return Request(StatusRequest())
        case .invoke:
            var invoke = InvokeRequest()
            invoke.command = text()
            invoke.name = maybe(50) { $0.text() }
            invoke.workingDirectory = text()
            invoke.environment = texts()
            invoke.umask = integer()
            invoke.hasInput = chance(10)
            invoke.computers = texts()
            invoke.throttleLimit = integer()
            invoke.sshOptions = texts()
            invoke.remoteEnvironment = texts()
            invoke.durable = chance(30)
            invoke.deploy = chance(10)
            invoke.timeout = maybe(30) { $0.number() }
            invoke.after = many(2) { $0.integer() }
            invoke.group = maybe(30) { $0.text() }
            return Request(invoke)
        case .schedulerStart:
            var start = SchedulerStartRequest()
            start.command = text()
            start.name = maybe(50) { $0.text() }
            start.workingDirectory = text()
            start.environment = texts()
            start.umask = integer()
            start.scheduler = text()
            start.tasks = integer()
            start.throttle = integer()
            start.options = texts()
            start.timeout = maybe(30) { $0.number() }
            start.after = many(2) { $0.integer() }
            start.afterAny = many(2) { $0.integer() }
            return Request(start)
        case .sessionStart:
            return Request(
                SessionStartRequest(
                    command: text(), name: maybe(50) { $0.text() }, sessions: texts(), asInvoke: chance(50)))
        case .startQueued:
            let start = request(.start).payload as! StartRequest
            return Request(QueuedStartRequest(start))
        case .shutdown: return Request(ShutdownRequest())
        case .start:
            var start = StartRequest(
                command: text(), name: maybe(50) { $0.text() }, workingDirectory: text(), environment: texts(),
                shell: text(), hasInput: chance(10), umask: integer())
            start.computers = texts()
            start.throttleLimit = integer()
            start.sshOptions = texts()
            start.remoteEnvironment = texts()
            start.sessions = texts()
            start.timeout = maybe(30) { $0.number() }
            start.after = many(2) { $0.integer() }
            start.afterAny = many(2) { $0.integer() }
            start.notBefore = maybe(30) { $0.time() }
            start.group = maybe(30) { $0.text() }
            start.maxOutput = maybe(30) { Int64($0.integer()) }
            start.stopGrace = maybe(30) { $0.number() }
            return Request(start)
        case .get:
            var get = GetRequest(selection())
            get.includeChildren = chance(50)
            get.childrenOf = maybe(30) { $0.text() }
            get.command = maybe(30) { $0.text() }
            get.hasMoreData = maybe(30) { $0.chance(50) }
            get.before = maybe(30) { $0.time() }
            get.group = maybe(30) { $0.text() }
            get.after = maybe(30) { $0.time() }
            get.newest = maybe(30) { $0.integer() }
            return Request(get)
        case .receive:
            var receive = ReceiveRequest(selection())
            receive.keep = chance(50)
            receive.fromStart = chance(50)
            receive.noRecurse = chance(50)
            return Request(receive)
        case .advance:
            return Request(
                AdvanceRequest(
                    many(3) {
                        ReadAdvance(instanceId: $0.text(), output: Int64($0.integer()), error: Int64($0.integer()))
                    }))
        case .wait:
            return Request(WaitRequest(selection(), any: chance(50), timeout: maybe(70) { $0.number() }))
        case .waitEvent:
            return Request(
                WaitEventRequest(
                    after: UInt64.random(in: 0...UInt64.max, using: &random), timeout: maybe(50) { $0.number() }))
        case .stop: return Request(StopRequest(selection(), grace: number(), signal: maybe(30) { $0.integer() }))
        case .remove:
            return Request(
                RemoveRequest(selection(), force: chance(50), grace: number(), olderThan: maybe(30) { $0.number() }))
        case .sessionNew:
            var session = SessionNewRequest()
            session.computers = texts()
            session.name = maybe(50) { $0.text() }
            session.shell = text()
            session.sshOptions = texts()
            session.workingDirectory = text()
            session.environment = texts()
            session.umask = integer()
            return Request(session)
        case .sessionGet: return Request(SessionGetRequest(texts()))
        case .sessionRemove: return Request(SessionRemoveRequest(texts(), force: chance(50), grace: number()))
        case .groupSet:
            return Request(
                GroupSetRequest(texts(), limit: maybe(50) { $0.integer() }, paused: maybe(50) { $0.chance(50) }))
        case .groupGet: return Request(GroupGetRequest(texts()))
        case .groupRemove: return Request(GroupRemoveRequest(texts()))
        case .suspend: return Request(SuspendRequest(selection()))
        case .rename: return Request(RenameRequest(selection(), to: text()))
        case .resume: return Request(ResumeRequest(selection()))
        case .signal: return Request(SignalRequest(selection(), signal: integer()))
        case .restart: return Request(RestartRequest(selection(), failedOnly: chance(50), keepHistory: chance(50)))
        }
    }

    package mutating func record() -> JobRecord {
        var record = JobRecord(
            id: integer(), parentId: maybe(50) { $0.integer() }, childIds: [integer(), integer()], name: text(),
            instanceId: text(), type: text(), state: JobState.allCases.randomElement(using: &random)!,
            hasMoreData: chance(50), location: text(), command: text(), workingDirectory: text(),
            reason: maybe(50) { $0.text() }, exitStatus: maybe(50) { $0.integer() }, signal: maybe(50) { $0.integer() },
            pid: maybe(50) { $0.integer() }, beginTime: maybe(50) { _ in Date(timeIntervalSince1970: 1e9) },
            endTime: maybe(50) { _ in Date(timeIntervalSince1970: 1.5e9 + 0.25) }, computer: maybe(50) { $0.text() })
        record.group = maybe(30) { $0.text() }
        record.timeout = maybe(30) { $0.number() }
        record.after = many(2) { $0.integer() }
        record.afterAny = many(2) { $0.integer() }
        record.startAt = maybe(30) { $0.time() }
        record.maxOutput = maybe(30) { Int64($0.integer()) }
        record.restarts = maybe(30) { $0.integer() }
        record.history = many(2) { $0.text() }
        record.schedulerJobId = maybe(30) { $0.text() }
        return record
    }

    package mutating func grant() -> StreamGrant {
        var grant = StreamGrant(
            id: integer(), instanceId: text(), name: text(), computer: text(), outputPath: text(), errorPath: text(),
            outputOffset: Int64(integer()), errorOffset: Int64(integer()),
            state: JobState.allCases.randomElement(using: &random)!, reason: maybe(50) { $0.text() },
            exitStatus: maybe(50) { $0.integer() }, signal: maybe(50) { $0.integer() })
        grant.outputEnd = Int64(integer())
        grant.errorEnd = Int64(integer())
        grant.timedOut = maybe(30) { $0.chance(50) }
        grant.schedulerJobId = maybe(30) { $0.text() }
        return grant
    }

    package mutating func session() -> SessionRecord {
        SessionRecord(
            id: integer(), name: text(), computerName: text(),
            state: SessionState.allCases.randomElement(using: &random)!,
            availability: SessionAvailability.allCases.randomElement(using: &random)!, jobCount: integer(),
            shell: text(), reason: maybe(50) { $0.text() })
    }

    /// A reply of the verb's type, its fields filled at random.
    package mutating func reply(_ verb: Verb) -> any TaggedMessage {
        switch verb {
        case .status:
            return AgentStatus(
                pid: integer(), socket: text(), home: text(), version: text(), protocolVersion: integer(),
                jobs: [text(): integer(), "Running": integer()], startTime: Date(timeIntervalSince1970: 1e9))
        case .start, .startQueued, .invoke, .sessionStart, .schedulerStart: return StartReply(job: record())
        case .get, .stop, .remove, .suspend, .resume, .signal, .restart, .rename:
            return JobsReply(jobs: many(3) { $0.record() }, problems: texts())
        case .receive:
            var reply = ReceiveReply()
            reply.streams = many(2) { $0.grant() }
            reply.problems = texts()
            reply.generation = UInt64.random(in: 0...UInt64.max, using: &random)
            return reply
        case .advance, .shutdown: return EmptyReply()
        case .wait:
            var reply = WaitReply()
            reply.jobs = many(3) { $0.record() }
            reply.problems = texts()
            reply.timedOut = chance(50)
            return reply
        case .waitEvent: return WaitEventReply(generation: UInt64.random(in: 0...UInt64.max, using: &random))
        case .sessionNew, .sessionGet, .sessionRemove:
            return SessionsReply(sessions: many(3) { $0.session() }, problems: texts())
        case .groupSet, .groupGet, .groupRemove:
            return GroupsReply(
                groups: many(3) {
                    GroupRecord(
                        name: $0.text(), limit: $0.integer(), paused: $0.chance(50), running: $0.integer(),
                        queued: $0.integer())
                }, problems: texts())
        }
    }

    /// A request frame's body.
    package mutating func requestFrame(_ verb: Verb? = nil) -> [UInt8] { frame(request(verb)) }

    package func frame(_ request: Request) -> [UInt8] {
        var encoder = WireEncoder()
        Frame.writeRequest(request.payload, to: &encoder)
        return encoder.bytes
    }

    /// A reply frame's body: a reply of the verb, or now and then a failure.
    package mutating func replyFrame(_ verb: Verb) -> [UInt8] {
        var encoder = WireEncoder()
        if chance(10) {
            Frame.writeFailure(Failure(Failure.Code(text()), text()), verb: verb.rawValue, to: &encoder)
        } else {
            Frame.writeReply(reply(verb), verb: verb.rawValue, to: &encoder)
        }
        return encoder.bytes
    }

    /// A message's bytes, changed the way a broken or hostile peer would: cut short, bytes
    /// flipped, a length or count replaced by a huge, negative or random value, bytes inserted,
    /// two messages spliced.
    package mutating func mutate(_ bytes: [UInt8], other: [UInt8]) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            switch Int.random(in: 0..<6, using: &random) {
            case 0:
                bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random)))
            case 1 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            case 2 where bytes.count >= 8:
                let at = Int.random(in: 0...(bytes.count - 8), using: &random)
                let value = [
                    Int64.max, Int64.min, -1, 1 << 40, Int64(bytes.count), Int64.random(in: -9...9999, using: &random),
                ]
                .randomElement(using: &random)!
                withUnsafeBytes(of: value.littleEndian) { raw in
                    for index in 0..<8 { bytes[at + index] = raw[index] }
                }
            case 3:
                let at = Int.random(in: 0...bytes.count, using: &random)
                bytes.insert(
                    contentsOf: (0..<Int.random(in: 1...16, using: &random)).map { _ in
                        UInt8.random(in: 0...255, using: &random)
                    }, at: at)
            case 4:
                let cut = Int.random(in: 0...bytes.count, using: &random)
                bytes = Array(bytes.prefix(cut)) + other.suffix(Int.random(in: 0...other.count, using: &random))
            default:
                bytes = other
            }
        }
        return bytes
    }
}

/// A frame written by hand, as another version of `job` might write it: the version, the verb
/// and, when given, a payload of these bytes (a message's fields). More fields may follow.
package func handWrittenFrame(version: Int = ProtocolVersion.current, verb: String, payload: [UInt8]? = nil)
    -> WireEncoder
{
    var frame = WireEncoder()
    var version = version
    var verb = verb
    frame.value(1, &version)
    frame.value(2, &verb)
    if let payload {
        frame.raw([3 << 3 | 2])
        frame.lengthPrefixed { $0.raw(payload) }
    }
    return frame
}
