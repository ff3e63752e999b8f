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
public enum JobState: String, CaseIterable, Codable, Sendable {
    case notStarted = "NotStarted"
    case running = "Running"
    case stopping = "Stopping"
    case completed = "Completed"
    case failed = "Failed"
    case stopped = "Stopped"
    case blocked = "Blocked"
    case suspended = "Suspended"
    case disconnected = "Disconnected"

    /// A finished job never changes state again.
    public var isFinished: Bool {
        switch self {
        case .completed, .failed, .stopped: true
        default: false
        }
    }

    /// Parses a state name case-insensitively (`completed`, `Completed`, `COMPLETED`).
    public init?(name: String) {
        let lowered = name.lowercased()
        guard let match = JobState.allCases.first(where: { $0.rawValue.lowercased() == lowered }) else {
            return nil
        }
        self = match
    }
}

extension JobState {
    /// The state of a parent job: a pure function of its children's states and of whether
    /// the parent itself was told to stop (the rule of the job model, section 3).
    public static func ofParent(children: [JobState], stopRequested: Bool) -> JobState {
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
