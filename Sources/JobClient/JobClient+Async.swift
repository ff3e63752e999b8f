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
import JobCore
import JobProtocol

/// The verbs for `async` callers: the same names as the blocking ones, which a caller in an
/// `async` context gets. Each runs the blocking call on a Dispatch thread, so that no task
/// thread waits on the socket; a call that may block long (`wait`) has a connection of its
/// own, which a cancelled task hangs up.
extension JobClient {
    /// Runs `body` (blocking) off the task's thread and hands back its result.
    static func offload<T: Sendable>(_ body: @escaping @Sendable () throws(JobError) -> T) async throws(JobError) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, JobError>, Never>) in
            DispatchQueue.global().async {
                do throws(JobError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// Runs `body` (blocking) off the task's thread; if the task is cancelled meanwhile,
    /// `interrupt` makes `body` return (hangs up its connection, wakes its poll), and the
    /// call throws `cancelled` saying `what` was.
    static func cancellable<T: Sendable>(
        _ what: String, interrupt: @escaping @Sendable () -> Void, _ body: @escaping @Sendable () throws(JobError) -> T
    ) async throws(JobError) -> T {
        let result: Result<T, JobError> = await withTaskCancellationHandler {
            do throws(JobError) {
                return .success(try await offload(body))
            } catch {
                return .failure(Task.isCancelled ? JobError(.cancelled, "\(what) was cancelled") : error)
            }
        } onCancel: {
            interrupt()
        }
        return try result.get()
    }

    // The closures below are not `async`, so the calls in them are to the blocking verbs.

    public func start(
        _ command: String, name: String? = nil, workingDirectory: String? = nil, environment: [String]? = nil,
        shell: String = "/bin/sh", input: Int32? = nil, queue: JobQueueOptions = JobQueueOptions()
    ) async throws(JobError) -> Job {
        try await Self.offload { () throws(JobError) in
            try self.start(
                command, name: name, workingDirectory: workingDirectory, environment: environment, shell: shell,
                input: input, queue: queue)
        }
    }

    public func invoke(
        _ command: String, on computers: [String], name: String? = nil, throttleLimit: Int = 32,
        sshOptions: [String] = [], remoteEnvironment: [String] = [], environment: [String]? = nil,
        queue: JobQueueOptions = JobQueueOptions(), durable: Bool = false, deploy: Bool = false,
        input: Int32? = nil
    ) async throws(JobError) -> Job {
        try await Self.offload { () throws(JobError) in
            try self.invoke(
                command, on: computers, name: name, throttleLimit: throttleLimit, sshOptions: sshOptions,
                remoteEnvironment: remoteEnvironment, environment: environment, queue: queue, durable: durable,
                deploy: deploy, input: input)
        }
    }

    public func start(_ command: String, inSessions sessions: [String], name: String? = nil, asInvoke: Bool = false)
        async throws(JobError) -> Job
    {
        try await Self.offload { () throws(JobError) in
            try self.start(command, inSessions: sessions, name: name, asInvoke: asInvoke)
        }
    }

    public func jobs(_ selection: JobSelection = JobSelection(), includeChildren: Bool = false) async throws(JobError)
        -> [Job]
    {
        try await Self.offload { () throws(JobError) in try self.jobs(selection, includeChildren: includeChildren) }
    }

    public func wait(for selection: JobSelection = JobSelection(), any: Bool = false, timeout: Duration? = nil)
        async throws(JobError) -> WaitOutcome
    {
        let connection = try await Self.offload { () throws(JobError) in try self.connection() }
        return try await Self.cancellable("the wait", interrupt: connection.hangUp) { () throws(JobError) in
            try connection.waiting(for: selection, any: any, timeout: timeout?.seconds).whole()
        }
    }

    public func stop(_ selection: JobSelection, grace: Duration = .seconds(5)) async throws(JobError) -> [Job] {
        try await Self.offload { () throws(JobError) in try self.stop(selection, grace: grace) }
    }

    public func remove(_ selection: JobSelection, force: Bool = false, grace: Duration = .seconds(5))
        async throws(JobError) -> [Job]
    {
        try await Self.offload { () throws(JobError) in try self.remove(selection, force: force, grace: grace) }
    }

    public func suspend(_ selection: JobSelection) async throws(JobError) -> [Job] {
        try await Self.offload { () throws(JobError) in try self.suspend(selection) }
    }

    public func resume(_ selection: JobSelection) async throws(JobError) -> [Job] {
        try await Self.offload { () throws(JobError) in try self.resume(selection) }
    }

    public func signal(_ selection: JobSelection, _ signal: Int32) async throws(JobError) -> [Job] {
        try await Self.offload { () throws(JobError) in try self.signal(selection, signal) }
    }

    public func rename(_ selection: JobSelection, to name: String) async throws(JobError) -> [Job] {
        try await Self.offload { () throws(JobError) in try self.rename(selection, to: name) }
    }

    public func restart(_ selection: JobSelection, failedOnly: Bool = false, keepHistory: Bool = false)
        async throws(JobError) -> [Job]
    {
        try await Self.offload { () throws(JobError) in
            try self.restart(selection, failedOnly: failedOnly, keepHistory: keepHistory)
        }
    }

    public func groups(_ names: [String] = []) async throws(JobError) -> [JobGroup] {
        try await Self.offload { () throws(JobError) in try self.groups(names) }
    }

    public func setGroups(_ names: [String], limit: Int? = nil, paused: Bool? = nil) async throws(JobError)
        -> [JobGroup]
    {
        try await Self.offload { () throws(JobError) in try self.setGroups(names, limit: limit, paused: paused) }
    }

    public func removeGroups(_ names: [String]) async throws(JobError) -> [JobGroup] {
        try await Self.offload { () throws(JobError) in try self.removeGroups(names) }
    }

    public func status() async throws(JobError) -> AgentStatus {
        try await Self.offload { () throws(JobError) in try self.status() }
    }

    public func shutdown() async throws(JobError) {
        try await Self.offload { () throws(JobError) in try self.shutdown() }
    }

    public func openSession(
        on computer: String, name: String? = nil, shell: String = "/bin/sh", sshOptions: [String] = [],
        environment: [String]? = nil
    ) async throws(JobError) -> SessionRecord {
        try await Self.offload { () throws(JobError) in
            try self.openSession(
                on: computer, name: name, shell: shell, sshOptions: sshOptions, environment: environment)
        }
    }

    public func sessions(_ selectors: [String] = []) async throws(JobError) -> [SessionRecord] {
        try await Self.offload { () throws(JobError) in try self.sessions(selectors) }
    }

    public func removeSessions(_ selectors: [String], force: Bool = false, grace: Duration = .seconds(5))
        async throws(JobError) -> [SessionRecord]
    {
        try await Self.offload { () throws(JobError) in try self.removeSessions(selectors, force: force, grace: grace) }
    }

    /// Sends one request of the protocol and reads its reply.
    package func send<R: AgentRequest>(_ request: R) async throws(JobError) -> R.Reply {
        try await Self.offload { () throws(JobError) in try self.send(request) }
    }
}
