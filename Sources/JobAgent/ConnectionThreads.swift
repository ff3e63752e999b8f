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

import Dispatch
import Foundation
import Synchronization

/// The threads that accept client connections and serve them, one connection at a time each.
/// A thread that accepted a connection serves it itself, so that a request is read by the
/// thread the kernel woke for the connection, with no hand-off to another thread (on this
/// 2-core machine each hand-off had cost a context switch on the path of every verb). While
/// it serves, at least one other thread stays in `accept` (`spares` of them at the start; a
/// thread that takes the last one's place first starts another), so that a long request (a
/// wait) never keeps the next client out. A thread that has served its connection goes back to
/// `accept`, or ends when `idleLimit` threads are there already.
///
/// The connections are closed here, after `serve` returns (true: close it; false: the agent
/// keeps it until it has stopped); `stop` ends every one still open, and the threads in
/// `accept` end once the agent has shut its listening socket down.
final class ConnectionThreads: Sendable {
    private struct State {
        /// Threads in `accept`, or on their way there.
        var accepting = 0
        /// Every connection accepted and not yet closed.
        var open: Set<Int32> = []
        var stopping = false
    }

    private let state = Mutex(State())
    private let spares: Int
    private let idleLimit: Int
    private let threads: AgentThreads
    /// The next connection, or nil when no more will come (the agent stops).
    private let accept: @Sendable () -> Int32?
    private let serve: @Sendable (Int32) -> Bool

    init(
        threads: AgentThreads, spares: Int = 2, idleLimit: Int = 8, accept: @escaping @Sendable () -> Int32?,
        serve: @escaping @Sendable (Int32) -> Bool
    ) {
        self.threads = threads
        self.spares = spares
        self.idleLimit = idleLimit
        self.accept = accept
        self.serve = serve
    }

    /// Starts the threads that wait in `accept`. False when not even one could be made.
    @discardableResult
    func start() -> Bool {
        var started = 0
        for _ in 0..<spares where addAcceptor() { started += 1 }
        return started > 0
    }

    /// One more thread in `accept`; false when no thread could be made.
    private func addAcceptor() -> Bool {
        state.withLock { $0.accepting += 1 }
        if threads.start("connection", { [self] in work() }) { return true }
        state.withLock { $0.accepting -= 1 }
        return false
    }

    /// Ends the open connections but those `sparing` names (their reads see end-of-file, their
    /// writes fail); a connection accepted later is closed at once. The connections of `agent
    /// stop` are spared: their clients read end-of-file only once the agent has stopped (its
    /// store checkpointed), when it closes them; shut down here, a client could go on while
    /// the agent still stopped.
    func stop(sparing kept: Set<Int32> = []) {
        state.withLock { state in
            state.stopping = true
            for fd in state.open where !kept.contains(fd) { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    /// Accepts a connection and serves it, again and again; ends when the agent stops, or when
    /// enough threads wait in `accept` already.
    private func work() {
        while true {
            guard let fd = accept() else {
                state.withLock { $0.accepting -= 1 }
                return
            }
            let next = state.withLock { state -> Bool? in
                state.accepting -= 1
                guard !state.stopping else { return nil }
                state.open.insert(fd)
                // The last thread in `accept` takes this one: another takes its place first.
                guard state.accepting == 0 else { return false }
                state.accepting += 1
                return true
            }
            guard let next else {
                close(fd)
                continue
            }
            if next && !threads.start("connection", { [self] in work() }) {
                // No thread: this one serves, and accepts again after.
                state.withLock { $0.accepting -= 1 }
            }
            let closes = serve(fd)
            // Closed under the lock, so that `stop` never shuts down a number reused since.
            let stays = state.withLock { state -> Bool in
                state.open.remove(fd)
                if closes { close(fd) }
                guard state.accepting < idleLimit, !state.stopping else { return false }
                state.accepting += 1
                return true
            }
            guard stays else { return }
        }
    }
}
