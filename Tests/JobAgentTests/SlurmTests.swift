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
import JobTestSupport
import Testing

@testable import JobAgent

/// What the agent asks of Slurm, against a real one-node cluster (`scripts/test-slurm`):
/// submissions, the one `squeue` per round, ends read once, cancel and hold, and what each of
/// Slurm's states means as a job state.
@Suite("Slurm's commands and states", .serialized, .timeLimit(.minutes(10)))
struct SlurmTests {
    @Test("every Slurm state maps to a job state, with the Reason a user reads")
    func states() {
        func state(_ name: String, _ reason: String? = nil, _ end: Slurm.End? = nil) -> (JobState, String?) {
            let mapped = Slurm.jobState(
                of: Slurm.Status(id: "1", rawId: "1", state: name, reason: reason), end: end)
            return (mapped.state, mapped.reason)
        }
        #expect(state("PENDING", "Resources") == (.notStarted, "pending in Slurm (Resources)"))
        #expect(state("PENDING", "Dependency") == (.notStarted, "pending in Slurm (Dependency)"))
        #expect(state("PENDING", "JobHeldUser") == (.suspended, "held in Slurm's queue: resume releases it"))
        #expect(state("PENDING") == (.notStarted, nil))
        for running in ["RUNNING", "COMPLETING", "CONFIGURING"] { #expect(state(running) == (.running, nil)) }
        #expect(state("SUSPENDED") == (.suspended, "suspended in Slurm"))
        #expect(state("COMPLETED") == (.completed, nil))
        #expect(state("FAILED", "NonZeroExitCode", Slurm.End(exitStatus: 3)) == (.failed, "exited with status 3"))
        #expect(state("FAILED", nil, Slurm.End(signal: 9)) == (.failed, "killed by signal 9 (SIGKILL)"))
        #expect(state("CANCELLED") == (.stopped, "cancelled in Slurm"))
        #expect(
            state("CANCELLED", "DependencyNeverSatisfied")
                == (.failed, "never ran: a job it runs after did not end as it needed (DependencyNeverSatisfied)"))
        #expect(state("TIMEOUT") == (.failed, "timed out (Slurm's time limit)"))
        #expect(state("OUT_OF_MEMORY") == (.failed, "out of memory"))
        #expect(state("NODE_FAIL") == (.failed, "its node failed"))
        #expect(state("PREEMPTED") == (.failed, "preempted"))
        #expect(state("DEADLINE") == (.failed, "its deadline passed"))
        #expect(state("REQUEUED") == (.notStarted, "requeued in Slurm"))
        // A state a later Slurm adds is an end, said in Slurm's word.
        #expect(state("SOMETHING_NEW") == (.failed, "failed in Slurm (something_new)"))
        #expect(Slurm.isFinal("COMPLETED") && Slurm.isFinal("TIMEOUT") && !Slurm.isFinal("PENDING"))
        #expect(Slurm.end(waitStatus: 3 << 8) == Slurm.End(exitStatus: 3))
        #expect(Slurm.end(waitStatus: 9) == Slurm.End(signal: 9))
    }

    @Test("sbatch's arguments: one job or an array at most K at once, time limit in whole minutes, dependencies")
    func arguments() {
        var submission = Slurm.Submission(
            command: "echo hi", name: "build", instanceIds: ["a", "b", "c"], outputPaths: ["/j/a.out"],
            errorPaths: ["/j/a.err"], workingDirectory: "/w", environment: [])
        #expect(Slurm.timeLimit(1) == "1" && Slurm.timeLimit(60) == "1" && Slurm.timeLimit(61) == "2")
        let one = Slurm.sbatchArguments(submission, taskFiles: nil)
        #expect(
            one == [
                "sbatch", "--parsable", "--job-name=build", "--comment=job:a", "--chdir=/w", "--export=ALL",
                "--output=/j/a.out", "--error=/j/a.err", "--wrap", "echo hi",
            ])
        submission.tasks = 3
        submission.throttle = 1
        submission.timeLimit = 90
        submission.after = ["7", "8"]
        submission.afterAny = ["9"]
        submission.options = ["--partition=debug"]
        let array = Slurm.sbatchArguments(submission, taskFiles: ("/j/slurm-a/%a.out", "/j/slurm-a/%a.err"))
        #expect(array.contains("--array=0-2%1"))
        #expect(array.contains("--output=/j/slurm-a/%a.out") && array.contains("--error=/j/slurm-a/%a.err"))
        #expect(array.contains("--time=2"))
        #expect(array.contains("--dependency=afterok:7:8,afterany:9") && array.contains("--kill-on-invalid-dep=yes"))
        // An array's children named by their index: sbatch's %6a names their own files.
        let prefix = "0123abcd-0000-4000-8000-abcdef"
        #expect(Slurm.taskPrefix([prefix + "000000", prefix + "000001"]) == prefix)
        #expect(Slurm.taskPrefix([prefix + "000000", prefix + "000002"]) == nil)
        #expect(Slurm.taskSuffix(7) == "000007" && Slurm.taskSuffix(123_456) == "123456")
        // sbatch's file patterns: a path's own % is doubled.
        submission.input = "/j/100%.in"
        submission.tasks = nil
        let literal = Slurm.sbatchArguments(submission, taskFiles: nil)
        #expect(literal.contains("--input=/j/100%%.in"))
        // The user's options come last but for the command, so they can override ours.
        #expect(Array(array.suffix(3)) == ["--partition=debug", "--wrap", "echo hi"])
    }

    /// A client of the cluster: the test's PATH and the cluster's configuration.
    static func client(_ cluster: TestCluster) -> Slurm.Client {
        Slurm.Client(environment: [
            "PATH=" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
            "SLURM_CONF=" + cluster.configuration,
        ])
    }

    /// Polls until every id is final in squeue; the last statuses.
    static func finished(_ client: Slurm.Client, _ ids: [String], count: Int) throws -> [Slurm.Status] {
        var last: [Slurm.Status] = []
        try TestHome.eventually(timeout: 120, "the Slurm jobs to finish") {
            last = try client.statuses(ids).get()
            return last.count == count && last.allSatisfy { Slurm.isFinal($0.state) }
        }
        return last
    }

    @Test("a job: Slurm writes its stdout and stderr into the child's files; its end is read once, exactly")
    func oneJob() throws {
        let cluster = try TestCluster(port: 6957)
        defer { cluster.stop() }
        let client = Self.client(cluster)
        let folder = cluster.directory + "/jobs"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let submission = Slurm.Submission(
            command: "echo out $GREETING; echo err >&2; exit 3", name: "three", instanceIds: ["i-1"],
            outputPaths: [folder + "/i-1.out"], errorPaths: [folder + "/i-1.err"], workingDirectory: folder,
            environment: client.environment + ["GREETING=hello"])
        let id = try client.submit(submission).get()
        #expect(Int(id) != nil)
        let statuses = try Self.finished(client, [id], count: 1)
        let status = try #require(statuses.first)
        #expect(status.id == id && status.state == "FAILED" && status.nodes == "localhost")
        #expect(status.comment == "job:i-1")
        let ends = client.ends([status.rawId])
        #expect(ends[status.rawId] == Slurm.End(exitStatus: 3, state: "FAILED"))
        #expect(Slurm.jobState(of: status, end: ends[status.rawId]) == (.failed, "exited with status 3"))
        #expect(try String(contentsOfFile: folder + "/i-1.out", encoding: .utf8) == "out hello\n")
        #expect(try String(contentsOfFile: folder + "/i-1.err", encoding: .utf8) == "err\n")
    }

    @Test("an array of 3 tasks, at most 1 at once: each task writes into its own child's files")
    func array() throws {
        let cluster = try TestCluster(port: 6967)
        defer { cluster.stop() }
        let client = Self.client(cluster)
        let folder = cluster.directory + "/jobs"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let ids = ["t-0", "t-1", "t-2"]
        var submission = Slurm.Submission(
            command: "echo task $SLURM_ARRAY_TASK_ID; date +%s.%N >&2; sleep 0.3; date +%s.%N >&2", name: "tasks",
            instanceIds: ids, outputPaths: ids.map { folder + "/\($0).out" },
            errorPaths: ids.map { folder + "/\($0).err" }, workingDirectory: folder, environment: client.environment)
        submission.tasks = 3
        submission.throttle = 1
        let id = try client.submit(submission).get()
        let statuses = try Self.finished(client, [id], count: 3)
        #expect(Set(statuses.map(\.id)) == ["\(id)_0", "\(id)_1", "\(id)_2"])
        #expect(statuses.allSatisfy { $0.state == "COMPLETED" })
        var spans: [(Double, Double)] = []
        for (index, child) in ids.enumerated() {
            #expect(try String(contentsOfFile: folder + "/\(child).out", encoding: .utf8) == "task \(index)\n")
            let times = try String(contentsOfFile: folder + "/\(child).err", encoding: .utf8)
                .split(separator: "\n").compactMap { Double($0) }
            #expect(times.count == 2)
            if times.count == 2 { spans.append((times[0], times[1])) }
        }
        // Never two at once: each task began after the one before it ended.
        let ordered = spans.sorted { $0.0 < $1.0 }
        for (earlier, later) in zip(ordered, ordered.dropFirst()) { #expect(later.0 >= earlier.1) }
    }

    @Test("hold and release a pending job; cancel a running one; a signal's end")
    func holdCancelSignal() throws {
        let cluster = try TestCluster(port: 6977)
        defer { cluster.stop() }
        let client = Self.client(cluster)
        let folder = cluster.directory + "/jobs"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        func submit(_ command: String, _ name: String, options: [String] = []) throws -> String {
            var submission = Slurm.Submission(
                command: command, name: name, instanceIds: [name], outputPaths: [folder + "/\(name).out"],
                errorPaths: [folder + "/\(name).err"], workingDirectory: folder, environment: client.environment)
            submission.options = options
            return try client.submit(submission).get()
        }
        let held = try submit("echo released", "held", options: ["--hold"])
        let status = try #require(try client.statuses([held]).get().first)
        #expect(Slurm.jobState(of: status) == (.suspended, "held in Slurm's queue: resume releases it"))
        #expect(client.control("release", held) == nil)
        #expect(try Self.finished(client, [held], count: 1).first?.state == "COMPLETED")

        let sleeper = try submit("sleep 300", "sleeper")
        try TestHome.eventually(timeout: 60, "the sleeper to run") {
            try client.statuses([sleeper]).get().first?.state == "RUNNING"
        }
        #expect(client.cancel([sleeper]) == nil)
        let cancelled = try #require(try Self.finished(client, [sleeper], count: 1).first)
        #expect(Slurm.jobState(of: cancelled) == (.stopped, "cancelled in Slurm"))

        let killed = try submit("kill -9 $$", "killed")
        let end = try #require(try Self.finished(client, [killed], count: 1).first)
        #expect(client.ends([end.rawId])[end.rawId] == Slurm.End(signal: 9, state: "FAILED"))
        // A job after one that failed never runs: Slurm cancels it (--kill-on-invalid-dep).
        var after = Slurm.Submission(
            command: "echo never", name: "after", instanceIds: ["after"], outputPaths: [folder + "/after.out"],
            errorPaths: [folder + "/after.err"], workingDirectory: folder, environment: client.environment)
        after.after = [killed]
        let never = try client.submit(after).get()
        let dropped = try #require(try Self.finished(client, [never], count: 1).first)
        #expect(Slurm.jobState(of: dropped).state == .failed, "\(dropped)")
        #expect((try? String(contentsOfFile: folder + "/after.out", encoding: .utf8)) ?? "" == "")

        // An id Slurm does not know is no status, not a failure.
        #expect(try client.statuses(["999999"]).get().isEmpty)
    }

    @Test("a controller that does not answer: a problem that says so, marked to try again")
    func unreachable() throws {
        let cluster = try TestCluster(port: 6987)
        // The configuration outlives the cluster (stop removes its folder).
        let copy = FileManager.default.temporaryDirectory.path + "/slurm-\(UUID().uuidString).conf"
        try FileManager.default.copyItem(atPath: cluster.configuration, toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        cluster.stop()
        let client = Slurm.Client(environment: [
            "PATH=" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"), "SLURM_CONF=" + copy,
        ])
        switch client.statuses(["1"]) {
        case .success(let statuses): Issue.record("squeue answered without a controller: \(statuses)")
        case .failure(let problem): #expect(problem.unreachable, "\(problem)")
        }
    }
}
