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
import Synchronization
import Testing

@testable import JobAgent

/// An agent that stops gives back everything it took: `run` returns with every thread joined
/// and every descriptor closed, while its jobs run on for the next agent.
@Suite("the agent stops and leaves nothing behind", .timeLimit(.minutes(10)))
struct AgentStopTests {
    /// Set in the process the test starts of itself.
    static let alone = "JOB_TEST_AGENT_STOP_ALONE"

    /// The process's threads and open descriptors.
    static func counts() -> (threads: Int, descriptors: Int) {
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
        // Listing /proc/self/fd opens one descriptor, which is in its own list.
        return (threads, descriptors - 1)
    }

    /// An agent served in this process: `run` on a thread of its own, ready once it said so.
    final class Served: Sendable {
        let agent: Agent
        let socket: String
        private let threads = AgentThreads()
        private let status = Mutex<Int32?>(nil)

        init(_ home: TestHome) throws {
            let executable = URL(fileURLWithPath: TestHome.binary).deletingLastPathComponent()
                .appendingPathComponent("job-agent").path
            agent = try Agent(
                home: JobHome(path: home.path), environment: home.environment, supervisorExecutable: executable)
            socket = JobHome(path: home.path).socketPath(environment: home.environment)
            var ready: [Int32] = [-1, -1]
            #expect(pipe(&ready) == 0)
            let (reading, writing) = (ready[0], ready[1])
            threads.start("agent") { [self] in
                let code = agent.run(readyFD: writing)
                status.withLock { $0 = code }
            }
            var said = [UInt8](repeating: 0, count: 256)
            let count = read(reading, &said, said.count)
            close(reading)
            #expect(count >= 2 && String(decoding: said[..<max(0, count)], as: UTF8.self).hasPrefix("ok"))
        }

        /// A connection to the agent.
        func connect() throws -> FrameChannel {
            let fd = cjob_unix_connect(socket)
            guard fd >= 0 else { throw TestFailure("cannot connect to \(socket)") }
            return FrameChannel(fd: fd)
        }

        /// One request and its reply.
        func reply<R: AgentRequest>(_ request: R, on channel: FrameChannel) throws -> R.Reply {
            try channel.send { Frame.writeRequest(request, to: &$0) }
            guard let (body, _) = try channel.receive() else { throw TestFailure("the agent hung up") }
            return try Frame.readReply(body, for: R.self).get()
        }

        /// Asks the agent to stop and waits until `run` has returned; its exit status.
        func stop() -> Int32? {
            agent.requestStop()
            #expect(threads.join(until: Monitor.now() + 60).isEmpty, "run returned")
            return status.withLock { $0 }
        }
    }

    @Test("50 agents in a row, each serving, each stopped: the same threads and descriptors as before")
    func fiftyInARow() throws {
        // The counts are the whole process's: they are taken in a process of this test's own,
        // where no other test opens descriptors or starts threads meanwhile.
        guard ProcessInfo.processInfo.environment[Self.alone] != nil else {
            let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
            var environment = ProcessInfo.processInfo.environment
            environment[Self.alone] = "1"
            let result = try TestHome.run(
                me, ["--testing-library", "swift-testing", "--filter", "AgentStopTests"], stdin: nil,
                environment: environment, directory: "/", timeout: 300)
            let said = result.stdout + result.stderr
            #expect(result.status == 0, "\(said)")
            #expect(said.contains("Test run with 1 test in 1 suite passed"), "\(said)")
            return
        }
        let home = try TestHome()
        defer { home.close() }
        // The first agent starts a job that outlives them all, and a first use of what the
        // process keeps for good (Foundation's, the log's and the store's one-time set-up).
        let first = try Served(home)
        let channel = try first.connect()
        let long = try first.reply(
            StartRequest(command: "exec sleep 300", workingDirectory: "/", environment: ["PATH=/usr/bin:/bin"]),
            on: channel
        ).job
        channel.close()
        #expect(first.stop() == 0)
        let before = Self.counts()

        for round in 1...50 {
            let served = try Served(home)
            let client = try served.connect()
            // Each agent took over the job: its monitor still holds it.
            let got = try served.reply(GetRequest(.job(long)), on: client).jobs
            #expect(got.first?.state == .running, "round \(round)")
            // A client left waiting: the stop ends its connection instead of waiting with it.
            let waiting = try served.connect()
            try waiting.send { Frame.writeRequest(WaitRequest(.job(long)), to: &$0) }
            if round % 10 == 0 {
                let quick = try served.reply(
                    StartRequest(command: "exit 3", workingDirectory: "/", environment: ["PATH=/usr/bin:/bin"]),
                    on: client
                ).job
                let ended = try served.reply(WaitRequest(.job(quick)), on: client).jobs
                #expect(ended.first?.exitStatus == 3)
            }
            #expect(served.stop() == 0, "round \(round)")
            // No reply: end-of-file, or a reset when the request had not been read yet.
            let reply: ([UInt8], [Int32])?? = try? waiting.receive()
            #expect(reply.flatMap { $0 } == nil, "the waiting client saw the agent hang up")
            client.close()
            waiting.close()
        }
        // A thread's entry in /proc lingers a moment after it was joined: the count settles
        // within a second, or the threads were left behind.
        var after = Self.counts()
        let deadline = Monitor.now() + 5
        while after.threads > before.threads && Monitor.now() < deadline {
            usleep(10_000)
            after = Self.counts()
        }
        #expect(after.threads <= before.threads, "threads: \(before.threads) before, \(after.threads) after")
        #expect(
            after.descriptors == before.descriptors,
            "descriptors: \(before.descriptors) before, \(after.descriptors) after")

        // The job ran on under its monitor through all of them; the last agent ends it.
        let last = try Served(home)
        let client = try last.connect()
        _ = try last.reply(StopRequest(.job(long), grace: 0), on: client)
        let stopped = try last.reply(WaitRequest(.job(long)), on: client).jobs
        #expect(stopped.first?.state == .stopped)
        client.close()
        #expect(last.stop() == 0)
    }
}
