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

@testable import JobAgent

/// An agent in this test's process: the handlers are called as `serve` calls them, with the
/// supervisor, monitors and jobs real processes and the store a real SQLite file.
final class InProcessAgent: Sendable {
    let home: TestHome
    let agent: Agent

    init() throws {
        home = try TestHome()
        let agentExecutable = URL(fileURLWithPath: TestHome.binary).deletingLastPathComponent()
            .appendingPathComponent("job-agent").path
        agent = try Agent(
            home: JobHome(path: home.path), environment: home.environment, supervisorExecutable: agentExecutable)
        agent.keepJobs()
    }

    /// The reply of `request` as a client reads it (written as `serve` writes it, then read as
    /// its verb's reply); a failure is thrown.
    func reply<R: AgentRequest>(_ request: R, fds: [Int32] = [], connection: Int32 = -1) throws -> R.Reply {
        let wrapped = try Self.wrap(request)
        var encoder = WireEncoder()
        var answers: [Result<any TaggedMessage, Failure>] = []
        agent.respond(to: wrapped, fds: fds, connection: connection) { answers.append($0) }
        #expect(answers.count == 1, "each request is answered once")
        switch answers.first {
        case .success(let reply): Frame.writeReply(reply, verb: R.verb.rawValue, to: &encoder)
        case .failure(let failure): throw failure
        case nil: throw Failure(.badRequest, "no answer")
        }
        return try Frame.readReply(encoder.bytes, for: R.self).get()
    }

    /// The request as the agent reads it off the wire.
    static func wrap<R: AgentRequest>(_ request: R) throws -> Request {
        var encoder = WireEncoder()
        Frame.writeRequest(request, to: &encoder)
        var incoming = try Frame.readRequest(encoder.bytes)
        return try incoming.request().get()
    }

    func start(_ command: String, name: String? = nil) throws -> JobRecord {
        try reply(
            StartRequest(command: command, name: name, workingDirectory: "/", environment: ["PATH=/usr/bin:/bin"])
        )
        .job
    }

    func waitFor(_ job: JobRecord) throws -> [JobRecord] {
        try reply(WaitRequest(.job(job))).jobs
    }

    /// Ends the jobs still running, then the agent: its threads are joined and its
    /// descriptors closed.
    func close() {
        _ = try? reply(StopRequest(.every, grace: 0))
        agent.stop(connections: nil)
    }
}

@Suite("the agent's handlers, in process")
struct HandlerTests {
    @Test("start: the job is in the store when the reply comes, and runs under its monitor")
    func start() throws {
        let agent = try InProcessAgent()
        defer { agent.close() }
        let job = try agent.start("exit 4", name: "four")
        #expect(job.name == "four" && job.childIds == [job.id + 1])
        let stored = try agent.agent.registry.database.loadAll()
        #expect(stored.map(\.id).contains(job.id + 1))
        let done = try agent.waitFor(job)
        #expect(done.first?.state == .failed)
        let child = try agent.reply(GetRequest(.ids(job.childIds))).jobs.first
        #expect(child?.exitStatus == 4)
        // Refusals are failures with codes.
        #expect(throws: Failure(.refused, "the command is empty")) { try agent.start("") }
        var announced = StartRequest(command: "cat", workingDirectory: "/", environment: [])
        announced.hasInput = true
        do {
            _ = try agent.reply(announced)
            Issue.record("input announced and not attached was accepted")
        } catch let failure as Failure {
            #expect(failure.code == .badRequest)
        }
    }

    @Test("get: filters, the newest alone, children")
    func get() throws {
        let agent = try InProcessAgent()
        defer { agent.close() }
        var made: [JobRecord] = []
        for index in 0..<5 { made.append(try agent.start(index == 2 ? "echo two" : "true", name: "j\(index)")) }
        _ = try agent.reply(WaitRequest(.ids(made.map(\.id))))
        #expect(try agent.reply(GetRequest()).jobs.map(\.id) == made.map(\.id))
        var newest = GetRequest()
        newest.newest = 2
        #expect(try agent.reply(newest).jobs.map(\.id) == made.suffix(2).map(\.id))
        var command = GetRequest()
        command.command = "echo*"
        #expect(try agent.reply(command).jobs.map(\.name) == ["j2"])
        var children = GetRequest(.job(made[0]))
        children.includeChildren = true
        #expect(try agent.reply(children).jobs.map(\.id) == [made[0].id, made[0].id + 1])
        let missing = try agent.reply(GetRequest(.ids([999])))
        #expect(missing.jobs.isEmpty && missing.problems == ["no job has Id 999"])
    }

    @Test("wait: the finished jobs, or a timeout with the jobs waited for")
    func wait() throws {
        let agent = try InProcessAgent()
        defer { agent.close() }
        let quick = try agent.start("true")
        let slow = try agent.start("exec sleep 300")
        #expect(try agent.reply(WaitRequest(.job(quick))).jobs.map(\.state) == [.completed])
        let timedOut = try agent.reply(WaitRequest(.job(slow), timeout: 0.1))
        #expect(timedOut.timedOut && timedOut.jobs.map(\.state) == [.running])
        let any = try agent.reply(WaitRequest(.ids([quick.id, slow.id]), any: true))
        #expect(!any.timedOut && any.jobs.map(\.id) == [quick.id])
    }

    @Test("waitEvent: at once when something changed since, else at the timeout")
    func waitEvent() throws {
        let agent = try InProcessAgent()
        defer { agent.close() }
        let now = try agent.reply(WaitEventRequest(after: .max, timeout: 0)).generation
        #expect(try agent.reply(WaitEventRequest(after: now, timeout: 0.05)).generation == now)
        _ = try agent.start("true")
        #expect(try agent.reply(WaitEventRequest(after: now, timeout: 10)).generation != now)
    }

    @Test("receive and advance: each part claimed once; an advance hands back what was not read")
    func receive() throws {
        let agent = try InProcessAgent()
        defer { agent.close() }
        let job = try agent.start("printf 'hello\\n'; printf 'oops' >&2")
        _ = try agent.waitFor(job)
        let first = try agent.reply(ReceiveRequest(.job(job)), connection: 100)
        let grant = try #require(first.streams.first)
        #expect(grant.outputOffset == 0 && grant.outputEnd == 6 && grant.errorEnd == 4)
        #expect(try String(contentsOfFile: grant.outputPath, encoding: .utf8) == "hello\n")
        // Another reader gets nothing while the claim is held.
        let second = try agent.reply(ReceiveRequest(.job(job)), connection: 101)
        #expect(second.streams.first.map { $0.outputEnd - $0.outputOffset } == 0)
        // Read up to 2 bytes of stdout, none of stderr: the rest is there for the next reader.
        _ = try agent.reply(
            AdvanceRequest([ReadAdvance(instanceId: grant.instanceId, output: 2, error: 0)]), connection: 100)
        let next = try #require(try agent.reply(ReceiveRequest(.job(job)), connection: 101).streams.first)
        #expect(next.outputOffset == 2 && next.outputEnd == 6 && next.errorOffset == 0 && next.errorEnd == 4)
        var keep = ReceiveRequest(.job(job))
        keep.keep = true
        keep.fromStart = true
        let kept = try #require(try agent.reply(keep, connection: 102).streams.first)
        #expect(kept.outputOffset == 0 && kept.outputEnd == -1)
    }

    @Test("stop: a job that ignores SIGTERM ends by SIGKILL after the grace, Stopped")
    func stop() throws {
        let agent = try InProcessAgent()
        defer { agent.close() }
        let job = try agent.start("trap '' TERM; exec sleep 300")
        let stopped = try agent.reply(StopRequest(.job(job), grace: 0.2))
        #expect(stopped.jobs.map(\.state) == [.stopped])
        #expect(try agent.reply(StopRequest(.ids([999]))).problems == ["no job has Id 999"])
    }

    @Test("remove: refuses a running job, removes a finished one and its files")
    func remove() throws {
        let agent = try InProcessAgent()
        defer { agent.close() }
        let running = try agent.start("exec sleep 300")
        let done = try agent.start("echo out")
        _ = try agent.waitFor(done)
        let refused = try agent.reply(RemoveRequest(.job(running)))
        #expect(refused.jobs.isEmpty && refused.problems.first?.contains("stop it first") == true)
        let child = try #require(try agent.reply(GetRequest(.ids(done.childIds))).jobs.first)
        let output = JobHome(path: agent.home.path).outputPath(child.instanceId)
        #expect(FileManager.default.fileExists(atPath: output))
        #expect(try agent.reply(RemoveRequest(.job(done))).jobs.map(\.id) == [done.id])
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(try agent.reply(RemoveRequest(.job(running), force: true, grace: 0)).jobs.map(\.id) == [running.id])
        #expect(try agent.reply(GetRequest()).jobs.isEmpty)
    }

    @Test("status and shutdown: the counts by state; shutdown is answered (serve then exits)")
    func status() throws {
        let agent = try InProcessAgent()
        defer { agent.close() }
        let job = try agent.start("true")
        _ = try agent.waitFor(job)
        let status = try agent.reply(StatusRequest())
        #expect(status.pid == Int(getpid()) && status.jobs == ["Completed": 1])
        #expect(status.protocolVersion == ProtocolVersion.current)
        #expect(try agent.reply(ShutdownRequest()) == EmptyReply())
    }

    @Test("sessions: opened, listed, a command run in one, removed")
    func sessions() throws {
        let agent = try InProcessAgent()
        defer { agent.close() }
        var open = SessionNewRequest()
        open.computers = ["localhost"]
        open.name = "here"
        open.environment = ["PATH=/usr/bin:/bin"]
        let opened = try agent.reply(open)
        #expect(opened.sessions.map(\.name) == ["here"] && opened.problems.isEmpty)
        var inSession = StartRequest(command: "cd /tmp; X=1", workingDirectory: "", environment: [])
        inSession.sessions = ["here"]
        _ = try agent.reply(inSession)
        inSession.command = "echo $X; pwd"
        let job = try agent.reply(inSession).job
        _ = try agent.waitFor(job)
        let grant = try #require(try agent.reply(ReceiveRequest(.job(job))).streams.first)
        #expect(try String(contentsOfFile: grant.outputPath, encoding: .utf8) == "1\n/tmp\n")
        #expect(try agent.reply(SessionGetRequest(["here"])).sessions.first?.jobCount == 2)
        #expect(try agent.reply(SessionRemoveRequest(["here"])).sessions.map(\.name) == ["here"])
        #expect(try agent.reply(SessionGetRequest()).sessions.isEmpty)
    }
}
