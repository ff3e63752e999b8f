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

import JobCore
import Testing

@Suite("a finished child's outcome is one rule")
struct JobOutcomeTests {
    static let cases: [(JobEnd?, Bool, JobOutcome)] = [
        (.exited(0), false, JobOutcome(state: .completed, exitStatus: 0)),
        (.exited(7), false, JobOutcome(state: .failed, exitStatus: 7, reason: "exited with status 7")),
        (.signaled(9), false, JobOutcome(state: .failed, signal: 9, reason: "killed by signal 9 (SIGKILL)")),
        (
            .launchFailed(reason: "shell /x does not exist"), false,
            JobOutcome(state: .failed, reason: "shell /x does not exist")
        ),
        (nil, false, JobOutcome(state: .failed, reason: "unseen")),
        (.exited(0), true, JobOutcome(state: .stopped, exitStatus: 0, reason: "stopped by request")),
        (.exited(143), true, JobOutcome(state: .stopped, exitStatus: 143, reason: "stopped by request")),
        (.signaled(15), true, JobOutcome(state: .stopped, signal: 15, reason: "stopped by request")),
        (.launchFailed(reason: "no such folder"), true, JobOutcome(state: .failed, reason: "no such folder")),
        (nil, true, JobOutcome(state: .stopped, reason: "stopped by request")),
    ]

    @Test("ends, stop requests and unseen ends", arguments: cases)
    func rule(_ end: JobEnd?, _ stopRequested: Bool, _ expected: JobOutcome) {
        #expect(JobOutcome.of(end, stopRequested: stopRequested, unseen: "unseen") == expected)
    }
}
