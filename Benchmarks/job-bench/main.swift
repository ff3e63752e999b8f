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

// Benchmark driver for what only the Swift API can show: jobs started from one process
// through `JobClient`, without a CLI process per job.
//
//     job-bench start N              start N jobs running `true`, wait for all; print jobs per second
//     job-bench session N [COMPUTER] N commands `true`, each run and waited for in turn, three ways:
//                                    in one session on COMPUTER (default localhost); as jobs of
//                                    their own (`start`, or `invoke` on a remote COMPUTER); print
//                                    the median and mean milliseconds per command of each
//     job-bench load N CLIENTS CALLS N running jobs, then CLIENTS clients of CALLS calls each at
//                                    once; print p50, p99 and the agent's peak memory
//     job-bench queue N GROUP        start N jobs running `true` in GROUP (which may be paused),
//                                    without waiting; print jobs per second
import Foundation
import JobClient
import JobCore
import JobTestSupport

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("job-bench: \(message)\n".utf8))
    exit(2)
}

let arguments = CommandLine.arguments
guard arguments.count >= 3, let count = Int(arguments[2]), count > 0 else {
    fail("usage: job-bench start N | job-bench session N [COMPUTER]")
}

func startMany(_ client: JobClient) throws {
    let environment = ProcessEnvironment.entries()
    let directory = FileManager.default.currentDirectoryPath
    let began = Date()
    var ids: [String] = []
    ids.reserveCapacity(count)
    for _ in 0..<count {
        let job = try client.start("true", workingDirectory: directory, environment: environment)
        ids.append(String(job.id))
    }
    let started = Date()
    _ = try client.wait(for: JobSelection(selectors: ids))
    let finished = Date()
    let startSeconds = started.timeIntervalSince(began)
    let totalSeconds = finished.timeIntervalSince(began)
    print(
        "started \(count) jobs in \(String(format: "%.3f", startSeconds)) s "
            + "(\(Int(Double(count) / startSeconds)) jobs/s); all finished after \(String(format: "%.3f", totalSeconds)) s "
            + "(\(Int(Double(count) / totalSeconds)) jobs/s)")
}

/// Starts `count` jobs into a group of the queue, without waiting for them.
func queueMany(_ client: JobClient, group: String) throws {
    let environment = ProcessEnvironment.entries()
    let directory = FileManager.default.currentDirectoryPath
    let began = Date()
    for _ in 0..<count {
        _ = try client.start(
            "true", workingDirectory: directory, environment: environment, queue: JobQueueOptions(group: group))
    }
    let seconds = Date().timeIntervalSince(began)
    print("queued \(count) jobs in \(String(format: "%.3f", seconds)) s (\(Int(Double(count) / seconds)) jobs/s)")
}

/// Runs `one` count times, each to its end, and returns the times in milliseconds.
func timings(_ one: () throws -> Job, _ client: JobClient) throws -> [Double] {
    var times: [Double] = []
    times.reserveCapacity(count)
    for _ in 0..<count {
        let began = DispatchTime.now().uptimeNanoseconds
        let job = try one()
        let done = try client.wait(for: .job(job))
        guard done.jobs.first?.state == .completed else { fail("a command did not complete: \(done)") }
        times.append(Double(DispatchTime.now().uptimeNanoseconds - began) / 1e6)
    }
    return times
}

func summary(_ name: String, _ times: [Double]) -> String {
    let sorted = times.sorted()
    let median = sorted[sorted.count / 2]
    let mean = times.reduce(0, +) / Double(times.count)
    return "\(name): median \(String(format: "%.2f", median)) ms, mean \(String(format: "%.2f", mean)) ms per command"
}

func sessions(_ client: JobClient) throws {
    let computer = arguments.count > 3 ? arguments[3] : "localhost"
    let session = try client.openSession(on: computer)
    let id = String(session.id)
    let inSession = try timings({ try client.start("true", inSessions: [id]) }, client)
    let environment = ProcessEnvironment.entries()
    let directory = FileManager.default.currentDirectoryPath
    let alone: [Double]
    let aloneName: String
    if computer == "localhost" {
        alone = try timings(
            { try client.start("true", workingDirectory: directory, environment: environment) }, client)
        aloneName = "start (a job of its own)"
    } else {
        alone = try timings({ try client.invoke("true", on: [computer]) }, client)
        aloneName = "invoke --computer \(computer) (warm connection)"
    }
    _ = try client.removeSessions([id], force: true)
    print(summary("in one session on \(computer)", inSession))
    print(summary(aloneName, alone))
    let ratio = alone.sorted()[alone.count / 2] / inSession.sorted()[inSession.count / 2]
    print("ratio of medians: a session command is \(String(format: "%.2f", ratio))x as fast")
}

do {
    let client = try JobClient()
    switch arguments[1] {
    case "start": try startMany(client)
    case "session": try sessions(client)
    case "queue": try queueMany(client, group: arguments.count > 3 ? arguments[3] : "bench")
    case "load":
        let clients = arguments.count > 3 ? Int(arguments[3]) ?? 50 : 50
        let calls = arguments.count > 4 ? Int(arguments[4]) ?? 100 : 100
        let outcome = try LoadDriver.run(
            environment: ProcessEnvironment.dictionary(), jobs: count, clients: clients, calls: calls)
        print(outcome.summary)
    default: fail("usage: job-bench start N | job-bench session N [COMPUTER] | job-bench queue N GROUP")
    }
} catch {
    FileHandle.standardError.write(Data("job-bench: \(error)\n".utf8))
    exit(1)
}
