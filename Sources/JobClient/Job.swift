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

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A job, parent or child, as the agent last reported it: the properties of the job model's
/// section 7, with what belongs to one state kept with it (a process while it runs, an end
/// once it has finished).
///
/// It is a snapshot: ask the client again (`jobs`, `wait`, or watch `events`) to see it change.
public struct Job: Sendable, Equatable, Identifiable, CustomStringConvertible {
    /// The agent's row, as the wire carries it (the `job` command formats from it).
    package let record: JobRecord

    package init(_ record: JobRecord) { self.record = record }

    /// The Id, unique in its agent, that selectors name.
    public var id: Int { record.id }
    /// The name given with `--name`, else `Job<Id>`; a child has its parent's.
    public var name: String { record.name }
    /// A unique identifier that never names another job, on any computer.
    public var instanceId: String { record.instanceId }
    /// The job the user started (`nil`), or the parent of this child.
    public var parentId: Int? { record.parentId }
    public var isParent: Bool { record.parentId == nil }
    public var childIds: [Int] { record.childIds }
    /// `BackgroundJob` or `RemoteJob` (see `JobType`) for a parent; empty for a child.
    public var type: String { record.type }
    public var state: JobState { record.state }
    /// Why it is in its state, where that needs saying: a queue's wait, a lost link, the way it
    /// failed or was stopped.
    public var reason: String? { record.reason }
    /// Output that no `receive` has taken yet.
    public var hasMoreData: Bool { record.hasMoreData }
    /// Where its children run: `localhost`, a computer, or a list of them.
    public var location: String { record.location }
    public var command: String { record.command }
    public var workingDirectory: String { record.workingDirectory }
    /// Set on jobs that another computer's agent reported.
    public var computer: String? { record.computer }
    /// A child a cluster scheduler runs: its id there (`42`, or `42_3` for an array's task).
    public var schedulerJobId: String? { record.schedulerJobId }
    /// When it began to run.
    public var beginTime: Date? { record.beginTime }

    /// The process of a child that runs (Running, Stopping, Suspended); nil in every other state.
    public var process: Process? {
        guard let pid = record.pid, [.running, .stopping, .suspended].contains(record.state) else { return nil }
        return Process(pid: pid)
    }

    /// How it ended, once it has finished (Completed, Failed or Stopped); nil until then.
    public var end: End? {
        guard record.state.isFinished else { return nil }
        return End(exitStatus: record.exitStatus, signal: record.signal, time: record.endTime)
    }

    /// Its place in the queue, when it was started with queue options.
    public var queue: Queue {
        Queue(
            group: record.group, timeout: record.timeout.map { .milliseconds(Int64(($0 * 1000).rounded())) },
            after: record.after, afterAny: record.afterAny, startAt: record.startAt, maxOutput: record.maxOutput)
    }

    /// How many times `restart` ran it again, and the InstanceIds of the earlier runs whose
    /// output was kept.
    public var restarts: Int { record.restarts ?? 0 }
    public var history: [String] { record.history }

    public var description: String { "\(record.name) (Id \(record.id), \(record.state))" }

    /// A running child's process.
    public struct Process: Sendable, Equatable {
        /// The process id of the command (the leader of its process group).
        public var pid: Int
    }

    /// How a finished job ended.
    public struct End: Sendable, Equatable {
        /// The command's exit status, when it exited.
        public var exitStatus: Int?
        /// The signal that ended it, when one did.
        public var signal: Int?
        /// When it ended.
        public var time: Date?
    }

    /// What the queue holds it to.
    public struct Queue: Sendable, Equatable {
        /// Its group (nil: `default`).
        public var group: String?
        /// How long it may run before it is stopped.
        public var timeout: Duration?
        /// The jobs that must complete before it starts, and those that must end in any way.
        public var after: [Int]
        public var afterAny: [Int]
        /// It starts no earlier than this.
        public var startAt: Date?
        /// Bytes of output past which it is stopped.
        public var maxOutput: Int64?
    }
}

extension JobSelection {
    /// Selects exactly this job (by its Id).
    public static func job(_ job: Job) -> JobSelection { JobSelection(selectors: [String(job.id)]) }
}
