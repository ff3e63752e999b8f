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

    @Test("the database is in WAL mode")
    func wal() throws {
        let path = try temporaryPath()
        _ = try JobDatabase(path: path)
        let header = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(20)
        // Bytes 18 and 19 of the header are 2 in WAL mode.
        #expect(header[18] == 2 && header[19] == 2)
    }
}
