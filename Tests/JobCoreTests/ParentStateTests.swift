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

@Suite("the parent's state is a pure function of its children")
struct ParentStateTests {
    @Test(
        "each case of the model's rule",
        arguments: [
            ([JobState.completed, .failed, .completed], false, JobState.failed),
            ([.completed, .stopped], false, .stopped),
            ([.failed, .stopped], false, .failed),
            ([.completed, .completed], false, .completed),
            ([.completed], true, .completed),
            ([.running, .failed, .completed], false, .running),
            ([.blocked, .running], false, .blocked),
            ([.disconnected, .completed], false, .disconnected),
            ([.disconnected, .running], false, .running),
            ([.suspended, .suspended, .completed], false, .suspended),
            ([.running, .running], true, .stopping),
            ([.notStarted, .notStarted], true, .stopping),
            ([.stopping, .completed], false, .running),
            ([.notStarted, .completed], false, .running),
            ([.notStarted, .notStarted], false, .notStarted),
            ([.blocked, .disconnected], true, .blocked),
            ([.disconnected], true, .disconnected),
        ])
    func rule(children: [JobState], stopRequested: Bool, expected: JobState) {
        #expect(JobState.ofParent(children: children, stopRequested: stopRequested) == expected)
    }

    @Test("finished states are exactly Completed, Failed and Stopped")
    func finished() {
        #expect(JobState.allCases.filter(\.isFinished) == [.completed, .failed, .stopped])
    }

    @Test("state names parse case-insensitively")
    func names() {
        #expect(JobState(name: "notstarted") == .notStarted)
        #expect(JobState(name: "FAILED") == .failed)
        #expect(JobState(name: "done") == nil)
    }
}
