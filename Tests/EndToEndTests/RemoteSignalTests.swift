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

/// `suspend`, `resume`, `signal`, `stop --signal` and `--timeout` of children on test
/// computers: what reaches the command's processes on the other side.
@Suite("signals and timeouts of remote children", .timeLimit(.minutes(10)))
struct RemoteSignalTests: OnTestComputers {
    let computers: TestComputers
    let home: TestHome

    init() throws {
        computers = try sharedComputers.get()
        home = try TestHome()
    }

    /// The state letters (`T` when stopped) of a test user's processes whose command line is
    /// `command`, or contains `containing`.
    func remoteStates(user: String, command: String? = nil, containing: String? = nil) -> [Character] {
        let listing = try? TestHome.run(
            "/bin/ps", ["-o", "stat=,args=", "-u", user], stdin: nil, environment: [:], directory: "/", timeout: 10)
        return listing?.stdout.split(separator: "\n").compactMap { line -> Character? in
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2 else { return nil }
            let args = parts[1].trimmingCharacters(in: .whitespaces)
            if let command, args != command { return nil }
            if let containing, !args.contains(containing) { return nil }
            return parts[0].first
        } ?? []
    }

    @Test("suspend stops the command's processes on its computer and resume continues them; signal and stop reach them")
    func suspendResumeSignal() throws {
        let marker = "304\(Int.random(in: 100...999))"
        try job(
            "invoke", "--computer", "server02", "--as-job", "--quiet",
            "trap 'echo hup' HUP; echo ready; while :; do sleep \(marker) & wait $!; done")
        try TestHome.eventually("the remote command to start") {
            try job("receive", "1", "--keep", "--no-prefix").stdout == "ready\n"
        }
        try TestHome.eventually("its sleep") { !remoteStates(user: "jobtest02", command: "sleep \(marker)").isEmpty }
        #expect(try job("suspend", "1").status == 0)
        #expect(try home.record(2)["state"] as? String == "Suspended")
        try TestHome.eventually("the sleep stopped on server02") {
            remoteStates(user: "jobtest02", command: "sleep \(marker)") == ["T"]
        }
        #expect(try job("wait", "1", "--timeout", "0.5").status == 124)
        #expect(try job("resume", "1").status == 0)
        #expect(try home.record(2)["state"] as? String == "Running")
        try TestHome.eventually("the sleep running again") {
            remoteStates(user: "jobtest02", command: "sleep \(marker)") == ["S"]
        }
        #expect(try job("signal", "1", "--signal", "HUP").status == 0)
        try TestHome.eventually("the trap run on server02") {
            try job("receive", "1", "--keep", "--no-prefix").stdout == "ready\nhup\n"
        }
        #expect(try home.record(2)["state"] as? String == "Running")
        // Suspended, then stopped: the stop still ends everything there.
        #expect(try job("suspend", "1").status == 0)
        try TestHome.eventually("the sleep stopped again") {
            remoteStates(user: "jobtest02", command: "sleep \(marker)") == ["T"]
        }
        #expect(try job("stop", "1", "--grace", "2").status == 0)
        #expect(try home.record(2)["state"] as? String == "Stopped")
        try TestHome.eventually("nothing of the job left on server02") {
            remoteStates(user: "jobtest02", containing: marker).isEmpty
        }
    }

    @Test("stop --signal sends its own signal first on the computer: the command's trap runs and it ends")
    func stopWithSignal() throws {
        let marker = "305\(Int.random(in: 100...999))"
        try job(
            "invoke", "--computer", "server01", "--as-job", "--quiet",
            "trap 'echo int; exit 3' INT; echo ready; while :; do sleep \(marker) & wait $!; done")
        try TestHome.eventually("the remote command to start") {
            try job("receive", "1", "--keep", "--no-prefix").stdout == "ready\n"
        }
        #expect(try job("stop", "1", "--signal", "INT", "--grace", "20").status == 0)
        let stopped = try home.record(2)
        #expect(stopped["state"] as? String == "Stopped")
        // Ended by the trap's exit, long before the grace period's KILL of the local ssh.
        #expect(stopped["exitStatus"] as? Int == 3)
        #expect(try job("receive", "1", "--no-prefix").stdout == "ready\nint\n")
        try TestHome.eventually("nothing of the job left on server01") {
            remoteStates(user: "jobtest01", containing: marker).isEmpty
        }
    }

    @Test("a remote child's timeout runs here and its stop reaches the tree there: Failed, exit 124, nothing left")
    func timeout() throws {
        let marker = "306\(Int.random(in: 100...999))"
        try job(
            "invoke", "--computer", "server03", "--as-job", "--quiet", "--timeout", "2s",
            "sleep \(marker) & (trap '' TERM; sleep \(marker)) & echo started; wait")
        let result = try job("receive", "1", "--wait", "--no-prefix")
        #expect(result.status == 124)
        #expect(result.stdout == "started\n")
        let child = try home.record(2)
        #expect(child["state"] as? String == "Failed")
        #expect(child["reason"] as? String == "timed out after 2s")
        try TestHome.eventually("nothing of the job left on server03") {
            remoteStates(user: "jobtest03", containing: marker).isEmpty
        }
    }
}
