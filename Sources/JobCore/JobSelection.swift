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

/// Which jobs a verb acts on: positional selectors plus the filters every verb shares.
///
/// An Id or InstanceId selects exactly that job, parent or child; names, globs and the
/// filters select parents only. See the job model, section 5.
public struct JobSelection: Codable, Sendable, Equatable {
    /// Ids, InstanceIds or name globs, as typed.
    public var selectors: [String]
    /// `--name GLOB`, any of which may match.
    public var names: [String]
    /// `--state S`, any of which may match.
    public var states: [JobState]
    /// `--all`.
    public var all: Bool

    public init(selectors: [String] = [], names: [String] = [], states: [JobState] = [], all: Bool = false) {
        self.selectors = selectors
        self.names = names
        self.states = states
        self.all = all
    }

    /// Exactly this job (parent or child), by its Id.
    package static func job(_ job: JobRecord) -> JobSelection { JobSelection(selectors: [String(job.id)]) }

    /// Exactly these jobs, by Id.
    public static func ids(_ ids: [Int]) -> JobSelection { JobSelection(selectors: ids.map(String.init)) }

    /// Every job.
    public static let every = JobSelection(all: true)

    /// Whether the user named anything at all; verbs that must not act on everything by
    /// default (receive, stop, remove) refuse an empty selection.
    public var isEmpty: Bool { selectors.isEmpty && names.isEmpty && states.isEmpty && !all }
}

/// The outcome of applying a selection: the jobs, in Id order, and one message for each
/// selector that named something that does not exist.
package struct SelectionResult: Sendable {
    package var jobs: [JobRecord]
    package var errors: [String]

    package init(jobs: [JobRecord], errors: [String]) {
        self.jobs = jobs
        self.errors = errors
    }
}

/// What selecting needs to know of a job; cheaper to make than a whole `JobRecord`.
package struct SelectionCandidate: Sendable {
    package var id: Int
    package var isParent: Bool
    package var instanceId: String
    package var name: String
    package var state: JobState

    package init(id: Int, isParent: Bool, instanceId: String, name: String, state: JobState) {
        self.id = id
        self.isParent = isParent
        self.instanceId = instanceId
        self.name = name
        self.state = state
    }
}

extension JobSelection {
    /// Applies the selection to `jobs` (parents and children). With nothing selected, every
    /// parent is selected.
    package func apply(to jobs: [JobRecord]) -> SelectionResult {
        let byId = Dictionary(jobs.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let (ids, errors) = select(
            jobs.map {
                SelectionCandidate(
                    id: $0.id, isParent: $0.isParent, instanceId: $0.instanceId, name: $0.name, state: $0.state)
            })
        return SelectionResult(jobs: ids.compactMap { byId[$0] }, errors: errors)
    }

    /// Applies the selection to candidates in Id order; returns the chosen Ids in order and
    /// one message for each selector that names nothing.
    package func select(_ candidates: [SelectionCandidate]) -> (ids: [Int], errors: [String]) {
        let jobs = candidates
        var errors: [String] = []
        guard !selectors.isEmpty else {
            return (filtered(jobs.filter(\.isParent)).map(\.id), errors)
        }
        var chosen: [Int: SelectionCandidate] = [:]
        let parents = jobs.filter(\.isParent)
        for selector in listed(selectors, parents: parents, errors: &errors) {
            switch Self.classify(selector) {
            case .id(let id):
                if let job = Self.find(id, in: jobs) {
                    chosen[job.id] = job
                } else {
                    errors.append("no job has Id \(id)")
                }
            case .instanceId(let uuid):
                if let job = jobs.first(where: { $0.instanceId == uuid }) {
                    chosen[job.id] = job
                } else {
                    errors.append("no job has InstanceId \(uuid)")
                }
            case .name(let glob):
                let matches = parents.filter { glob.matches($0.name) }
                if matches.isEmpty && !glob.hasWildcards {
                    errors.append("no job is named '\(selector)'")
                }
                for job in matches { chosen[job.id] = job }
            }
        }
        return (filtered(chosen.values.sorted { $0.id < $1.id }).map(\.id), errors)
    }

    /// The selectors with each comma list (`27,29,33`, `build,test`) taken apart, unless a job
    /// has that whole name; an empty item is an error.
    func listed(_ selectors: [String], parents: [SelectionCandidate], errors: inout [String]) -> [String] {
        selectors.flatMap { selector -> [String] in
            guard selector.contains(","), case .name(let glob) = Self.classify(selector),
                !parents.contains(where: { glob.matches($0.name) })
            else { return [selector] }
            let items = selector.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if items.contains(where: \.isEmpty) {
                errors.append("'\(selector)' has an empty item: separate jobs with single commas (27,29,33)")
            }
            return items.filter { !$0.isEmpty }
        }
    }

    /// The `--name` and `--state` filters.
    func filtered(_ candidates: [SelectionCandidate]) -> [SelectionCandidate] {
        var result = candidates
        if !names.isEmpty {
            let globs = names.map(Glob.init)
            result = result.filter { job in job.isParent && globs.contains { $0.matches(job.name) } }
        }
        if !states.isEmpty {
            result = result.filter { states.contains($0.state) }
        }
        return result
    }

    /// Whether any selector can name a child (an Id or an InstanceId); names and filters
    /// look at parents only.
    public var canSelectChildren: Bool {
        selectors.contains { selector in
            // A comma list may hold Ids.
            if case .name = Self.classify(selector) { return selector.contains(",") }
            return true
        }
    }

    /// Binary search: candidates come in Id order.
    static func find(_ id: Int, in jobs: [SelectionCandidate]) -> SelectionCandidate? {
        var low = 0
        var high = jobs.count - 1
        while low <= high {
            let middle = (low + high) / 2
            if jobs[middle].id == id { return jobs[middle] }
            if jobs[middle].id < id { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }

    enum SelectorKind {
        case id(Int)
        case instanceId(String)
        case name(Glob)
    }

    static func classify(_ selector: String) -> SelectorKind {
        if let id = Int(selector), id >= 0, selector.allSatisfy(\.isASCII) {
            return .id(id)
        }
        if isUUID(selector) {
            return .instanceId(selector.lowercased())
        }
        return .name(Glob(selector))
    }

    /// Whether `text` has the 8-4-4-4-12 hexadecimal shape of a UUID.
    public static func isUUID(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        guard utf8.count == 36 else { return false }
        for (index, byte) in utf8.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                if byte != UInt8(ascii: "-") { return false }
            } else if !((48...57).contains(byte) || (97...102).contains(byte) || (65...70).contains(byte)) {
                return false
            }
        }
        return true
    }
}
