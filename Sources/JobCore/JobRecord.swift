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

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A job as the agent sends it: every property of the job model's section 7, as one row with
/// the fields of every state (the library's ``Job`` is the domain's view of it).
package struct JobRecord: Codable, Sendable, Equatable {
    package var id: Int
    package var parentId: Int?
    package var childIds: [Int]
    package var name: String
    package var instanceId: String
    /// `BackgroundJob`, `RemoteJob`; empty on children.
    package var type: String
    package var state: JobState
    package var hasMoreData: Bool
    package var location: String
    package var command: String
    package var workingDirectory: String
    package var reason: String?
    package var exitStatus: Int?
    package var signal: Int?
    package var pid: Int?
    package var beginTime: Date?
    package var endTime: Date?
    /// Set on rows that came from another computer's agent.
    package var computer: String?
    /// The queue: the group (nil: `default`), the seconds it may run, the jobs it waits for
    /// (to end Completed, or to end in any way), and when it may start at the earliest.
    package var group: String?
    package var timeout: Double?
    package var after: [Int] = []
    package var afterAny: [Int] = []
    package var startAt: Date?
    /// Bytes of output past which it is stopped (`--max-output`).
    package var maxOutput: Int64?
    /// How many times `job restart` ran it again, and the InstanceIds of the earlier runs whose
    /// output was kept.
    package var restarts: Int?
    package var history: [String] = []
    /// A child's: how many times its state changed in the agent that answers (counted from
    /// when that agent took it over). Events use it to say how many changes fell between two
    /// looks at the jobs.
    package var stateChanges: Int?
    /// A child a cluster scheduler runs: its id there (`42`, or `42_3` for an array's task).
    package var schedulerJobId: String?

    package init(
        id: Int, parentId: Int? = nil, childIds: [Int] = [], name: String, instanceId: String,
        type: String, state: JobState, hasMoreData: Bool, location: String, command: String,
        workingDirectory: String, reason: String? = nil, exitStatus: Int? = nil, signal: Int? = nil,
        pid: Int? = nil, beginTime: Date? = nil, endTime: Date? = nil, computer: String? = nil
    ) {
        self.id = id
        self.parentId = parentId
        self.childIds = childIds
        self.name = name
        self.instanceId = instanceId
        self.type = type
        self.state = state
        self.hasMoreData = hasMoreData
        self.location = location
        self.command = command
        self.workingDirectory = workingDirectory
        self.reason = reason
        self.exitStatus = exitStatus
        self.signal = signal
        self.pid = pid
        self.beginTime = beginTime
        self.endTime = endTime
        self.computer = computer
    }

    package var isParent: Bool { parentId == nil }
}

/// The kinds of parent job.
public enum JobType {
    public static let background = "BackgroundJob"
    public static let remote = "RemoteJob"
    /// Run by a cluster scheduler (`start --scheduler slurm`).
    public static let slurm = "SlurmJob"
}

/// What a row of `get`'s table shows of a job: the columns, and the computer whose agent it
/// came from. A client that prints a table reads only these from the agent's reply (the other
/// fields are skipped unread), which halves the work of reading 100,000 jobs.
package struct JobRow: Sendable, Equatable {
    package var id: Int
    package var name: String
    package var type: String
    package var state: JobState
    package var hasMoreData: Bool
    package var location: String
    package var command: String
    package var computer: String?
    /// `get --wide`'s columns: ExitStatus, Duration (seconds; to now while it runs) and Group.
    package var exitStatus: Int?
    package var duration: Double?
    package var group: String?

    package init(
        id: Int, name: String, type: String, state: JobState, hasMoreData: Bool, location: String, command: String,
        computer: String? = nil
    ) {
        self.id = id
        self.name = name
        self.type = type
        self.state = state
        self.hasMoreData = hasMoreData
        self.location = location
        self.command = command
        self.computer = computer
    }

    package init(_ job: JobRecord) {
        self.init(
            id: job.id, name: job.name, type: job.type, state: job.state, hasMoreData: job.hasMoreData,
            location: job.location, command: job.command, computer: job.computer)
    }

    /// A row with `get --wide`'s columns filled in.
    package static func wide(_ job: JobRecord, now: Date = Date()) -> JobRow {
        var row = JobRow(job)
        row.exitStatus = job.exitStatus
        row.group = job.group
        if let begin = job.beginTime { row.duration = max(0, (job.endTime ?? now).timeIntervalSince(begin)) }
        return row
    }
}
