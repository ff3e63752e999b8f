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
import JobClient
import JobTestSupport
import Testing

/// The Swift API as a program uses it: async verbs in domain types, one error type, output and
/// events as async sequences, one client shared by many tasks, against a real agent.
@Suite("the Swift API", .timeLimit(.minutes(10)))
struct SwiftAPITests {
    func client(_ home: TestHome) throws -> JobClient { try JobClient(environment: home.environment) }

    static func bytes(_ chunks: [OutputChunk], _ stream: OutputChunk.Stream) -> String {
        String(decoding: chunks.filter { $0.stream == stream }.flatMap(\.bytes), as: UTF8.self)
    }

    @Test("start returns the job, wait its outcome with the exit status, stop and remove the jobs")
    func verbs() async throws {
        let home = try TestHome()
        let client = try client(home)
        let job = try await client.start("exit 3", name: "three")
        #expect(job.name == "three")
        #expect(job.isParent)
        guard case .finished(let done) = try await client.wait(for: .job(job)) else {
            throw TestFailure("the wait timed out")
        }
        #expect(done.map(\.state) == [.failed])
        let children = try await client.jobs(.ids(job.childIds))
        // What belongs to a state is there in that state only: an end once finished, a
        // process while it runs.
        #expect(children.first?.end?.exitStatus == 3 && children.first?.end?.time != nil)
        #expect(children.first?.process == nil)

        let sleeper = try await client.start("exec sleep 300")
        let waited = try await client.wait(for: .job(sleeper), timeout: .milliseconds(200))
        guard case .timedOut(let running) = waited else { throw TestFailure("a sleeping job finished") }
        #expect(running.map(\.state) == [.running])
        let child = try await client.jobs(.ids(sleeper.childIds)).first
        #expect(child?.end == nil)
        #expect(child.flatMap(\.process).map { kill(pid_t($0.pid), 0) == 0 } == true)
        let stopped = try await client.stop(.job(sleeper), grace: .seconds(1))
        #expect(stopped.map(\.state) == [.stopped])
        let removed = try await client.remove(.ids([job.id, sleeper.id]))
        #expect(removed.map(\.id) == [job.id, sleeper.id])
        #expect(try await client.jobs().isEmpty)
    }

    @Test("errors: one type whose code says what went wrong, in the CLI's words")
    func errors() async throws {
        let home = try TestHome()
        let client = try client(home)
        await #expect(throws: JobError.self) { try await client.jobs(.ids([99])) }
        do {
            _ = try await client.jobs(JobSelection(selectors: ["99", "nightly"]))
            Issue.record("a missing job did not throw")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.problems.count == 2)
            #expect(error.message.contains("99"))
        }
        do {
            _ = try await client.start("")
            Issue.record("an empty command was accepted")
        } catch {
            #expect(error.code == .refused)
            #expect(error.message == "the command is empty")
        }
        do {
            _ = try await client.stop(JobSelection())
            Issue.record("stop of nothing named was accepted")
        } catch {
            #expect(error.code == .refused)
        }
        do {
            _ = try JobClient(
                environment: home.environment.merging(["JOB_HOME": home.path + "/none"]) { $1 },
                autoStart: false)
            Issue.record("a client connected to no agent")
        } catch {
            #expect(error.code == .noAgent)
        }
    }

    @Test("one client shared by fifty tasks: every start gets its own job")
    func sharedClient() async throws {
        let home = try TestHome()
        let client = try client(home)
        let ids = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<50 {
                group.addTask { try await client.start("echo \(index)").id }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(ids).count == 50)
        guard case .finished(let jobs) = try await client.wait(for: .ids(ids)) else {
            throw TestFailure("the jobs did not finish")
        }
        #expect(jobs.allSatisfy { $0.state == .completed })
    }

    @Test("output as chunks: stdout and stderr byte for byte, followed until the job ends, each byte read once")
    func output() async throws {
        let home = try TestHome()
        let client = try client(home)
        let gate = try home.fifo("gate")
        let job = try await client.start(
            "printf 'first\\n'; printf 'oops' >&2; read line < \(gate); printf 'second\\n'")
        var chunks: [OutputChunk] = []
        for try await chunk in client.output(of: .job(job)) {
            chunks.append(chunk)
            if Self.bytes(chunks, .output) == "first\n" && Self.bytes(chunks, .error) == "oops" {
                try home.release(gate)
            }
        }
        #expect(Self.bytes(chunks, .output) == "first\nsecond\n")
        #expect(Self.bytes(chunks, .error) == "oops")
        #expect(chunks.allSatisfy { $0.jobId == job.childIds[0] && $0.computer == "localhost" })
        // Consumed: nothing is left; with keep and from the start, all of it again.
        var again: [OutputChunk] = []
        for try await chunk in client.output(of: .job(job)) { again.append(chunk) }
        #expect(again.isEmpty)
        for try await chunk in client.output(of: .job(job), keep: true, fromStart: true) { again.append(chunk) }
        #expect(Self.bytes(again, .output) == "first\nsecond\n")
    }

    @Test("a reader that stops after one chunk leaves the rest to the next, nothing lost")
    func readerStopsEarly() async throws {
        let home = try TestHome()
        let client = try client(home)
        // 300,000 bytes: several chunks of at most 64 KiB.
        let job = try await client.start("head -c 300000 /dev/zero | tr '\\0' x")
        _ = try await client.wait(for: .job(job))
        var first = 0
        for try await chunk in client.output(of: .job(job)) {
            first = chunk.bytes.count
            break
        }
        #expect(first > 0 && first < 300_000)
        var rest = 0
        for try await chunk in client.output(of: .job(job)) { rest += chunk.bytes.count }
        #expect(first + rest == 300_000)
    }

    @Test("events: a job added, its state changes, its removal, as they happen")
    func events() async throws {
        let home = try TestHome()
        let client = try client(home)
        let gate = try home.fifo("gate")
        // Changes from here on.
        var events = try await client.events().makeAsyncIterator()
        var seen: [JobEvent] = []
        func until(_ done: (JobEvent) -> Bool) async throws {
            while let event = try await events.next() {
                seen.append(event)
                if done(event) { return }
            }
        }
        let job = try await client.start("read line < \(gate)")
        // The job waits at the gate, so it is seen Running before it ends.
        try await until { $0.job.id == job.id && $0.kind == .added }
        #expect(seen.last?.job.state == .running)
        try home.release(gate)
        try await until { $0.job.id == job.id && $0.kind != .added }
        #expect(seen.last?.kind == .changed(from: .running))
        #expect(seen.last?.kind.previousState == .running && seen.last?.kind.description == "changed")
        #expect(seen.last?.job.state == .completed)
        _ = try await client.remove(.job(job))
        try await until { $0.job.id == job.childIds[0] && $0.kind == .removed }
        #expect(seen.contains { $0.job.id == job.id && $0.kind == .removed })
        #expect(seen.contains { $0.job.id == job.childIds[0] && $0.kind == .added })
    }

    @Test("the verbs the job command uses: suspend, resume, signal, rename, restart, groups; a partial selection")
    func moreVerbs() async throws {
        let home = try TestHome()
        let client = try client(home)
        let job = try await client.start("trap 'echo hup; exit 7' HUP; while :; do sleep 0.05; done", name: "loop")
        let suspended = try await client.suspend(.job(job))
        #expect(suspended.map(\.state) == [.suspended])
        #expect(try await client.resume(.job(job)).map(\.state) == [.running])
        let renamed = try await client.rename(.job(job), to: "looping")
        #expect(renamed.map(\.name) == ["looping"])
        #expect(try await client.jobs(JobSelection(selectors: ["looping"])).map(\.id) == [job.id])
        _ = try await client.signal(.job(job), SIGHUP)
        guard case .finished(let ended) = try await client.wait(for: .job(job), timeout: .seconds(60)) else {
            throw TestFailure("the job did not end on SIGHUP")
        }
        #expect(ended.map(\.state) == [.failed])
        var text = ""
        for try await chunk in client.output(of: .job(job)) where chunk.stream == .output {
            text += String(decoding: chunk.bytes, as: UTF8.self)
        }
        #expect(text == "hup\n")
        let restarted = try await client.restart(.job(job))
        #expect(restarted.map(\.id) == [job.id])

        // A selection that names a job and a missing one: the job is acted on, the error says
        // what was missing.
        do {
            _ = try await client.suspend(JobSelection(selectors: [String(job.id), "999"]))
            Issue.record("a missing job was not reported")
        } catch {
            #expect(error.code == .notFound && error.problems.count == 1)
        }
        #expect(try await client.jobs(.job(job)).first?.state == .suspended)
        _ = try await client.stop(.job(job), grace: .zero)

        let groups = try await client.setGroups(["builds"], limit: 2)
        #expect(groups.map(\.name) == ["builds"] && groups.first?.limit == 2)
        #expect(try await client.setGroups(["builds"], paused: true).first?.paused == true)
        #expect(try await client.groups(["builds"]).first?.paused == true)
        #expect(try await client.removeGroups(["builds"]).map(\.name) == ["builds"])
    }

    @Test("output events in the event sequence: a child's output growing, told before its end")
    func outputEvents() async throws {
        let home = try TestHome()
        let client = try client(home)
        let gate = try home.fifo("gate")
        var events = try await client.events(output: true).makeAsyncIterator()
        let job = try await client.start("printf 'hello\\n'; read line < \(gate); printf 'err' >&2")
        var sizes: [JobEvent.OutputSize] = []
        while let event = try await events.next() {
            if event.kind == .output {
                #expect(event.job.id == job.childIds[0])
                sizes.append(event.output!)
                if sizes.count == 1 { try home.release(gate) }
            }
            if event.job.id == job.childIds[0] && event.job.state.isFinished { break }
        }
        #expect(sizes.first?.stdoutBytes == 6 && sizes.first?.stderrBytes == 0)
        #expect(sizes.last?.stdoutBytes == 6 && sizes.last?.stderrBytes == 3)
        // Without asking, no output events.
        var quiet = try await client.events().makeAsyncIterator()
        let second = try await client.start("printf 'more\\n'")
        while let event = try await quiet.next() {
            #expect(event.kind != .output)
            if event.job.id == second.childIds[0] && event.job.state.isFinished { break }
        }
    }

    @Test("a cancelled wait returns at once, as cancelled, and the job runs on")
    func cancelledWait() async throws {
        let home = try TestHome()
        let client = try client(home)
        let job = try await client.start("exec sleep 300")
        let waiting = Task { try await client.wait(for: .job(job)) }
        waiting.cancel()
        do {
            _ = try await waiting.value
            Issue.record("a cancelled wait returned the job")
        } catch let error as JobError {
            #expect(error.code == .cancelled)
        }
        #expect(try await client.jobs(.job(job)).first?.state == .running)
        _ = try await client.stop(.job(job), grace: .zero)
    }
}
