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

@Suite("table, list and JSON")
struct FormatterTests {
    static let job = JobRecord(
        id: 5, childIds: [6, 7, 8], name: "Job5", instanceId: "0f0e0d0c-0000-4000-8000-000000000005",
        type: JobType.remote, state: .failed, hasMoreData: true, location: "localhost,server01,server02",
        command: "date", workingDirectory: "/home/a\"b", reason: "Job7 failed: exited with status 1",
        beginTime: Date(timeIntervalSince1970: 1_764_063_073.042))

    @Test("columns in PowerShell's order, two spaces apart, rules as long as the headers")
    func table() {
        #expect(
            JobFormatter.table([Self.job]) == """
                Id  Name  Type       State   HasMoreData  Location                     Command
                --  ----  ----       -----   -----------  --------                     -------
                5   Job5  RemoteJob  Failed  True         localhost,server01,server02  date

                """)
        #expect(JobFormatter.table([]) == "")
    }

    @Test("on a narrow terminal long cells are cut with ... so the row fits")
    func truncation() {
        var job = Self.job
        job.command = String(repeating: "c", count: 100)
        let table = JobFormatter.table([job], width: 80)
        for line in table.split(separator: "\n") { #expect(line.count <= 80) }
        #expect(table.contains("localhost,serve..."))
        #expect(table.contains("ccc..."))
    }

    @Test("rows from other computers' agents lead with a Computer column, cut to fit like the rest")
    func computerColumn() {
        var job = Self.job
        job.computer = "server01"
        var other = job
        other.computer = "user@server02:2222"
        other.command = String(repeating: "c", count: 100)
        let table = JobFormatter.table([job, other])
        let lines = table.split(separator: "\n")
        #expect(lines[0].hasPrefix("Computer            Id  Name"))
        #expect(lines[2].hasPrefix("server01            5   Job5"))
        #expect(lines[3].hasPrefix("user@server02:2222  5   Job5"))
        for line in JobFormatter.table([job, other], width: 90).split(separator: "\n") {
            #expect(line.count <= 90)
            #expect(
                line.hasPrefix("Computer") || line.hasPrefix("--------") || line.hasPrefix("server01")
                    || line.hasPrefix("user@server02:2222"))
        }
    }

    @Test("newlines in a command do not break a row")
    func controlCharacters() {
        var job = Self.job
        job.command = "echo a\necho b"
        #expect(JobFormatter.table([job]).split(separator: "\n").count == 3)
    }

    @Test("JSON keys in the documented order with nulls, escapes and ISO 8601 times")
    func json() throws {
        let text = JobFormatter.json([Self.job])
        let keys = text.split(separator: "\n").compactMap { line -> String? in
            guard let quote = line.firstIndex(of: "\""), let colon = line.range(of: "\":") else { return nil }
            return String(line[line.index(after: quote)..<colon.lowerBound])
        }
        #expect(
            keys == [
                "id", "parentId", "childIds", "name", "instanceId", "type", "state", "hasMoreData", "location",
                "command",
                "workingDirectory", "reason", "exitStatus", "signal", "pid", "beginTime", "endTime", "group",
                "timeout", "after", "afterAny", "startAt", "maxOutput", "restarts", "history",
            ])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]).first
        #expect(object?["workingDirectory"] as? String == "/home/a\"b")
        #expect(object?["beginTime"] as? String == "2025-11-25T09:31:13.042Z")
        #expect(object?["childIds"] as? [Int] == [6, 7, 8])
        #expect(object?["parentId"] is NSNull)
        #expect(JobFormatter.json([]) == "[]\n")
    }

    @Test("timestamps round-trip and accept the usual ISO 8601 shapes")
    func timestamps() {
        let date = Date(timeIntervalSince1970: 1_764_063_073.5)
        #expect(Timestamp.parse(Timestamp.format(date)) == date)
        #expect(Timestamp.parse("2025-11-25")?.timeIntervalSince1970 == 1_764_028_800)
        #expect(Timestamp.parse("2025-11-25T10:31:13+01:00")?.timeIntervalSince1970 == 1_764_063_073)
        #expect(Timestamp.parse("yesterday") == nil)
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
    }
}
