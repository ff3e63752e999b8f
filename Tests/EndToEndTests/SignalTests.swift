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

/// `suspend`, `resume`, `signal` and `stop --signal` through the built binary.
@Suite("suspend, resume and signals", .timeLimit(.minutes(10)))
struct SignalTests {
    /// The one-letter state of a process in /proc (`T` when stopped), or nil when gone.
    static func processState(_ pid: Int32) -> Character? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        return stat[stat.index(close, offsetBy: 2)]
    }

    @Test(
        "suspend stops the whole group and the job is Suspended, not finished; resume runs it again; stop still stops it"
    )
    func suspendAndResume() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "sleep 300 & sleep 300; wait")
        let pid = Int32(try #require(try home.record(2)["pid"] as? Int))
        try TestHome.eventually("both sleeps") { liveMembers(ofGroup: pid).count >= 3 }
        #expect(try home.job("suspend", "1").status == 0)
        #expect(try home.record(2)["state"] as? String == "Suspended")
        #expect(try home.record(1)["state"] as? String == "Suspended")
        try TestHome.eventually("every member stopped") {
            liveMembers(ofGroup: pid).allSatisfy { Self.processState($0) == "T" }
        }
        #expect(try home.job("wait", "1", "--timeout", "0.5").status == 124)
        // Kept across kill -9 of the agent.
        let agent = try #require(try home.agentPid())
        kill(agent, SIGKILL)
        try TestHome.eventually("the agent to be gone") { !processIsLive(agent) }
        #expect(try home.record(2)["state"] as? String == "Suspended")
        #expect(try home.job("resume", "1").status == 0)
        #expect(try home.record(2)["state"] as? String == "Running")
        try TestHome.eventually("every member running") {
            liveMembers(ofGroup: pid).allSatisfy { Self.processState($0) != "T" }
        }
        #expect(try home.job("suspend", "1").status == 0)
        #expect(try home.job("stop", "1", "--grace", "2").status == 0)
        #expect(try home.record(2)["state"] as? String == "Stopped")
        #expect(liveMembers(ofGroup: pid).isEmpty)
    }

    @Test("a suspended job's timeout clock stops: it runs its whole timeout once resumed")
    func timeoutPauses() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "--timeout", "1s", "sleep 300")
        #expect(try home.job("suspend", "1").status == 0)
        // Past its deadline, suspended: still unfinished.
        #expect(try home.job("wait", "1", "--timeout", "2").status == 124)
        #expect(try home.record(2)["state"] as? String == "Suspended")
        #expect(try home.job("resume", "1").status == 0)
        let result = try home.job("receive", "1", "--wait")
        #expect(result.status == 124)
        #expect(try home.record(2)["reason"] as? String == "timed out after 1s")
    }

    @Test("signal reaches the job, which goes on; a finished job is refused; stop --signal sends its own first")
    func signals() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "trap 'echo hup' HUP; echo ready; while :; do sleep 0.05; done")  // 1, 2
        try TestHome.eventually("the trap set") { try home.job("receive", "1", "--keep").stdout == "ready\n" }
        #expect(try home.job("signal", "1", "--signal", "HUP").status == 0)
        try TestHome.eventually("the trap run") { try home.job("receive", "1", "--keep").stdout == "ready\nhup\n" }
        #expect(try home.record(2)["state"] as? String == "Running")
        try home.job("start", "--quiet", "true")  // 3, 4
        try home.job("wait", "3")
        let finished = try home.job("signal", "3", "--signal", "USR1")
        #expect(finished.status == 1 && finished.stderr.contains("nothing in it can be signalled"))
        #expect(try home.job("stop", "1", "--signal", "INT", "--grace", "2").status == 0)
        // The shell ends on SIGINT: stopped by its first signal, not by SIGKILL after the grace.
        let stopped = try home.record(2)
        #expect(stopped["state"] as? String == "Stopped")
        #expect(stopped["signal"] as? Int == 2)
        for bad in [
            ["signal", "1", "--signal", "FOO"], ["signal", "1"], ["suspend"], ["stop", "1", "--signal", "99"],
        ] {
            #expect(try home.job(bad).status == 2, "\(bad)")
        }
    }
}
