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
import JobTestSupport
import Testing

@testable import JobStore

@Suite("the SQLite store")
struct JobDatabaseTests {
    func temporaryPath() throws -> String {
        let folder = FileManager.default.temporaryDirectory.path + "/job-store-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder + "/jobs.sqlite"
    }

    func template(_ type: String = JobType.background) -> StoredJob {
        StoredJob(
            instanceId: UUID().uuidString.lowercased(), type: type, location: "localhost", command: "true",
            workingDirectory: "/", shell: "/bin/sh")
    }

    @Test("Ids come from one counter, parent first, and survive reopening")
    func counter() throws {
        let path = try temporaryPath()
        do {
            let database = try JobDatabase(path: path)
            let first = try database.create(parent: template(), children: [template("")], environment: ["A=1"])
            #expect(first.map(\.id) == [1, 2])
            #expect(first.map(\.name) == ["Job1", "Job2"])
            #expect(first[1].parentId == 1)
        }
        let reopened = try JobDatabase(path: path)
        var named = template()
        named.name = "build"
        let second = try reopened.create(
            parent: named, children: [template(""), template(""), template("")], environment: [])
        #expect(second.map(\.id) == [3, 4, 5, 6])
        #expect(second.map(\.name) == ["build", "Job4", "Job5", "Job6"])
        #expect(try reopened.environment(of: 2) == ["A=1"])
        #expect(try reopened.loadAll().count == 6)
    }

    @Test("no Id is given out twice: not after the newest jobs are removed, nor after a reopen with no checkpoint")
    func idsOfRemovedJobs() throws {
        let path = try temporaryPath()
        do {
            let database = try JobDatabase(path: path)
            _ = try database.create(parent: template(), children: [template("")], environment: [])
            var parent = template()
            parent.id = 3
            var child = template("")
            child.id = 4
            child.parentId = 3
            // Ids given out by the agent's table: stored without writing the counter.
            try database.insert([parent, child], environment: [])
            #expect(try database.lastId() == 4)
            try database.delete(ids: [3])
            #expect(try database.loadAll().map(\.id) == [1, 2])
            #expect(try database.lastId() == 4)
        }
        do {
            // Reopened (as after a killed agent: no checkpoint since).
            let reopened = try JobDatabase(path: path)
            #expect(try reopened.lastId() == 4)
            #expect(try reopened.create(parent: template(), children: [], environment: []).map(\.id) == [5])
            try reopened.delete(ids: [1, 5])
        }
        let last = try JobDatabase(path: path)
        #expect(try last.lastId() == 5)
        #expect(try last.create(parent: template(), children: [template("")], environment: []).map(\.id) == [6, 7])
    }

    @Test("a start's environment is written once, on its parent, and every child reads it; older rows keep theirs")
    func environmentOnce() throws {
        let path = try temporaryPath()
        do {
            let database = try JobDatabase(path: path)
            let environment = ["PATH=/usr/bin", "HOME=/root", "X=" + String(repeating: "x", count: 4000)]
            _ = try database.create(
                parent: template(), children: (0..<200).map { _ in template("") }, environment: environment)
            for id in [2, 100, 201] { #expect(try database.environment(of: id) == environment) }
            // A store written before: each child has its own, the parent none.
            var parent = template()
            parent.id = 300
            var child = template("")
            child.id = 301
            child.parentId = 300
            try database.insert([parent], environment: ["NOT=this"])
            try database.insert([child], environment: ["OLD=1"])
            #expect(try database.environment(of: 301) == ["OLD=1"])
        }
        // Read with the store closed (it keeps its file locked while open).
        let counted = try TestHome.run(
            "/usr/bin/python3",
            [
                "-c",
                "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
                    + "print(c.execute('select count(*) from job where environment is not null and id < 300')"
                    + ".fetchone()[0])",
                path,
            ], stdin: nil, environment: ProcessInfo.processInfo.environment, directory: "/", timeout: 30)
        let stored = counted.stdout
        #expect(stored == "1\n", "one row of the first start keeps the environment: \(counted.stderr)")
    }

    @Test("updates are written through and deleting a parent deletes its children; Ids are not reused")
    func updateAndDelete() throws {
        let database = try JobDatabase(path: try temporaryPath())
        var made = try database.create(parent: template(), children: [template("")], environment: [])
        made[1].state = .failed
        made[1].reason = "exited with status 3"
        made[1].exitStatus = 3
        made[1].outputRead = 42
        made[1].endTime = Date(timeIntervalSince1970: 1000.25)
        try database.update([made[1]])
        let loaded = try database.loadAll()
        #expect(loaded[1] == made[1])
        try database.delete(ids: [1])
        #expect(try database.loadAll().isEmpty)
        #expect(try database.create(parent: template(), children: [], environment: []).first?.id == 3)
    }

    @Test("every column is stored as it was given, inserted and updated, and read back the same")
    func everyColumn() throws {
        let database = try JobDatabase(path: try temporaryPath())
        var parent = template(JobType.remote)
        parent.name = "all"
        parent.throttleLimit = 3
        parent.sshOptions = ["-p", "2222", ""]
        parent.remoteEnvironment = ["A=b c", "E="]
        parent.queueGroup = "build"
        parent.after = [1, 7]
        parent.afterAny = [9]
        parent.notBefore = Date(timeIntervalSince1970: 1_700_000_000.5)
        parent.timeout = 12.25
        parent.umask = 0o027
        parent.maxOutput = Int64.max
        parent.stopGrace = 0
        parent.inputFile = "/tmp/input"
        parent.durable = true
        parent.deploy = true
        parent.scheduler = "slurm"
        parent.schedulerOptions = ["--mem=1G", "--time=5"]
        var child = template("")
        child.computer = "node1"
        child.reason = ""
        child.exitStatus = -1
        child.signal = 15
        child.pid = Int(Int32.max)
        child.pidStart = Int64.max
        child.waiterPid = 1
        child.waiterStart = 0
        child.bootId = "boot"
        child.beginTime = Date(timeIntervalSince1970: 0)
        child.outputRead = -5
        child.errorSize = Int64.max
        child.session = 4
        child.placement = .session
        child.stopRequested = true
        child.timedOut = true
        child.command = "printf 'é\\0 %s' \"$HOME\""
        let made = try database.create(parent: parent, children: [child], environment: ["X=1", "", "Y=ü"])
        #expect(try database.loadAll() == made)
        #expect(try database.environment(of: made[1].id) == ["X=1", "", "Y=ü"])
        var changed = made
        changed[1].state = .stopped
        changed[1].reason = nil
        changed[1].exitStatus = nil
        changed[1].signal = nil
        changed[1].pid = nil
        changed[1].bootId = nil
        changed[1].endTime = Date(timeIntervalSince1970: 1_700_000_001.125)
        changed[1].suspendedAt = Date(timeIntervalSince1970: 5)
        changed[1].suspendedFor = 2.5
        changed[1].restarts = 2
        changed[1].history = ["a", "b"]
        changed[1].disconnectedAt = Date(timeIntervalSince1970: 6)
        changed[1].name = ""
        changed[1].schedulerJobId = "123_4"
        changed[1].after = []
        changed[1].outputCapped = true
        changed[0].stopRequested = true
        try database.update(changed)
        #expect(try database.loadAll() == changed)
        // An empty environment and no options are read back empty.
        let bare = try database.create(parent: template(), children: [template("")], environment: [])
        #expect(try database.environment(of: bare[1].id) == [])
        #expect(try database.loadAll().suffix(2) == bare[...])
    }

    @Test("the database is in WAL mode")
    func wal() throws {
        let path = try temporaryPath()
        _ = try JobDatabase(path: path)
        let header = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(20)
        // Bytes 18 and 19 of the header are 2 in WAL mode.
        #expect(header[18] == 2 && header[19] == 2)
    }
}
