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

/// A start is answered before its launch, which goes to the supervisor with the agent's lock let
/// go; the supervisor takes one launch at a time. When launches fall behind the starts (a
/// supervisor slowed by a busy disk, or stopped), the starts must be held back, not answered
/// while their launches pile up, one connection each, until the agent refuses connections.
@Suite("starts held back while the supervisor stalls", .timeLimit(.minutes(5)))
struct StalledSupervisorTests {
    @Test("a loop of 400 starts while the supervisor is stopped for 3 s: none refused, all run")
    func noPileUp() throws {
        let home = try TestHome()
        // A first job starts the agent and its supervisor.
        #expect(try home.shell("\"$JOB\" wait $(\"$JOB\" start --quiet true) >/dev/null").status == 0)
        let agent = try #require(try home.agentPid())
        let supervisor = try #require(supervisorPid(of: agent))
        kill(supervisor, SIGSTOP)
        // The stall is the fault itself (as long as a slow disk can make it), not a wait for
        // something: whatever its length, no start may be refused.
        let resumed = DispatchSemaphore(value: 0)
        DispatchQueue.global().asyncAfter(deadline: .now() + 3) {
            kill(supervisor, SIGCONT)
            resumed.signal()
        }
        defer {
            resumed.wait()
            kill(supervisor, SIGCONT)
        }
        let loop = try home.shell(
            "for i in $(seq 400); do \"$JOB\" start --quiet true >/dev/null || echo refused; done; "
                + "\"$JOB\" wait >/dev/null; echo waited $?",
            timeout: 240)
        #expect(!loop.stdout.contains("refused"), "\(loop.stderr.prefix(300))")
        #expect(loop.stdout.hasSuffix("waited 0\n"))
        let listed = try home.job("get", "--state", "Completed").stdout
        #expect(listed.split(separator: "\n").count == 2 + 401, "\(listed.suffix(300))")
    }
}
