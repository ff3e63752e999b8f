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
