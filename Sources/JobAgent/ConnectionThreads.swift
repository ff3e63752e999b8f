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
/// every verb.
final class ConnectionThreads: Sendable {
    private struct State {
        var waiting: [Int32] = []
        /// Threads committed to wait for `ready`; each `signal` takes one of them.
        var idle = 0
    }

    private let state = Mutex(State())
    private let ready = DispatchSemaphore(value: 0)
    private let idleLimit: Int
    private let serve: @Sendable (Int32) -> Void

    init(idleLimit: Int = 8, serve: @escaping @Sendable (Int32) -> Void) {
        self.idleLimit = idleLimit
        self.serve = serve
    }

    /// Has the connection served by a waiting thread, or by a new one when none waits.
    func hand(_ fd: Int32) {
        let wake = state.withLock { state in
            state.waiting.append(fd)
            guard state.idle > 0 else { return false }
            state.idle -= 1
            return true
        }
        if wake {
            ready.signal()
        } else {
            Thread.detachNewThread { [self] in work() }
        }
    }

    /// Serves connections while there are any; then waits for more, or ends when enough
    /// threads wait already. Every connection handed in is either taken by a thread that is
    /// still working or announced to one that waits, so none is left in `waiting`.
    private func work() {
        while true {
            let next = state.withLock { state in state.waiting.isEmpty ? nil : state.waiting.removeFirst() }
            if let next {
                serve(next)
                continue
            }
            let stays = state.withLock { state in
                guard state.idle < idleLimit else { return false }
                state.idle += 1
                return true
            }
            guard stays else { return }
            ready.wait()
        }
    }
}
