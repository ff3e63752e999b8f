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

import Foundation

/// A mutex with one condition: the agent's shared state is read and changed under it (only
/// through `Guarded`, which takes it), and every change that a waiter may care about is announced with `broadcast()`.
/// It holds no state of its own; the pthread mutex and condition may be used from any thread,
/// which is what makes it Sendable.
final class Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    fileprivate func lock() { pthread_mutex_lock(mutex) }
    fileprivate func unlock() { pthread_mutex_unlock(mutex) }

    /// Waits for a broadcast, at most until `deadline` (monotonic seconds). Call with the lock held.
    func wait(until deadline: Double?) {
        // A deadline too far off (or not a number) to be a timespec waits without one.
        guard let requested = deadline, requested.isFinite, requested < 1e12 else {
            pthread_cond_wait(condition, mutex)
            return
        }
        let deadline = max(0, requested)
        var time = timespec()
        time.tv_sec = Int(deadline.rounded(.down))
        time.tv_nsec = Int((deadline - deadline.rounded(.down)) * 1e9)
        pthread_cond_timedwait(condition, mutex, &time)
    }

    func broadcast() { pthread_cond_broadcast(condition) }

    /// Runs `body` with the lock let go, and takes it again. Call with the lock held.
    func withoutLock<Result>(_ body: () -> Result) -> Result {
        unlock()
        defer { lock() }
        return body()
    }

    /// Seconds on the monotonic clock, the clock `wait(until:)` measures against.
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

/// A value that is only reached under a lock: `withLock` hands it to its body, and what the
/// body returns must be `sending`, so the compiler refuses a body that lets the value, or
/// anything of it that is not Sendable (a job slot, a session), out of the lock. Inside, the
/// body may wait on the monitor's condition (`Monitor.wait`), which lets the lock go meanwhile.
///
/// `State` is a class, not Sendable, reached through this one door; `Guarded` itself is the
/// `@unchecked Sendable` part, as `Synchronization.Mutex` is, because the door is the lock.
/// The launches that a start runs with the registry's lock let go (`RegistryState.outsideLock`),
/// and the requests that wait until none is in flight. Lock held for every use.
struct LaunchGate {
    var inFlight = 0
    var waiting = 0
    /// The launches that may be in flight outside the lock at once: a few, so that starts in
    /// a loop overlap the supervisor's work, but a bound, so that they wait for it when it
    /// falls behind (one in flight at most made a loop of 1,000 starts 6% slower).
    static let most = 4
}

final class Guarded<State: AnyObject>: @unchecked Sendable {
    private let state: State
    let monitor: Monitor

    init(_ state: sending State, monitor: Monitor) {
        self.state = state
        self.monitor = monitor
    }

    func withLock<Result, Failure: Error>(_ body: (State) throws(Failure) -> sending Result) throws(Failure)
        -> sending Result
    {
        monitor.lock()
        defer { monitor.unlock() }
        return try body(state)
    }
}
