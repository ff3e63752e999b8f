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
import JobTestSupport
import Testing

/// The Slurm test cluster: `scripts/test-slurm` brings up a real slurmctld and slurmd that run
/// jobs, in a folder of its own, and takes them down leaving nothing.
@Suite("the Slurm test cluster", .serialized, .timeLimit(.minutes(10)))
struct TestClusterTests {
    /// The live processes whose command line names `directory`, or whose environment names
    /// its configuration (slurmstepd, a job's processes); zombies are gone.
    static func processes(naming directory: String) throws -> [Int32] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init).filter { pid in
            guard let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let environment =
                (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))).map {
                    String(decoding: $0, as: UTF8.self)
                } ?? ""
            let ours =
                command.contains(directory)
                || (environment.contains("SLURM_CONF=\(directory)/slurm.conf") && environment.contains("SLURM_JOB_ID="))
            return ours && stat[stat.index(close, offsetBy: 2)] != "Z"
        }
    }

    @Test("serve: a real cluster runs a batch job and writes its output where told; stop leaves nothing")
    func serve() throws {
        let cluster = try TestCluster(port: 6937)
        let out = cluster.directory + "/hello.out"
        let submitted = try cluster.run(
            "sbatch", ["--parsable", "-o", out, "--wrap", "echo hello from $SLURM_JOB_ID"])
        // A job still running when the cluster stops is ended with it (its slurmstepd outlives
        // the slurmd it cannot reach, and its processes with it).
        let sleeper = try cluster.run("sbatch", ["--parsable", "-o", "/dev/null", "--wrap", "exec sleep 300"])
        #expect(sleeper.status == 0, "\(sleeper.stderr)")
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let id = submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try TestHome.eventually(timeout: 60, "the batch job to finish") {
            (try? String(contentsOfFile: out, encoding: .utf8)) == "hello from \(id)\n"
        }
        let directory = cluster.directory
        let sleeperId = sleeper.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try TestHome.eventually(timeout: 60, "the sleeper to run") {
            try cluster.run("squeue", ["-h", "-j", sleeperId, "-o", "%T"]).stdout == "RUNNING\n"
        }
        #expect(try !Self.processes(naming: directory).isEmpty)
        cluster.stop()
        #expect(try Self.processes(naming: directory).isEmpty)
    }

    @Test("up and down: each idempotent, by pid files; down leaves no daemon")
    func upAndDown() throws {
        let directory = FileManager.default.temporaryDirectory.path + "/job-cluster-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let script = TestComputers.projectRoot + "/scripts/test-slurm"
        var environment = ProcessInfo.processInfo.environment
        environment["SLURM_TEST_PORT"] = "6947"
        func run(_ command: String) throws -> CommandResult {
            try TestHome.run(
                script, [command, directory], stdin: nil, environment: environment, directory: "/", timeout: 120)
        }
        let up = try run("up")
        #expect(up.status == 0, "\(up.stderr)")
        #expect(up.stdout == "export SLURM_CONF=\(directory)/slurm.conf\n")
        let keeper = try String(contentsOfFile: directory + "/keeper.pid", encoding: .utf8)
        // Up again: the same cluster, nothing started twice.
        #expect(try run("up").status == 0)
        #expect(try String(contentsOfFile: directory + "/keeper.pid", encoding: .utf8) == keeper)
        var client = environment
        client["SLURM_CONF"] = directory + "/slurm.conf"
        let info = try TestHome.run(
            "/usr/bin/sinfo", ["-h", "-N", "-o", "%N %t"], stdin: nil, environment: client, directory: "/",
            timeout: 30)
        #expect(info.stdout == "localhost idle\n")
        #expect(try run("down").status == 0)
        #expect(try Self.processes(naming: directory).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: directory + "/keeper.pid"))
        #expect(try run("down").status == 0)
    }
}
