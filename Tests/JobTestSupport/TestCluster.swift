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

/// A real one-node Slurm cluster (slurmctld, slurmd and their munged) in a folder of its own,
/// set up by `scripts/test-slurm serve`: clients find it by `SLURM_CONF` (`environment`).
/// `stop()` (or deinit) ends every daemon and waits for them.
public final class TestCluster: @unchecked Sendable {
    public let directory: String
    private let served: ServedScript

    /// Starts the cluster and returns once its node takes jobs. Throws (the test fails, it is
    /// not skipped) when it cannot be set up. `port` is the controller's (the node's is the
    /// next), so that clusters of suites that run at once do not meet.
    public init(port: Int, minJobAge: Int = 300, messageTimeout: Int = 10) throws {
        directory = FileManager.default.temporaryDirectory.path + "/job-cluster-" + UUID().uuidString.prefix(8)
        var environment = ProcessInfo.processInfo.environment
        environment["SLURM_TEST_PORT"] = String(port)
        environment["SLURM_TEST_MIN_JOB_AGE"] = String(minJobAge)
        environment["SLURM_TEST_MESSAGE_TIMEOUT"] = String(messageTimeout)
        served = try ServedScript("test-slurm", directory: directory, environment: environment)
    }

    public var configuration: String { directory + "/slurm.conf" }

    /// What a client of the cluster needs in its environment.
    public var environment: [String: String] { ["SLURM_CONF": configuration] }

    /// Runs a Slurm client command (`sbatch`, `squeue`, `scancel`...) against the cluster.
    public func run(_ program: String, _ arguments: [String], timeout: Double = 30) throws -> CommandResult {
        var environment = ProcessInfo.processInfo.environment
        environment["SLURM_CONF"] = configuration
        return try TestHome.run(
            "/usr/bin/" + program, arguments, stdin: nil, environment: environment, directory: "/tmp",
            timeout: timeout)
    }

    /// The controller stops answering (SIGSTOP: its port still takes connections, as a
    /// controller that hangs does), or goes on (SIGCONT).
    public func pauseController(_ paused: Bool) throws {
        let text = try String(contentsOfFile: directory + "/run/slurmctld.pid", encoding: .utf8)
        guard let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestFailure("no slurmctld pid in \(directory)/run")
        }
        guard kill(pid, paused ? SIGSTOP : SIGCONT) == 0 else { throw TestFailure("cannot signal slurmctld \(pid)") }
    }

    /// Ends every daemon and waits for them.
    public func stop() { served.stop() }

    deinit { stop() }
}
