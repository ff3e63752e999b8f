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

@Suite("wait, stop and remove", .timeLimit(.minutes(10)))
struct WaitStopRemoveTests {
    @Test("wait --timeout prints nothing and exits 124; --timeout 0 polls; the job keeps running")
    func waitTimeout() throws {
        let home = try TestHome()
        let gate = try home.fifo("gate")
        try home.job("start", "--quiet", "read x < \(gate)")
        let polled = try home.job("wait", "1", "--timeout", "0")
        #expect(polled.status == 124)
        #expect(polled.stdout == "")
        #expect(try home.job("wait", "1", "--timeout", "0.2").status == 124)
        #expect(try home.record(1)["state"] as? String == "Running")
        try home.release(gate)
        let done = try home.job("wait", "1")
        #expect(done.status == 0)
        #expect(done.stdout.contains("Completed"))
    }

    @Test("wait --any returns when one job has finished and prints that one")
    func waitAny() throws {
        let home = try TestHome()
        let gate = try home.fifo("gate")
        try home.job("start", "--quiet", "read x < \(gate)")
        try home.job("start", "--quiet", "exit 1")
        let any = try home.job("wait", "1", "3", "--any", "--format", "json")
        #expect(any.status == 0)
        #expect(try TestHome.jobs(any).compactMap { $0["id"] as? Int } == [3])
        try home.release(gate)
    }

    @Test("wait returns as soon as the job ends (event-driven, not a polling interval)")
    func waitIsPrompt() throws {
        let home = try TestHome()
        let gate = try home.fifo("gate")
        try home.job("start", "--quiet", "read x < \(gate)")
        let waiter = Thread.detachNewThreadWithResult { try? home.job("wait", "1") }
        let start = Date()
        try home.release(gate)
        let result = waiter.value()
        #expect(result??.status == 0)
        // The wait ends with the job, not at some later poll; the bound has room for a loaded
        // machine (a wait that missed the end would run to the 60 s limit of `home.job`).
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test("stop ends the whole process group, also children that ignore SIGTERM, and the job is Stopped")
    func stopWholeGroup() throws {
        let home = try TestHome()
        let ready = try home.fifo("ready")
        try home.job(
            "start", "--quiet",
            "trap '' TERM; (trap '' TERM; sleep 300) & sleep 300 & echo up > \(ready); wait")
        let fd = open(ready, O_RDONLY)
        var buffer = [UInt8](repeating: 0, count: 8)
        _ = read(fd, &buffer, 8)
        close(fd)
        let pid = try #require(try home.record(2)["pid"] as? Int)
        #expect(liveMembers(ofGroup: Int32(pid)).count >= 3)
        let stopped = try home.job("stop", "1", "--grace", "0.5", "--pass-thru", "--format", "json")
        #expect(stopped.status == 0)
        #expect(try TestHome.jobs(stopped).first?["state"] as? String == "Stopped")
        #expect(liveMembers(ofGroup: Int32(pid)).isEmpty)
        let child = try home.record(2)
        #expect(child["state"] as? String == "Stopped")
        #expect(child["reason"] as? String == "stopped by request")
        #expect(try home.job("stop", "1").status == 0)
    }

    @Test("stop of a polite job returns as soon as it ended, not after the grace period")
    func stopPolite() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "sleep 300")
        try TestHome.eventually("the job to run") { try home.record(2)["pid"] is Int }
        let start = Date()
        #expect(try home.job("stop", "Job1", "--grace", "30").status == 0)
        // Ended by SIGTERM, not by the SIGKILL 30 s later; room for a loaded machine.
        #expect(Date().timeIntervalSince(start) < 20)
        #expect(try home.record(1)["state"] as? String == "Stopped")
        #expect(try home.record(2)["signal"] as? Int == 15)
    }

    @Test("remove deletes finished jobs and their output; refuses running ones and children")
    func remove() throws {
        let home = try TestHome()
        let gate = try home.fifo("gate")
        try home.job("start", "--quiet", "echo done")
        try home.job("start", "--quiet", "echo done")
        try home.job("start", "--quiet", "read x < \(gate)")
        try home.job("wait", "1", "3")
        let output = home.path + "/jobs/" + (try home.record(2)["instanceId"] as? String ?? "") + ".out"
        #expect(FileManager.default.fileExists(atPath: output))
        let result = try home.job("remove", "1", "3", "5")
        #expect(result.status == 1)
        #expect(result.stderr.contains("Job5 (Id 5) is Running"))
        #expect(result.stderr.contains("--force"))
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(!FileManager.default.fileExists(atPath: output.dropLast(4) + ".err"))
        #expect(try TestHome.jobs(try home.job("get", "--format", "json")).compactMap { $0["id"] as? Int } == [5])
        #expect(try home.record(5)["state"] as? String == "Running")
        let child = try home.job("remove", "6")
        #expect(child.status == 1)
        #expect(child.stderr.contains("remove its parent (job remove 5)"))
        let forced = try home.job("remove", "5", "--force", "--grace", "1", "--pass-thru", "--format", "json")
        #expect(forced.status == 0)
        #expect(try TestHome.jobs(forced).map { $0["id"] as? Int } == [5])
        #expect(try TestHome.jobs(forced).map { $0["state"] as? String } == ["Stopped"])
        #expect(try home.job("get", "--format", "json").stdout == "[]\n")
        // Ids are never reused.
        #expect(try home.job("start", "--quiet", "true").stdout == "7\n")
    }

    @Test("selectors: unknown ones are named in errors while the rest is handled; verbs that need one refuse none")
    func selectors() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "--name", "alpha", "true")
        try home.job("wait")
        let mixed = try home.job("get", "1", "42", "ALPHA", "beta", "gam*", "--format", "json")
        #expect(mixed.status == 1)
        #expect(try TestHome.jobs(mixed).compactMap { $0["id"] as? Int } == [1])
        #expect(mixed.stderr.contains("no job has Id 42"))
        #expect(mixed.stderr.contains("no job is named 'beta'"))
        #expect(!mixed.stderr.contains("gam"))
        let uuid = try home.record(2)["instanceId"] as? String ?? ""
        #expect(try TestHome.jobs(try home.job("get", uuid, "--format", "json")).first?["id"] as? Int == 2)
        #expect(try home.job("get", "zzz*").status == 0)
        for verb in ["receive", "stop", "remove"] {
            let refused = try home.job(verb)
            #expect(refused.status == 2)
            #expect(refused.stderr.contains("needs a job"))
        }
        #expect(try home.job("stop", "99").status == 1)
        #expect(try home.job("remove", "--state", "Completed").status == 0)
        #expect(try home.job("get", "--format", "json").stdout == "[]\n")
    }
}

extension Thread {
    /// Runs `body` on a new thread; `value()` blocks until it returns.
    static func detachNewThreadWithResult<T: Sendable>(_ body: @escaping @Sendable () -> T) -> ThreadResult<T> {
        let result = ThreadResult<T>()
        Thread.detachNewThread { result.set(body()) }
        return result
    }
}

final class ThreadResult<T: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var stored: T?
    func set(_ value: T) {
        stored = value
        done.signal()
    }
    func value() -> T? {
        done.wait()
        return stored
    }
}
