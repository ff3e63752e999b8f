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

import JobCore
import JobProtocol

/// What a verb did when it could act on only part of what it was given: the rest is told in
/// `problems`, one message each (a selector that named nothing, a job that refused). The
/// public verbs throw `notFound` with the problems; the `job` command, which goes on with the
/// part that was done and reports the rest, reads both.
package struct Partly<Value: Sendable>: Sendable {
    package var value: Value
    package var problems: [String]

    /// The value, or `notFound` with the problems when there are any.
    package func whole() throws(JobError) -> Value {
        if !problems.isEmpty { throw JobError.notFound(problems) }
        return value
    }
}

/// A queue group: how many of its jobs may run at once, whether it is paused, and what it holds.
public struct JobGroup: Sendable, Equatable {
    public var name: String
    /// At most this many of its children run at once; nil: no limit.
    public var limit: Int?
    /// Nothing new starts while it is paused; what runs goes on.
    public var paused: Bool
    public var running: Int
    public var queued: Int

    package init(_ record: GroupRecord) {
        name = record.name
        limit = record.limit == 0 ? nil : record.limit
        paused = record.paused
        running = record.running
        queued = record.queued
    }
}

// MARK: - Jobs

extension JobClient {
    /// Suspends the selected jobs' processes (SIGSTOP to each process group); their timeouts'
    /// clocks stop too. Returns them as they are after.
    public func suspend(_ selection: JobSelection) throws(JobError) -> [Job] {
        try Self.refuseEmpty(selection, "suspend")
        return try suspending(selection).whole()
    }

    /// Resumes suspended jobs (SIGCONT).
    public func resume(_ selection: JobSelection) throws(JobError) -> [Job] {
        try Self.refuseEmpty(selection, "resume")
        return try resuming(selection).whole()
    }

    /// Sends a signal (a number, such as SIGHUP's 1) to the selected jobs' process groups.
    public func signal(_ selection: JobSelection, _ signal: Int32) throws(JobError) -> [Job] {
        try Self.refuseEmpty(selection, "signal")
        return try signalling(selection, Int(signal)).whole()
    }

    /// Gives the selected jobs a new name, which selectors then use.
    public func rename(_ selection: JobSelection, to name: String) throws(JobError) -> [Job] {
        try Self.refuseEmpty(selection, "rename")
        return try renaming(selection, to: name).whole()
    }

    /// Runs finished jobs again with the same Ids (with `failedOnly`, only their Failed and
    /// Stopped children); `keepHistory` keeps the earlier runs' output.
    public func restart(_ selection: JobSelection, failedOnly: Bool = false, keepHistory: Bool = false)
        throws(JobError) -> [Job]
    {
        try Self.refuseEmpty(selection, "restart")
        return try restarting(selection, failedOnly: failedOnly, keepHistory: keepHistory).whole()
    }

    package func stopping(_ selection: JobSelection, grace: Double, signal: Int? = nil) throws(JobError)
        -> Partly<[Job]>
    {
        try acting(StopRequest(selection, grace: grace, signal: signal))
    }

    package func removing(_ selection: JobSelection, force: Bool = false, grace: Double = 5, olderThan: Double? = nil)
        throws(JobError) -> Partly<[Job]>
    {
        try acting(RemoveRequest(selection, force: force, grace: grace, olderThan: olderThan))
    }

    package func suspending(_ selection: JobSelection) throws(JobError) -> Partly<[Job]> {
        try acting(SuspendRequest(selection))
    }

    package func resuming(_ selection: JobSelection) throws(JobError) -> Partly<[Job]> {
        try acting(ResumeRequest(selection))
    }

    package func signalling(_ selection: JobSelection, _ signal: Int) throws(JobError) -> Partly<[Job]> {
        try acting(SignalRequest(selection, signal: signal))
    }

    package func renaming(_ selection: JobSelection, to name: String) throws(JobError) -> Partly<[Job]> {
        try acting(RenameRequest(selection, to: name))
    }

    package func restarting(_ selection: JobSelection, failedOnly: Bool, keepHistory: Bool) throws(JobError)
        -> Partly<[Job]>
    {
        try acting(RestartRequest(selection, failedOnly: failedOnly, keepHistory: keepHistory))
    }

    /// A wait (in slices, so that an agent that stopped answering is noticed), with the
    /// selectors that named nothing.
    package func waiting(for selection: JobSelection, any: Bool = false, timeout: Double? = nil) throws(JobError)
        -> Partly<WaitOutcome>
    {
        let reply = try waitInSlices(WaitRequest(selection, any: any, timeout: timeout))
        let jobs = reply.jobs.map(Job.init)
        return Partly(value: reply.timedOut ? .timedOut(jobs) : .finished(jobs), problems: reply.problems)
    }

    /// `job get` with every filter it has.
    package func getting(_ query: GetRequest) throws(JobError) -> Partly<[Job]> {
        try acting(query)
    }

    /// The table's rows only, which is all a table shows: half the work of whole jobs.
    package func rows(_ query: GetRequest) throws(JobError) -> Partly<[JobRow]> {
        let reply = try send(GetRowsRequest(query))
        return Partly(value: reply.jobs, problems: reply.problems)
    }

    /// A stop sent without waiting for its end (`__attach`: the end comes back as a status).
    package func postStop(_ selection: JobSelection, grace: Double, signal: Int) throws(JobError) {
        try post(StopRequest(selection, grace: grace, signal: signal))
    }

    /// A start as `__attach` makes it: the local agent's InstanceId, and a file as stdin.
    package func start(_ request: StartRequest, input: Int32?) throws(JobError) -> Job {
        Job(try send(request, fds: input.map { [$0] } ?? []).job)
    }

    package func start(_ request: SchedulerStartRequest, input: Int32?) throws(JobError) -> Job {
        Job(try send(request, fds: input.map { [$0] } ?? []).job)
    }

    private func acting<R: AgentRequest>(_ request: R) throws(JobError) -> Partly<[Job]> where R.Reply == JobsReply {
        let reply = try send(request)
        return Partly(value: reply.jobs.map(Job.init), problems: reply.problems)
    }
}

// MARK: - Groups

extension JobClient {
    /// The groups named (every group with settings or jobs, and `default`, when none is).
    public func groups(_ names: [String] = []) throws(JobError) -> [JobGroup] {
        try groupsNamed(names).whole()
    }

    /// Sets groups' limits (nil leaves one as it is; 0 is no limit) or pauses or resumes them,
    /// making them when new; returns them as they are after.
    public func setGroups(_ names: [String], limit: Int? = nil, paused: Bool? = nil) throws(JobError) -> [JobGroup] {
        try settingGroups(names, limit: limit, paused: paused).whole()
    }

    /// Forgets the settings of groups that hold no jobs; returns those removed.
    public func removeGroups(_ names: [String]) throws(JobError) -> [JobGroup] {
        try removingGroups(names).whole()
    }

    package func groupsNamed(_ names: [String]) throws(JobError) -> Partly<[JobGroup]> {
        try grouping(GroupGetRequest(names))
    }

    package func settingGroups(_ names: [String], limit: Int?, paused: Bool?) throws(JobError) -> Partly<[JobGroup]> {
        try grouping(GroupSetRequest(names, limit: limit, paused: paused))
    }

    package func removingGroups(_ names: [String]) throws(JobError) -> Partly<[JobGroup]> {
        try grouping(GroupRemoveRequest(names))
    }

    private func grouping<R: AgentRequest>(_ request: R) throws(JobError) -> Partly<[JobGroup]>
    where R.Reply == GroupsReply {
        let reply = try send(request)
        return Partly(value: reply.groups.map(JobGroup.init), problems: reply.problems)
    }
}

// MARK: - Sessions

extension JobClient {
    /// Sessions opened on each computer (`job session new`), with the computers that failed.
    package func openingSessions(
        on computers: [String], name: String?, shell: String, sshOptions: [String], environment: [String]? = nil
    ) throws(JobError) -> Partly<[SessionRecord]> {
        var request = SessionNewRequest()
        request.computers = computers
        request.name = name
        request.shell = shell
        request.sshOptions = sshOptions
        request.workingDirectory = JobHome.currentDirectory()
        request.environment = environment ?? ProcessEnvironment.entries()
        request.umask = Self.currentUmask()
        let reply = try send(request)
        return Partly(value: reply.sessions, problems: reply.problems)
    }

    package func sessionsNamed(_ selectors: [String]) throws(JobError) -> Partly<[SessionRecord]> {
        let reply = try send(SessionGetRequest(selectors))
        return Partly(value: reply.sessions, problems: reply.problems)
    }

    package func removingSessions(_ selectors: [String], force: Bool, grace: Double) throws(JobError)
        -> Partly<[SessionRecord]>
    {
        let reply = try send(SessionRemoveRequest(selectors, force: force, grace: grace))
        return Partly(value: reply.sessions, problems: reply.problems)
    }
}
