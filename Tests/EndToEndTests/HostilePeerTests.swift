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
import Foundation
import JobCore
import JobProtocol
import JobTestSupport
import Testing

/// A raw connection to a home's agent socket, to send what no well-behaved client sends.
func rawAgentConnection(_ home: TestHome) throws -> Int32 {
    let fd = cjob_unix_connect(home.path + "/agent.sock")
    guard fd >= 0 else { throw TestFailure("cannot connect to \(home.path)/agent.sock") }
    return fd
}

/// The agent's resident memory in bytes and its thread count, from /proc.
func agentResources(_ pid: Int32) throws -> (rss: Int, threads: Int) {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    func field(_ name: String) -> Int {
        let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
        return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? 0
    }
    return (field("VmRSS") * 1024, field("Threads"))
}

@Suite("hostile peers and a stopped agent", .timeLimit(.minutes(10)))
struct HostilePeerTests {
    /// Every numeric field of every request, set to each bad value.
    static let badNumbers: [Double] = [.nan, .infinity, -.infinity, -1, 1e300, -1e300]

    static func requests(with bad: Double) -> [any AgentRequest] {
        let one = JobSelection(selectors: ["1"])
        var get = GetRequest()
        get.before = Date(timeIntervalSince1970: bad)
        get.after = Date(timeIntervalSince1970: bad)
        get.newest = bad.isFinite ? Int(max(-1e18, min(1e18, bad))) : Int.min
        var start = StartRequest(command: "true", workingDirectory: "/", environment: [], umask: Int.min)
        start.throttleLimit = bad.isFinite && bad < 0 ? Int.min : Int.max
        return [
            WaitEventRequest(after: .max, timeout: bad), WaitRequest(one, timeout: bad), StopRequest(one, grace: bad),
            RemoveRequest(JobSelection(selectors: ["999"]), force: true, grace: bad), get,
            SessionRemoveRequest(["7"], grace: bad),
            AdvanceRequest([ReadAdvance(instanceId: "none", output: .min, error: .max)]), start,
        ]
    }

    @Test("NaN, infinities and out-of-range numbers in every numeric field are answered, never a crash")
    func badNumbersInEveryField() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "sleep 300")
        let agent = try #require(try home.agentPid())
        for bad in Self.badNumbers {
            for request in Self.requests(with: bad) {
                let channel = FrameChannel(fd: try rawAgentConnection(home))
                try channel.send { Frame.writeRequest(request, to: &$0) }
                channel.setReceiveTimeout(20)
                // An answer (an error or a result) or a closed connection; never a hang.
                _ = try? channel.receive()
                #expect(processIsLive(agent), "the agent died on \(type(of: request).verb) with \(bad)")
            }
        }
        #expect(try home.agentPid() == agent)
        #expect(try home.job("get", "1").status == 0)
    }

    @Test("silent and half-sent connections on every socket of ours hold up no other client")
    func silentPeers() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "sleep 300")
        let instance = try #require(try home.record(2)["instanceId"] as? String)
        var held: [Int32] = []
        defer { held.forEach { _ = close($0) } }
        // The agent: one that says nothing, one that stops inside a header, one inside a body.
        for bytes in [[], [0, 0], [0, 0, 0, 50, 1]] as [[UInt8]] {
            let fd = try rawAgentConnection(home)
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            held.append(fd)
        }
        // The supervisor, likewise.
        for bytes in [[], [1, 0, 0]] as [[UInt8]] {
            let fd = cjob_unix_connect(home.path + "/supervisor.sock")
            #expect(fd >= 0)
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            held.append(fd)
        }
        // The job's monitor: more silent peers than it keeps.
        for _ in 0..<12 {
            var peer: pid_t = 0
            let fd = cjob_monitor_connect(JobHome(path: home.path).monitorName(instance), &peer)
            #expect(fd >= 0)
            held.append(fd)
        }
        let began = Date()
        #expect(try home.job(["start", "--quiet", "echo through"], timeout: 15).stdout == "3\n")
        #expect(try home.job(["receive", "3", "--wait"], timeout: 15).stdout == "through\n")
        #expect(try home.job(["get"], timeout: 15).status == 0)
        #expect(try home.job(["stop", "1"], timeout: 15).status == 0)
        #expect(try home.record(2)["state"] as? String == "Stopped")
        // The agent was pushed out by the silent peers and came back: the exact end is known.
        #expect(try home.record(2)["signal"] as? Int == Int(SIGTERM))
        // The supervisor drops a half-sent request after 2 s; nothing waits much longer than
        // that (the bound has room for a loaded machine; a peer that held it would hold it for
        // good, and the 15 s limit of each verb above would fail first).
        #expect(Date().timeIntervalSince(began) < 20)
    }

    @Test("frames are capped before memory is taken, and connections past the bound are told so")
    func boundedMemoryAndThreads() throws {
        let home = try TestHome()
        #expect(try home.job("get").status == 0)
        let agent = try #require(try home.agentPid())
        let before = try agentResources(agent)
        var held: [Int32] = []
        defer { held.forEach { _ = close($0) } }
        // Twenty connections announce a 4 MB request (the largest allowed) and send nothing more.
        for _ in 0..<20 {
            let fd = try rawAgentConnection(home)
            let header: [UInt8] = [0, 0x40, 0, 0]
            _ = header.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            held.append(fd)
        }
        // One announces more than allowed: refused at once.
        let big = FrameChannel(fd: try rawAgentConnection(home))
        let oversized: [UInt8] = [0x10, 0, 0, 0]
        _ = oversized.withUnsafeBytes { write(big.fd, $0.baseAddress, $0.count) }
        big.setReceiveTimeout(10)
        let refusal = try #require(try big.receive()).body
        guard case .failure(let failure) = try Frame.readReply(refusal, for: GetRequest.self) else {
            throw TestFailure("an oversized frame was not refused")
        }
        #expect(failure.code == .badRequest)
        #expect(failure.message.contains("bad request"))
        // Idle connections up to the bound and past it.
        for _ in 0..<280 { held.append(try rawAgentConnection(home)) }
        try TestHome.eventually("the agent to take the connections") {
            try agentResources(agent).threads >= 250
        }
        let told = try home.job(["get"], timeout: 15)
        #expect(told.status == 1)
        #expect(told.stderr.contains("already serving 256 connections"))
        let during = try agentResources(agent)
        #expect(during.threads <= 256 + 8)
        #expect(during.rss - before.rss < 30 << 20, "the agent grew by \(during.rss - before.rss) bytes")
        held.forEach { _ = close($0) }
        held = []
        try TestHome.eventually("the connections to be served again") { try home.job(["get"], timeout: 15).status == 0 }
    }

    @Test("a stopped agent: every client gives up with a message that names it, and agent stop still stops it")
    func stoppedAgent() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "sleep 300")
        let agent = try #require(try home.agentPid())
        kill(agent, SIGSTOP)
        defer { kill(agent, SIGCONT) }
        let patience = ["JOB_AGENT_TIMEOUT": "2"]
        for arguments in [["get"], ["wait", "1", "--timeout", "1"], ["receive", "1", "--wait"], ["stop", "99"]] {
            let began = Date()
            let result = try home.job(arguments, environment: patience, timeout: 40)
            let took = Date().timeIntervalSince(began)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderr.contains("pid \(agent)"), "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("did not answer within 2 s"), "\(arguments): \(result.stderr)")
            // The time the request may take (a wait slice, a stop's grace) plus the 2 s of patience,
            // with room for a loaded machine: a client that waited for the stopped agent
            // forever would end only at the 40 s limit of `home.job`.
            #expect(took < (arguments[0] == "receive" ? 25 : arguments[0] == "stop" ? 25 : 12), "\(arguments): \(took)")
        }
        let stopped = try home.job(["agent", "stop"], environment: patience, timeout: 40)
        #expect(stopped.status == 0)
        try TestHome.eventually("the stopped agent to be gone") { !processIsLive(agent) }
        // Its job lives on under the next agent.
        #expect(try home.record(2)["state"] as? String == "Running")
    }
}

@Suite("a live agent under generated frames", .timeLimit(.minutes(10)))
struct LiveFuzzTests {
    @Test("two thousand mutated request frames: each answered or closed, and the agent serves on")
    func liveAgent() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "sleep 300")
        let agent = try #require(try home.agentPid())
        let seed = UInt64.random(in: 0...UInt64.max)
        var maker = MessageMaker(seed: seed)
        var corpus: [[UInt8]] = []
        for _ in 0..<50 {
            // Keep the agent's time: no waits, stops or shutdowns that would really happen.
            let harmless: [Verb] = [.status, .get, .receive, .advance, .sessionGet]
            corpus.append(maker.requestFrame(harmless.randomElement(using: &maker.random)!))
        }
        for index in 0..<2000 {
            let body = maker.mutate(corpus[index % corpus.count], other: corpus[(index * 7) % corpus.count])
            let fd = try rawAgentConnection(home)
            defer { close(fd) }
            // The length in front: usually the body's, sometimes a lie.
            var length = UInt32(body.count)
            if index % 5 == 0 { length = UInt32.random(in: 0...(8 << 20), using: &maker.random) }
            var frame = [
                UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF),
            ]
            frame += body
            _ = frame.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            shutdown(fd, Int32(SHUT_WR))
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 4096)
            while read(fd, &buffer, buffer.count) > 0 {}
            if index % 200 == 0 { #expect(processIsLive(agent), "seed \(seed), frame \(index)") }
        }
        print("live fuzz: 2000 frames (seed \(seed))")
        #expect(processIsLive(agent))
        #expect(try home.agentPid() == agent)
        #expect(try home.record(2)["state"] as? String == "Running")
    }
}

@Suite("a live agent and clients of other versions", .timeLimit(.minutes(10)))
struct VersionsTests {
    /// Sends `body` as one frame on a raw connection and returns the answer's body.
    static func exchange(_ channel: FrameChannel, _ body: [UInt8]) throws -> [UInt8] {
        try channel.send { $0.raw(body) }
        channel.setReceiveTimeout(20)
        return try #require(try channel.receive()).body
    }

    @Test("a newer client's unknown verb and fields: the verb refused naming both versions, the fields skipped")
    func newerClient() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "sleep 300")
        let channel = FrameChannel(fd: try rawAgentConnection(home))
        let frame = handWrittenFrame(version: ProtocolVersion.current + 1, verb: "teleport")
        let refused = try Self.exchange(channel, frame.bytes)
        guard case .failure(let failure) = try Frame.readReply(refused, for: GetRequest.self) else {
            throw TestFailure("the agent accepted the verb 'teleport'")
        }
        #expect(failure.code == .unknownVerb)
        #expect(failure.message.contains("protocol \(ProtocolVersion.current)"))
        #expect(failure.message.contains("protocol \(ProtocolVersion.current + 1)"))
        // The same connection goes on: a get with a field this agent does not know.
        var payload = WireEncoder()
        payload.raw(GetRequest(JobSelection(selectors: ["1"])).encodedFields())
        var future = "newest first"
        payload.value(40, &future)
        let get = handWrittenFrame(version: ProtocolVersion.current + 1, verb: "get", payload: payload.bytes)
        let answer = try Frame.readReply(try Self.exchange(channel, get.bytes), for: GetRequest.self).get()
        #expect(answer.jobs.map(\.id) == [1])
        #expect(answer.jobs.first?.state == .running)
    }

    @Test("a client of protocol 4 is told, in its own encoding, to stop the agent")
    func olderClient() throws {
        let home = try TestHome()
        #expect(try home.job("get").status == 0)
        let agent = try #require(try home.agentPid())
        let channel = FrameChannel(fd: try rawAgentConnection(home))
        var legacy: [UInt8] = [4, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]
        legacy += Array("get".utf8)
        let answer = try Self.exchange(channel, legacy)
        // Protocol 4's failure: a presence byte, an eight-byte length, the text.
        #expect(answer.first == 1)
        let text = String(decoding: answer.dropFirst(9), as: UTF8.self)
        #expect(text.contains("speaks protocol \(ProtocolVersion.current) and the client 4"))
        #expect(text.contains("job agent stop"))
        #expect(try home.agentPid() == agent)
    }
}
