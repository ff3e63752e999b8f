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

/// The threads that serve client connections, one connection at a time each. A thread that
/// finishes a connection waits for the next instead of ending, up to `idleLimit` of them: a
/// new thread (its stack mapped, then given back at its end) was a tenth of a millisecond of
/// every verb. The connections are closed here, after `serve` returns (true: close it; false:
/// the agent keeps it until it has stopped); `stop` ends every one still open and every
/// waiting thread.
final class ConnectionThreads: Sendable {
    private struct State {
        var waiting: [Int32] = []
        /// Threads committed to wait for `ready`; each `signal` takes one of them.
        var idle = 0
        /// Every connection handed in and not yet closed.
        var open: Set<Int32> = []
        var stopping = false
    }

    private let state = Mutex(State())
    private let ready = DispatchSemaphore(value: 0)
    private let idleLimit: Int
    private let threads: AgentThreads
    private let serve: @Sendable (Int32) -> Bool

    init(threads: AgentThreads, idleLimit: Int = 8, serve: @escaping @Sendable (Int32) -> Bool) {
        self.threads = threads
        self.idleLimit = idleLimit
        self.serve = serve
    }

    /// Has the connection served by a waiting thread, or by a new one when none waits.
    func hand(_ fd: Int32) {
        let wake = state.withLock { state -> Bool? in
            guard !state.stopping else { return nil }
            state.waiting.append(fd)
            state.open.insert(fd)
            guard state.idle > 0 else { return false }
            state.idle -= 1
            return true
        }
        switch wake {
        case nil: close(fd)
        case true?: ready.signal()
        case false?:
            if !threads.start("connection", { [self] in work() }) {
                // No thread: the connection is closed, and the client sees the agent hang up.
                state.withLock { state in
                    state.waiting.removeAll { $0 == fd }
                    state.open.remove(fd)
                }
                close(fd)
            }
        }
    }

    /// Ends the open connections (their reads see end-of-file, their writes fail) and the
    /// waiting threads; a connection handed in later is closed at once.
    func stop() {
        let idle = state.withLock { state in
            state.stopping = true
            for fd in state.open { shutdown(fd, Int32(SHUT_RDWR)) }
            return state.idle
        }
        for _ in 0..<idle { ready.signal() }
    }

    /// Serves connections while there are any; then waits for more, or ends when enough
    /// threads wait already. Every connection handed in is either taken by a thread that is
    /// still working or announced to one that waits, so none is left in `waiting`.
    private func work() {
        while true {
            let next = state.withLock { state in state.waiting.isEmpty ? nil : state.waiting.removeFirst() }
            if let next {
                let closes = serve(next)
                // Closed under the lock, so that `stop` never shuts down a number reused since.
                state.withLock { state in
                    state.open.remove(next)
                    if closes { close(next) }
                }
                continue
            }
            let stays = state.withLock { state in
                guard state.idle < idleLimit, !state.stopping else { return false }
                state.idle += 1
                return true
            }
            guard stays else { return }
            ready.wait()
        }
    }
}
