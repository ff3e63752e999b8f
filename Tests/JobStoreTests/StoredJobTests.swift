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
import Testing

@testable import JobStore

/// A row kept small: the properties give back exactly what was set.
@Suite("a stored job's compact row")
struct StoredJobTests {
    static func job(instanceId: String) -> StoredJob {
        StoredJob(
            id: 2, parentId: 1, instanceId: instanceId, type: "", location: "localhost", command: "true",
            workingDirectory: "/", shell: "/bin/sh")
    }

    @Test(
        "an InstanceId comes back as it was given, a lowercase UUID kept as 16 bytes",
        arguments: [
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "00000000-0000-0000-0000-000000000000",
            // Not the usual form: kept as text.
            "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "", "session-7",
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fg", "0f1e2d3c-4b5a-6978-8796_a5b4c3d2e1f0",
        ])
    func instanceIds(text: String) {
        var job = Self.job(instanceId: text)
        #expect(job.instanceId == text)
        let fresh = UUID().uuidString.lowercased()
        job.instanceId = fresh
        #expect(job.instanceId == fresh)
        let isUUID = text.count == 36 && text == text.lowercased() && UUID(uuidString: text) != nil
        if case .uuid = InstanceKey(text) { #expect(isUUID) } else { #expect(!isUUID) }
    }

    @Test("optional numbers and times: none, and values at their edges")
    func optionals() {
        var job = Self.job(instanceId: "x")
        #expect(job.parentId == 1)
        #expect(job.exitStatus == nil && job.signal == nil && job.pid == nil && job.waiterPid == nil)
        #expect(job.session == nil && job.pidStart == nil && job.waiterStart == nil)
        #expect(job.beginTime == nil && job.endTime == nil)
        job.exitStatus = 0
        job.signal = 64
        job.pid = 4_194_304
        job.waiterPid = 1
        job.session = 3
        job.pidStart = Int64.max
        job.waiterStart = 0
        let begin = Date(timeIntervalSince1970: 1_790_000_000.123456)
        job.beginTime = begin
        job.endTime = Date(timeIntervalSince1970: 0)
        #expect(job.exitStatus == 0 && job.signal == 64 && job.pid == 4_194_304 && job.waiterPid == 1)
        #expect(job.session == 3 && job.pidStart == Int64.max && job.waiterStart == 0)
        #expect(job.beginTime == begin && job.endTime == Date(timeIntervalSince1970: 0))
        job.parentId = nil
        job.exitStatus = nil
        job.beginTime = nil
        #expect(job.parentId == nil && job.exitStatus == nil && job.beginTime == nil)
        // A value past 32 bits is kept at the largest that fits, not wrapped.
        job.exitStatus = Int(Int32.max) + 5
        #expect(job.exitStatus == Int(Int32.max))
    }

    @Test("the fields few jobs have: set, changed and cleared; a copy keeps its own")
    func extras() {
        var job = Self.job(instanceId: "x")
        #expect(job.shell == "/bin/sh" && job.reason == nil && job.computer == nil)
        #expect(job.throttleLimit == 0 && job.sshOptions.isEmpty && job.remoteEnvironment.isEmpty)
        let plain = job
        job.reason = "killed"
        job.computer = "web1"
        job.shell = "/bin/bash"
        job.throttleLimit = 4
        job.sshOptions = ["-p", "2222"]
        job.remoteEnvironment = ["A=1"]
        var copy = job
        copy.reason = "other"
        copy.shell = "/bin/sh"
        #expect(job.reason == "killed" && job.computer == "web1" && job.shell == "/bin/bash")
        #expect(job.throttleLimit == 4 && job.sshOptions == ["-p", "2222"] && job.remoteEnvironment == ["A=1"])
        #expect(copy.reason == "other" && copy.shell == "/bin/sh" && copy.computer == "web1")
        #expect(job != copy && job != plain)
        job.reason = nil
        job.computer = nil
        job.shell = "/bin/sh"
        job.throttleLimit = 0
        job.sshOptions = []
        job.remoteEnvironment = []
        #expect(job == plain)
    }

    @Test("a row is under 250 bytes in place")
    func size() {
        #expect(MemoryLayout<StoredJob>.size < 250, "\(MemoryLayout<StoredJob>.size)")
    }
}
