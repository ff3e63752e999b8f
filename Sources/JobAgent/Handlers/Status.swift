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
import JobCore
import JobProtocol
import JobRemote
import JobStore

extension StatusRequest: Handled {
    func handle(_ context: RequestContext, answer: (Result<any TaggedMessage, Failure>) -> Void) {
        let agent = context.agent
        answer(.success(context.registry.withState { $0.status(socket: agent.socketPath, startTime: agent.startTime) }))
    }
}

/// `agent stop`: answered here; `serve` then asks the agent to stop, after the reply is sent.
extension ShutdownRequest: Handled {
    func handle(_ context: RequestContext, answer: (Result<any TaggedMessage, Failure>) -> Void) {
        answer(.success(EmptyReply()))
    }
}

/// `status`: the agent and its counts of jobs.
extension RegistryState {
    func status(socket: String, startTime: Date) -> AgentStatus {
        var counts: [String: Int] = [:]
        // Counted from the table: the selection's list of candidates (with every job's
        // InstanceId as text) would be built and kept only for this.
        for slot in table.parentSlots {
            guard let state = table.state(of: slot.job.id) else { continue }
            counts[state.rawValue, default: 0] += 1
        }
        return AgentStatus(
            pid: Int(getpid()), socket: socket, home: home.path, version: ProtocolVersion.product,
            protocolVersion: ProtocolVersion.current, jobs: counts, startTime: startTime, notices: notices)
    }

    /// Whether any remote child is still running (its session may use a shared connection).
    func hasRunningRemoteJobs() -> Bool {
        table.allSlots.contains { !$0.job.state.isFinished && $0.job.isRemote }
    }
}
