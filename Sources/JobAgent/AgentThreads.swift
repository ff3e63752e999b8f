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

/// Every thread the agent starts, so that a stopping agent joins them all before `run`
/// returns. Threads are joinable pthreads; one that ends is joined by the next `start` (so a
/// long-lived agent keeps no ended threads' stacks), the rest by `join(until:)`.
final class AgentThreads: Sendable {
    private struct State {
        var running: [UInt64: (name: String, thread: pthread_t)] = [:]
        /// Threads whose body returned: they end a moment later, and are joined at the next start.
        var ended: [pthread_t] = []
        var next: UInt64 = 0
    }

    private let state = Mutex(State())
    /// Signalled by each thread as its body returns.
    private let oneEnded = DispatchSemaphore(value: 0)

    /// What a new thread runs, passed through pthread_create's one pointer.
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    /// Starts `body` on a thread of its own; `name` is for the log of a stop that could not
    /// join it. False when no thread could be made (the caller says what was not done).
    @discardableResult
    func start(_ name: String, _ body: @escaping @Sendable () -> Void) -> Bool {
        for ended in state.withLock({ state in
            defer { state.ended = [] }; return state.ended
        }) {
            pthread_join(ended, nil)
        }
        // The key is taken before the thread exists; its handle is added under the same lock
        // as the thread's end removes it, so a thread that ends at once is still joined.
        let key = state.withLock { state in
            state.next += 1
            return state.next
        }
        let box = Body { [self] in
            body()
            state.withLock { state in
                if let entry = state.running.removeValue(forKey: key) { state.ended.append(entry.thread) }
            }
            oneEnded.signal()
        }
        let pointer = Unmanaged.passRetained(box).toOpaque()
        return state.withLock { state in
            var thread = pthread_t()
            let made = pthread_create(
                &thread, nil,
                { argument in
                    let body = Unmanaged<Body>.fromOpaque(argument!).takeRetainedValue()
                    body.run()
                    return nil
                }, pointer)
            guard made == 0 else {
                Unmanaged<Body>.fromOpaque(pointer).release()
                return false
            }
            state.running[key] = (name, thread)
            return true
        }
    }

    /// Joins every thread, waiting at most until `deadline` (monotonic seconds) for those
    /// still running. Returns the names of those that did not end in time (left running).
    func join(until deadline: Double) -> [String] {
        while true {
            let (ended, running) = state.withLock { state in
                defer { state.ended = [] }
                return (state.ended, state.running.values.map(\.name))
            }
            for thread in ended { pthread_join(thread, nil) }
            guard !running.isEmpty else { return [] }
            let left = deadline - Monitor.now()
            if left <= 0 || oneEnded.wait(timeout: .now() + left) == .timedOut {
                return running.sorted()
            }
        }
    }
}
