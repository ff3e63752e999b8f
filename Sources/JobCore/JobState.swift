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

/// The state of a job, parent or child, with the names PowerShell uses.
///
/// A struct rather than an enum, so that a state added later (a scheduler's, say) breaks no
/// program: compare with the constants, or `switch` with a `default`. `rawValue` is the name
/// the `job` command shows and the JSON carries.
public struct JobState: Hashable, Sendable, CaseIterable, Codable, RawRepresentable, CustomStringConvertible {
    /// The states this version knows; the package switches over them exhaustively.
    package enum Known: String, CaseIterable, Sendable {
        case notStarted = "NotStarted"
        case running = "Running"
        case stopping = "Stopping"
        case completed = "Completed"
        case failed = "Failed"
        case stopped = "Stopped"
        case blocked = "Blocked"
        case suspended = "Suspended"
        case disconnected = "Disconnected"
    }

    package let known: Known

    package init(_ known: Known) { self.known = known }

    public static var notStarted: JobState { JobState(.notStarted) }
    public static var running: JobState { JobState(.running) }
    public static var stopping: JobState { JobState(.stopping) }
    public static var completed: JobState { JobState(.completed) }
    public static var failed: JobState { JobState(.failed) }
    public static var stopped: JobState { JobState(.stopped) }
    public static var blocked: JobState { JobState(.blocked) }
    public static var suspended: JobState { JobState(.suspended) }
    public static var disconnected: JobState { JobState(.disconnected) }

    public static var allCases: [JobState] { Known.allCases.map(JobState.init) }

    /// The state of this name (`Running`), if this version knows it.
    public init?(rawValue: String) {
        guard let known = Known(rawValue: rawValue) else { return nil }
        self.known = known
    }

    public var rawValue: String { known.rawValue }
    public var description: String { known.rawValue }

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let state = JobState(rawValue: name) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "an unknown state '\(name)'"))
        }
        self = state
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// A finished job never changes state again.
    public var isFinished: Bool {
        switch known {
        case .completed, .failed, .stopped: true
        default: false
        }
    }

    /// Parses a state name case-insensitively (`completed`, `Completed`, `COMPLETED`).
    public init?(name: String) {
        let lowered = name.lowercased()
        guard let match = Known.allCases.first(where: { $0.rawValue.lowercased() == lowered }) else { return nil }
        known = match
    }
}

extension JobState {
    /// The state of a parent job: a pure function of its children's states and of whether
    /// the parent itself was told to stop (the rule of the job model, section 3).
    package static func ofParent(children: [JobState], stopRequested: Bool) -> JobState {
        if children.allSatisfy(\.isFinished) {
            if children.contains(.failed) { return .failed }
            if children.contains(.stopped) { return .stopped }
            if children.isEmpty && stopRequested { return .stopped }
            return .completed
        }
        let unfinished = children.filter { !$0.isFinished }
        if children.contains(.blocked) { return .blocked }
        if unfinished.allSatisfy({ $0 == .disconnected }) { return .disconnected }
        if unfinished.allSatisfy({ $0 == .suspended }) { return .suspended }
        if stopRequested { return .stopping }
        if children.contains(where: { $0 == .running || $0 == .stopping || $0.isFinished }) { return .running }
        return .notStarted
    }
}
