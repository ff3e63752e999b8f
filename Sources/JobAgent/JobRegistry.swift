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
import JobStore

/// The agent's jobs, as the connections and the agent's own threads see them: Sendable, with
/// everything that changes in a `RegistryState` that only `withState` reaches, under one lock.
/// Each verb is its handler's call under that lock; what must happen outside it (waiting on
/// epoll, reading a session's shell) happens here, and takes the lock for each change.
final class JobRegistry: Sendable {
    let home: JobHome
    let database: JobDatabase
    /// The agent's threads, where every thread the registry starts is kept (and joined).
    let threads: AgentThreads
    private let guarded: Guarded<RegistryState>

    init(
        home: JobHome, database: JobDatabase, log: AgentLog, threads: AgentThreads,
        makeSupervisor: @escaping @Sendable () throws -> Supervisor
    ) throws {
        self.home = home
        self.database = database
        self.threads = threads
        let monitor = Monitor()
        guarded = Guarded(
            try RegistryState(
                home: home, database: database, log: log, monitor: monitor, makeSupervisor: makeSupervisor),
            monitor: monitor)
        guarded.withLock { state in
            state.slurm.spawn = { [unowned self] in
                if !threads.start("Slurm watcher", { self.watchSlurm() }) {
                    withState { $0.slurm.running = false }
                }
            }
            state.mirrors.spawn = { [unowned self] link in
                let id = link.id
                if !threads.start("link of Job\(id)", { self.runMirror(link) }) {
                    withState { $0.mirrorFailed(link, "the agent could not start a thread for its link") }
                }
            }
        }
    }

    /// Runs `body` with the state, under the lock. Nothing of the state that is not Sendable
    /// can leave: the result must be `sending`.
    func withState<Result, Failure: Error>(_ body: (RegistryState) throws(Failure) -> sending Result) throws(Failure)
        -> sending Result
    {
        try guarded.withLock { (state) throws(Failure) -> sending Result in
            // Starts' launches in flight outside the lock finish first (`outsideLock`); new
            // ones keep the lock while anything waits here.
            if state.launchGate.inFlight > 0 {
                state.launchGate.waiting += 1
                while state.launchGate.inFlight > 0 { state.monitor.wait(until: nil) }
                state.launchGate.waiting -= 1
            }
            return try body(state)
        }
    }

    /// The state without waiting for the starts' launches in flight: for a start, whose own
    /// launch may let go of the lock, and for the watcher of ends.
    func withStateDuringLaunches<Result, Failure: Error>(
        _ body: (RegistryState) throws(Failure) -> sending Result
    ) throws(Failure) -> sending Result {
        try guarded.withLock(body)
    }

    /// Drops the read claims of a connection that closed (see `ReadClaims`): every connection
    /// does as it closes, so not behind the launches in flight (a job being launched has none).
    func dropClaims(connection: Int32) {
        withStateDuringLaunches { $0.dropClaims(connection: connection) }
    }

    // MARK: - Sessions

    /// Opens the sessions: their shells are started under the lock, each read on a thread of
    /// its own that takes the lock for what it sees, and the answer waits for their first word.
    func openSessions(_ request: SessionNewRequest) -> SessionsReply {
        let made = withState { $0.makeSessions(request) }
        for reader in made.readers {
            let started = threads.start("session \(reader.sessionId)") { [self] in
                reader.read { event in withState { $0.sessionEvent(reader.sessionId, event) } }
            }
            if !started { withState { $0.sessionEvent(reader.sessionId, .ended(status: nil)) } }
        }
        return withState { $0.awaitSessions(made.ids, problems: made.problems) }
    }

    // MARK: - Stopping

    /// Asks everything the registry runs to end: waits, the watcher of ends, durable links,
    /// sessions; the store is checkpointed. The threads are joined by the agent.
    func stop() {
        withState { state in
            state.stopping = true
            state.monitor.broadcast()
            if state.wakeFD >= 0 { cjob_eventfd_signal(state.wakeFD) }
            state.endMirrorLinks()
            if state.slurm.wakeFD >= 0 { cjob_eventfd_signal(state.slurm.wakeFD) }
            state.storeLaunchedPids(now: true)
            state.checkpointForStop()
            state.closeSessions()
        }
    }

    /// Closes every descriptor the registry holds, once its threads have ended.
    func closeDescriptors() {
        withState { $0.closeDescriptors() }
        database.close()
    }

    // MARK: - The agent's own work

    /// Takes over the jobs of the last agent (see `RegistryState.adopt`).
    func adopt() {
        withState { $0.adopt() }
    }

    /// The sooner of two epoll timeouts (-1: none).
    static func sooner(_ one: Int32, _ other: Int32) -> Int32 {
        one < 0 ? other : other < 0 ? one : min(one, other)
    }

    func hasRunningRemoteJobs() -> Bool {
        withState { $0.hasRunningRemoteJobs() }
    }

    /// Runs for the agent's lifetime: waits on epoll outside the lock, then hands what came
    /// (ends from monitors, killed monitors, orphaned jobs that ended, the agent's children)
    /// to the state under it; retries what waits to be stored every second; wakes when the
    /// queue has something due, and stops the children whose timeout came, each on a thread
    /// of its own (a stop waits for the ends this loop reads).
    func watchEnds() {
        let (epoll, childSignals) = withStateDuringLaunches { ($0.links.epoll, $0.watchChildSignals()) }
        defer { if childSignals >= 0 { close(childSignals) } }
        var ready = [UInt64](repeating: 0, count: 64)
        while true {
            let (retrying, timeout) = withStateDuringLaunches { state -> (Bool, Int32?) in
                guard !state.stopping else { return (false, nil) }
                let retrying = state.isRetrying
                state.settlePidTimer()
                let wake = Self.sooner(Self.sooner(state.retentionWake, state.checkpointWake), state.pidWake)
                let limit: Int32 = retrying ? (wake < 0 ? 1000 : min(1000, wake)) : wake
                let timeout = state.watchTimeout(limit: limit)
                state.links.watcherWakesAt = timeout < 0 ? .infinity : Monitor.now() + Double(timeout) / 1000
                return (retrying, timeout)
            }
            guard let timeout else { return }
            let count = cjob_epoll_wait(epoll, &ready, Int32(ready.count), timeout)
            if count < 0 {
                let error = errno
                if error == EINTR { continue }
                withStateDuringLaunches { $0.log.write("epoll_wait failed: \(String(cString: strerror(error)))") }
                return
            }
            let tags = Array(ready[..<Int(count)])
            let due = withStateDuringLaunches { state in
                // Up: it works out its next timeout before it sleeps again.
                state.links.watcherWakesAt = 0
                state.handleWatched(tags[...], retrying: retrying, childSignals: childSignals)
                state.storeLaunchedPids()
                state.queueTick()
                state.checkOutputCaps()
                state.sweepOldJobs()
                state.checkpointIfDue()
                return state.takeTimeouts()
            }
            for id in due {
                threads.start("timeout of Job\(id)") { [self] in withState { $0.stopTimedOut(id) } }
            }
        }
    }
}
