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

@Suite("selectors and globs")
struct SelectionTests {
    static let jobs: [JobRecord] = [
        record(1, name: "Build", state: .completed, children: [2]),
        record(2, name: "Job2", state: .completed, parent: 1),
        record(3, name: "test-unit", state: .running, children: [4]),
        record(4, name: "Job4", state: .running, parent: 3),
    ]

    static func record(_ id: Int, name: String, state: JobState, parent: Int? = nil, children: [Int] = []) -> JobRecord
    {
        JobRecord(
            id: id, parentId: parent, childIds: children, name: name,
            instanceId: "00000000-0000-0000-0000-00000000000\(id)", type: parent == nil ? JobType.background : "",
            state: state, hasMoreData: true, location: "localhost", command: "true", workingDirectory: "/")
    }

    @Test(
        "glob matching",
        arguments: [
            ("job*", "Job12", true), ("J?b1", "job1", true), ("*unit", "test-unit", true), ("[bt]*", "Build", true),
            ("[!b]*", "Build", false), ("a*b*c", "aXXbYYc", true), ("a*b*c", "aXXbYY", false), ("", "", true),
            ("abc", "abcd", false), ("*", "", true), ("[a-c]x", "Bx", true),
        ])
    func glob(pattern: String, text: String, matches: Bool) {
        #expect(Glob(pattern).matches(text) == matches)
    }

    @Test("an Id selects a child exactly; names select parents only")
    func idsAndNames() {
        #expect(JobSelection(selectors: ["2"]).apply(to: Self.jobs).jobs.map(\.id) == [2])
        #expect(JobSelection(selectors: ["job*"]).apply(to: Self.jobs).jobs.map(\.id) == [])
        #expect(JobSelection(selectors: ["BUILD", "3"]).apply(to: Self.jobs).jobs.map(\.id) == [1, 3])
        #expect(
            JobSelection(selectors: ["00000000-0000-0000-0000-000000000004"]).apply(to: Self.jobs).jobs.map(\.id)
                == [4])
    }

    @Test("a plain selector matching nothing is an error; a glob is an empty selection")
    func misses() {
        let result = JobSelection(selectors: ["9", "nope", "zz*", "1"]).apply(to: Self.jobs)
        #expect(result.jobs.map(\.id) == [1])
        #expect(result.errors == ["no job has Id 9", "no job is named 'nope'"])
    }

    @Test("filters narrow to parents; no selector means every parent")
    func filters() {
        #expect(JobSelection().apply(to: Self.jobs).jobs.map(\.id) == [1, 3])
        #expect(JobSelection(states: [.running]).apply(to: Self.jobs).jobs.map(\.id) == [3])
        #expect(JobSelection(names: ["test*"]).apply(to: Self.jobs).jobs.map(\.id) == [3])
        #expect(JobSelection(all: true).apply(to: Self.jobs).jobs.map(\.id) == [1, 3])
        #expect(JobSelection().isEmpty && !JobSelection(all: true).isEmpty)
    }
}
