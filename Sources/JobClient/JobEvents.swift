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
import JobCore
import JobProtocol
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A change to a job, parent or child, seen by ``JobClient/events(of:includeChildren:output:)``.
public struct JobEvent: Sendable, Equatable {
    /// What happened to the job. A struct, not an enum, so that a kind added later (output,
    /// say) breaks no caller's `switch`: compare with the kinds below (`case .added:` works in
    /// a `switch`, which then needs a `default`), and read `previousState` for a change.
    public struct Kind: Sendable, Equatable, CustomStringConvertible {
        private enum Value: Equatable {
            case added
            case changed(from: JobState)
            case output
            case removed
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A job that was not there before (just started).
        public static let added = Kind(.added)
        /// A job's state changed from `state` to the job's `state`.
        public static func changed(from state: JobState) -> Kind { Kind(.changed(from: state)) }
        /// A child's output grew; `output` says the sizes of its stdout and stderr now. Only
        /// when the events were asked for with `output: true`, at most 4 times a second a child.
        public static let output = Kind(.output)
        /// A job that is gone (removed); `job` is how it was last seen.
        public static let removed = Kind(.removed)

        /// The state a changed job had before; nil for every other kind.
        public var previousState: JobState? {
            if case .changed(let from) = value { return from }
            return nil
        }

        /// `added`, `changed`, `output` or `removed`.
        public var description: String {
            switch value {
            case .added: "added"
            case .changed: "changed"
            case .output: "output"
            case .removed: "removed"
            }
        }
    }

    /// The sizes of a child's output files, for an `output` event.
    public struct OutputSize: Sendable, Equatable {
        public var stdoutBytes: Int64
        public var stderrBytes: Int64
    }

    public var kind: Kind
    public var job: Job
    /// Changes of a child's state that came between two looks at the jobs and are not
    /// reported on their own (this event gives the first state and the last): 0 when none.
    public var missed: Int
    /// For an `output` event, the sizes of the child's stdout and stderr now; nil otherwise.
    public var output: OutputSize?

    package init(kind: Kind, job: JobRecord, missed: Int = 0, output: OutputSize? = nil) {
        self.kind = kind
        self.job = Job(job)
        self.missed = missed
        self.output = output
    }
}

/// Job changes as an `AsyncSequence`: each new job, state change and removal among the
/// selected jobs after ``JobClient/events(of:includeChildren:output:)`` returned. It never ends by
/// itself; cancel the task (or stop iterating) to end it. Iterate it once. Each change of the agent costs one `get` of
/// the selected jobs, so a selection keeps it cheap where many jobs are stored.
public struct JobEvents: AsyncSequence, Sendable {
    public typealias Element = JobEvent
    public typealias Failure = JobError

    let watcher: EventWatcher

    public func makeAsyncIterator() -> Iterator { Iterator(watcher: watcher) }

    public struct Iterator: AsyncIteratorProtocol {
        public typealias Failure = JobError
        let watcher: EventWatcher

        public mutating func next() async throws(JobError) -> JobEvent? { try await watcher.next() }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(JobError) -> JobEvent? {
            try await watcher.next()
        }
    }
}

extension JobClient {
    /// Changes to the selected jobs (every job by default, children included) from now on, as
    /// they happen; see ``JobEvents``. With `output`, also an event each time a child's output
    /// grows (at most 4 times a second a child). Returns once it has seen the jobs as they are,
    /// on a connection of its own.
    public func events(of selection: JobSelection = JobSelection(), includeChildren: Bool = true, output: Bool = false)
        async throws(JobError) -> JobEvents
    {
        var request = GetRequest(selection)
        request.includeChildren = includeChildren
        let watcher = EventWatcher(client: self, request: request, output: output)
        _ = try await Self.offload { () throws(JobError) in try watcher.step(snapshotOnly: true) }
        return JobEvents(watcher: watcher)
    }
}

extension JobClient {
    /// The same changes, read blocking (`job events`): `next()` waits for the next one.
    public func eventStream(
        of selection: JobSelection = JobSelection(), includeChildren: Bool = true, output: Bool = false
    ) throws(JobError) -> JobEventStream {
        var request = GetRequest(selection)
        request.includeChildren = includeChildren
        let watcher = EventWatcher(client: self, request: request, output: output)
        _ = try watcher.step(snapshotOnly: true)
        return JobEventStream(watcher: watcher)
    }
}

/// Job changes read one at a time, blocking; see ``JobClient/eventStream(of:includeChildren:output:)``.
public struct JobEventStream: Sendable {
    let watcher: EventWatcher

    /// The next change, when it comes.
    public func next() throws(JobError) -> JobEvent? { try watcher.step() }

    /// The next change, or nil when none came within `timeout` seconds.
    public func next(timeout: Double) throws(JobError) -> JobEvent? { try watcher.step(timeout: timeout) }

    /// The selected jobs as last seen.
    public var jobs: [Job] { watcher.known.map(Job.init) }
}

/// Compares snapshots of the selected jobs each time the agent reports a change.
final class EventWatcher: Sendable {
    private let state: Mutex<State>
    private let connection: Mutex<JobClient?> = Mutex(nil)

    struct State: ~Copyable {
        let client: JobClient
        let request: GetRequest
        var known: [Int: JobRecord]?
        var generation: UInt64 = .max
        var pending: [JobEvent] = []
        var output: OutputGrowth?
    }

    init(client: JobClient, request: GetRequest, output: Bool) {
        state = Mutex(
            State(client: client, request: request, output: output ? OutputGrowth(home: client.home) : nil))
    }

    /// The jobs as last seen, in Id order.
    var known: [JobRecord] { state.withLock { ($0.known ?? [:]).values.sorted { $0.id < $1.id } } }

    func next() async throws(JobError) -> JobEvent? {
        try await JobClient.cancellable("watching jobs") {
            self.connection.withLock { $0?.hangUp() }
        } _: { () throws(JobError) in
            try self.step()
        }
    }

    /// The next event; with `snapshotOnly`, only takes the first snapshot.
    func step(snapshotOnly: Bool = false, timeout: Double? = nil) throws(JobError) -> JobEvent? {
        let deadline = timeout.map { JobClient.monotonicNow() + max(0, $0) }
        let client = try connection.withLock { connection throws(JobError) -> JobClient in
            if let connection { return connection }
            let made = try state.withLock { $0.client }.connection()
            connection = made
            return made
        }
        return try state.withLock { state throws(JobError) -> JobEvent? in
            while state.pending.isEmpty && !(snapshotOnly && state.known != nil) {
                // Blocks until the agent's change counter moves past the last one seen; the
                // first call returns at once with the counter as it is. Output is looked at
                // between changes too, every `OutputGrowth.interval`.
                let slice = state.output == nil ? JobClient.waitSlice : OutputGrowth.interval
                let left = deadline.map { max(0, $0 - JobClient.monotonicNow()) }
                let seen = try client.waitEvent(
                    after: state.generation, timeout: state.known == nil ? 0 : min(slice, left ?? slice))
                if seen == state.generation, let known = state.known {
                    if state.output != nil {
                        state.pending = state.output!.grown(known.values.sorted { $0.id < $1.id })
                        if !state.pending.isEmpty { break }
                    }
                    if let deadline, JobClient.monotonicNow() >= deadline { return nil }
                    continue
                }
                state.generation = seen
                let now = try client.send(state.request).jobs
                let changes = Self.changes(from: state.known, to: now)
                if state.output != nil {
                    if state.known == nil {
                        state.output!.note(now)
                    } else {
                        // Output that came before a change is told before it; a child told as
                        // new has its output told from its first byte.
                        state.pending = state.output!.grown(now)
                        for event in changes where event.kind == .added { state.output!.announced(event.job.record) }
                    }
                }
                state.pending += changes
                state.known = Dictionary(now.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
            }
            return state.pending.isEmpty ? nil : state.pending.removeFirst()
        }
    }

    /// What differs between two snapshots: none for the first. A child that went through
    /// states between them is one event from the first to the last, with how many it passed
    /// through unseen (`missed`), counted by the agent.
    static func changes(from before: [Int: JobRecord]?, to now: [JobRecord]) -> [JobEvent] {
        guard let before else { return [] }
        var events: [JobEvent] = []
        var present = Set<Int>()
        for job in now {
            present.insert(job.id)
            if let old = before[job.id] {
                // The states it passed through between the looks (an agent restart starts
                // its count again: then nothing is known of them).
                let steps = job.stateChanges.flatMap { now in old.stateChanges.map { now - $0 } } ?? 0
                if old.state != job.state || steps > 1 {
                    events.append(JobEvent(kind: .changed(from: old.state), job: job, missed: max(0, steps - 1)))
                }
            } else {
                // Made and changed before it was seen: the states before this one went unseen.
                events.append(JobEvent(kind: .added, job: job, missed: max(0, job.stateChanges ?? 0)))
            }
        }
        for (id, old) in before.sorted(by: { $0.key < $1.key }) where !present.contains(id) {
            events.append(JobEvent(kind: .removed, job: old))
        }
        return events
    }
}

/// The sizes of the children's output files, to tell when they grew (`output` events): looked
/// at whenever the agent reports a change and every `interval` seconds, so a child's output is
/// told at most that often.
struct OutputGrowth {
    static let interval = 0.25
    let home: JobHome
    var known: [Int: (Int64, Int64)] = [:]

    init(home: JobHome) { self.home = home }

    func sizes(_ job: JobRecord) -> (Int64, Int64) {
        var info = stat()
        let out = stat(home.outputPath(job.instanceId), &info) == 0 ? Int64(info.st_size) : 0
        let err = stat(home.errorPath(job.instanceId), &info) == 0 ? Int64(info.st_size) : 0
        return (out, err)
    }

    /// What is there already is not news. Finished children are not looked at (their output
    /// is all there).
    mutating func note(_ jobs: [JobRecord]) {
        for job in jobs where !job.isParent && !job.state.isFinished { known[job.id] = sizes(job) }
    }

    /// A new child was told: its output is news from now on.
    mutating func announced(_ job: JobRecord) {
        if !job.isParent { known[job.id] = (0, 0) }
    }

    /// An event for each child whose output grew since the last look, with its sizes now (only
    /// unfinished ones whose start was told, and each once more after its end).
    mutating func grown(_ jobs: [JobRecord]) -> [JobEvent] {
        var events: [JobEvent] = []
        for job in jobs where !job.isParent && job.computer == nil {
            guard let before = known[job.id] else { continue }
            let now = sizes(job)
            // One last look after its end; then it is left alone (a stream over thousands of
            // stored jobs looks only at the running ones).
            known[job.id] = job.state.isFinished ? nil : now
            if now.0 > before.0 || now.1 > before.1 {
                let size = JobEvent.OutputSize(stdoutBytes: now.0, stderrBytes: now.1)
                events.append(JobEvent(kind: .output, job: job, output: size))
            }
        }
        return events
    }
}
