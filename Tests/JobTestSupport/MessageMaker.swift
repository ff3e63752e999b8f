import Foundation
import JobCore
import JobProtocol

/// A small seeded generator (SplitMix64), so that a failing run can be repeated by its seed.
public struct SeededGenerator: RandomNumberGenerator {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Messages with random fields, every operation and every optional part.
public struct MessageMaker {
    public var random: SeededGenerator
    public init(seed: UInt64) { random = SeededGenerator(state: seed) }

    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }

    mutating func number() -> Double {
        [Double.nan, .infinity, -.infinity, -1, 0, 1e300, Double.random(in: -1e6...1e6, using: &random)]
            .randomElement(using: &random)!
    }

    mutating func integer() -> Int {
        [Int.min, -1, 0, 1, Int.max, Int.random(in: -1000...1_000_000, using: &random)].randomElement(using: &random)!
    }

    mutating func text() -> String {
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

    public mutating func request() -> Request {
        let ops: [JobProtocol.Operation] = [
            .status, .start, .get, .receive, .advance, .wait, .waitEvent, .stop, .remove, .shutdown, .sessionNew,
            .sessionGet, .sessionRemove,
        ]
        var request = Request(op: ops.randomElement(using: &random)!)
        if chance(50) { request.selection = selection() }
        if chance(40) {
            var start = StartRequest(
                command: text(), name: chance(50) ? text() : nil, workingDirectory: text(), environment: texts(),
                shell: text(), hasInput: chance(10), umask: integer())
            start.computers = texts()
            start.throttleLimit = integer()
            start.sshOptions = texts()
            start.remoteEnvironment = texts()
            start.sessions = texts()
            request.start = start
        }
        if chance(30) {
            var get = GetOptions()
            get.includeChildren = chance(50)
            get.childrenOf = chance(30) ? text() : nil
            get.command = chance(30) ? text() : nil
            get.hasMoreData = chance(30) ? chance(50) : nil
            get.before = chance(30) ? Date(timeIntervalSince1970: number()) : nil
            get.after = chance(30) ? Date(timeIntervalSince1970: number()) : nil
            get.newest = chance(30) ? integer() : nil
            request.get = get
        }
        if chance(30) {
            var receive = ReceiveOptions()
            receive.keep = chance(50)
            receive.fromStart = chance(50)
            receive.noRecurse = chance(50)
            request.receive = receive
        }
        if chance(30) {
            request.advance = (0..<Int.random(in: 0...3, using: &random)).map { _ in
                ReadAdvance(instanceId: text(), output: Int64(integer()), error: Int64(integer()))
            }
        }
        if chance(30) {
            var wait = WaitOptions()
            wait.any = chance(50)
            wait.timeout = chance(70) ? number() : nil
            request.wait = wait
        }
        if chance(30) {
            var stop = StopOptions()
            stop.grace = number()
            request.stop = stop
        }
        if chance(30) {
            var remove = RemoveOptions()
            remove.force = chance(50)
            request.remove = remove
        }
        if chance(30) { request.generation = UInt64.random(in: 0...UInt64.max, using: &random) }
        if chance(30) { request.timeout = number() }
        if chance(30) {
            var session = SessionRequest()
            session.computers = texts()
            session.name = chance(50) ? text() : nil
            session.shell = text()
            session.sshOptions = texts()
            session.workingDirectory = text()
            session.environment = texts()
            session.force = chance(50)
            session.grace = number()
            session.umask = integer()
            request.session = session
        }
        return request
    }

    public mutating func record() -> JobRecord {
        JobRecord(
            id: integer(), parentId: chance(50) ? integer() : nil, childIds: [integer(), integer()], name: text(),
            instanceId: text(), type: text(), state: .running, hasMoreData: chance(50), location: text(),
            command: text(), workingDirectory: text(), reason: chance(50) ? text() : nil,
            exitStatus: chance(50) ? integer() : nil, signal: chance(50) ? integer() : nil,
            pid: chance(50) ? integer() : nil, beginTime: chance(50) ? Date(timeIntervalSince1970: 1e9) : nil,
            endTime: nil, computer: chance(50) ? text() : nil)
    }

    public mutating func response() -> Response {
        var response = Response()
        if chance(20) { response.error = text() }
        if chance(30) { response.problems = texts() }
        if chance(50) { response.jobs = (0..<Int.random(in: 0...3, using: &random)).map { _ in record() } }
        if chance(30) {
            response.streams = (0..<Int.random(in: 0...2, using: &random)).map { _ in
                var grant = StreamGrant(
                    id: integer(), instanceId: text(), name: text(), computer: text(), outputPath: text(),
                    errorPath: text(), outputOffset: Int64(integer()), errorOffset: Int64(integer()), state: .completed,
                    reason: chance(50) ? text() : nil, exitStatus: chance(50) ? integer() : nil,
                    signal: chance(50) ? integer() : nil)
                grant.outputEnd = Int64(integer())
                return grant
            }
        }
        if chance(20) {
            response.status = AgentStatus(
                pid: integer(), socket: text(), home: text(), version: text(), protocolVersion: integer(),
                jobs: [text(): integer()], startTime: Date(timeIntervalSince1970: 1e9))
        }
        if chance(20) { response.timedOut = chance(50) }
        if chance(20) { response.generation = UInt64.random(in: 0...UInt64.max, using: &random) }
        return response
    }

    /// A message's bytes, changed the way a broken or hostile peer would: cut short, bytes
    /// flipped, a length or count replaced by a huge, negative or random value, bytes inserted,
    /// two messages spliced.
    public mutating func mutate(_ bytes: [UInt8], other: [UInt8]) -> [UInt8] {
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
