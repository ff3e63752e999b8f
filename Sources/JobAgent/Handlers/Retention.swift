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

import CJobSupport
import Foundation
import JobConfig
import JobCore
import JobProtocol
import JobStore

/// Caps and retention: a job whose output grows past its `--max-output` is stopped, and with
/// `JOB_REMOVE_AFTER` in the agent's environment finished jobs older than that are removed.
extension RegistryState {
    /// How often the sizes of capped jobs' output are looked at, and how often old jobs are
    /// looked for (seconds). A job may write for up to one interval past its cap.
    static let capInterval = 0.02

    /// Old jobs are looked for every minute, or twice per `JOB_REMOVE_AFTER` when shorter.
    static var sweepInterval: Double { min(60, max(0.5, (removeAfter ?? 120) / 2)) }

    /// Starts watching a child's output size when it has a cap. Lock held.
    func watchOutputCap(_ job: StoredJob) {
        if job.maxOutput != nil && job.parentId != nil && !job.state.isFinished { queue.capped.insert(job.id) }
    }

    /// Looks at the capped jobs' output sizes; those past their cap are marked to be stopped.
    /// Lock held.
    func checkOutputCaps() {
        var changed: [StoredJob] = []
        for id in queue.capped.sorted() {
            guard var job = jobs[id], !job.state.isFinished, let cap = job.maxOutput else {
                queue.capped.remove(id)
                continue
            }
            guard job.state != .notStarted, !job.outputCapped else { continue }
            let (output, error) = files.sizes(job.instanceId)
            guard output + error > cap else { continue }
            job.outputCapped = true
            jobs[id] = job
            changed.append(job)
            queue.due(id)
            log.write("\(messageName(of: job)) wrote \(output + error) bytes, over its cap of \(cap); stopping it")
        }
        persist(changed)
    }

    /// The Reason of a child that its output cap stopped.
    static func capReason(_ job: StoredJob) -> String { "output over " + SizeText.text(job.maxOutput ?? 0) }

    /// Seconds finished jobs are kept (`JOB_REMOVE_AFTER`, else `remove-after` in the config
    /// file), if the agent was told. A config file that cannot be read leaves the environment's.
    static let removeAfter: Double? = {
        if let settings = agentSettings { return settings.removeAfter.value }
        return ProcessInfo.processInfo.environment["JOB_REMOVE_AFTER"].flatMap(DurationText.seconds)
    }()

    /// The config file and the environment's settings, read once; nil when they cannot be read.
    static let agentSettings: JobSettings? = {
        let environment = ProcessInfo.processInfo.environment
        return try? JobSettings.load(environment: { environment[$0] })
    }()

    /// Removes finished jobs that ended longer ago than `JOB_REMOVE_AFTER`, at most once a
    /// minute. Lock held.
    func sweepOldJobs() {
        guard let keep = Self.removeAfter, Date().timeIntervalSince(queue.lastSweep) >= Self.sweepInterval else {
            return
        }
        queue.lastSweep = Date()
        let removed = remove(RemoveRequest(JobSelection(), olderThan: keep)).jobs
        if !removed.isEmpty {
            log.write("removed \(removed.count) jobs that ended over \(DurationText.text(keep)) ago (JOB_REMOVE_AFTER)")
        }
    }

    /// The longest the watcher may sleep for caps and retention, in milliseconds (-1: any).
    var retentionWake: Int32 {
        if !queue.capped.isEmpty { return Int32(Self.capInterval * 1000) }
        if Self.removeAfter != nil { return Int32(Self.sweepInterval * 1000) }
        return -1
    }
}
