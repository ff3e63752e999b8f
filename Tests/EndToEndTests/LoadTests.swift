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

@Suite("load", .timeLimit(.minutes(10)))
struct LoadTests {
    /// 500 running jobs and 50 clients each making 100 calls at once. The figures against their
    /// targets (p99 < 100 ms, peak < 50 MB) come from the release build in `Benchmarks/bench.py`;
    /// here, in the debug build, every call must be answered, memory must stay bounded, and no
    /// call may take anywhere near a client's patience.
    @Test("500 running jobs and 50 clients of 100 calls each: every call answered, memory bounded")
    func manyClients() throws {
        let home = try TestHome()
        let outcome = try LoadDriver.run(environment: home.environment, jobs: 500, clients: 50, calls: 100)
        print("load (debug build): 500 running jobs, 50 clients x 100 calls: \(outcome.summary)")
        #expect(outcome.failures == 0)
        #expect(outcome.latencies.count == 5000)
        #expect(outcome.agentPeak < 50 << 20)
        #expect(outcome.percentile(99) < 1)
    }
}
