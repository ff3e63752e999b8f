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

extension WaitRequest: LockedHandler {
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage {
        state.wait(self, connection: connection)
    }
}

extension WaitEventRequest: LockedHandler {
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage {
        state.waitEvent(since: generation, timeout: timeout, connection: connection)
    }
}

/// `wait` and the wait for any change that `receive --wait` uses.
extension RegistryState {
    /// Returns once the generation moves past `since`, or at the timeout.
    func waitEvent(since: UInt64, timeout: Double?, connection: Int32) -> WaitEventReply {
        let deadline = timeout.map { Monitor.now() + $0 }
        while generation == since, !stopping {
            if let deadline, Monitor.now() >= deadline { break }
            if Self.peerClosed(connection) { break }
            monitor.wait(until: min(deadline ?? .infinity, Monitor.now() + 1))
        }
        return WaitEventReply(generation: generation)
    }

    func wait(_ options: WaitRequest, connection: Int32) -> WaitReply {
        let selection = options.selection
        let result = select(selection)
        var targets = result.jobs.map(\.id)
        if selection.isEmpty {
            targets = result.jobs.filter { !$0.state.isFinished }.map(\.id)
        }
        let deadline = options.timeout.map { Monitor.now() + max(0, $0) }
        var response = WaitReply()
        response.problems = result.errors
        // Only unfinished targets are looked at again on each change.
        var pending = targets.filter { !isFinished($0) }
        while true {
            pending.removeAll(where: isFinished)
            let met = options.any ? pending.count < targets.count || targets.isEmpty : pending.isEmpty
            if met {
                let present = targets.compactMap { jobs[$0] }.map(record)
                response.jobs = options.any ? present.filter(\.state.isFinished) : present
                return response
            }
            if let deadline, Monitor.now() >= deadline {
                // The jobs waited for, so that a client waiting in slices waits for these.
                response.timedOut = true
                response.jobs = targets.compactMap { jobs[$0] }.map(record)
                return response
            }
            if Self.peerClosed(connection) || stopping { return response }
            monitor.wait(until: min(deadline ?? .infinity, Monitor.now() + 1))
        }
    }

    /// Whether a job (parent or child) has finished, or is gone. Lock held.
    private func isFinished(_ id: Int) -> Bool { table.isFinished(id) }

    static func peerClosed(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN) | 0x2000, revents: 0)
        guard poll(&entry, 1, 0) > 0 else { return false }
        if entry.revents & (Int16(POLLHUP | POLLERR) | 0x2000) != 0 { return true }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0
    }
}
