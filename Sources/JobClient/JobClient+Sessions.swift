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

/// Persistent sessions (PowerShell's PSSessions): a long-lived shell per computer, kept by the
/// agent, whose state lasts between the commands sent to it. Sessions end with the agent.
extension JobClient {
    /// Opens a session on a computer (`localhost` here, others over ssh).
    public func openSession(
        on computer: String, name: String? = nil, shell: String = "/bin/sh", sshOptions: [String] = [],
        environment: [String]? = nil
    ) throws(JobError) -> SessionRecord {
        let reply = try openingSessions(
            on: [computer], name: name, shell: shell, sshOptions: sshOptions, environment: environment)
        guard let session = reply.value.first else {
            throw JobError(.refused, reply.problems.first ?? "could not open a session on \(computer)")
        }
        return session
    }

    /// The sessions whose Id or name matches (every one when none is given); throws
    /// `notFound` when a selector names none.
    public func sessions(_ selectors: [String] = []) throws(JobError) -> [SessionRecord] {
        try sessionsNamed(selectors).whole()
    }

    /// Closes sessions; a Busy one only with `force` (its running command is stopped first).
    public func removeSessions(_ selectors: [String], force: Bool = false, grace: Duration = .seconds(5))
        throws(JobError) -> [SessionRecord]
    {
        let reply = try removingSessions(selectors, force: force, grace: grace.seconds)
        if !reply.problems.isEmpty { throw JobError(.refused, reply.problems.joined(separator: "; ")) }
        return reply.value
    }

    /// Runs a command in sessions (Ids or names): a parent with one child per session, each
    /// queued behind the session's earlier commands. `asInvoke` makes it a RemoteJob (as
    /// `job invoke --session`); otherwise a BackgroundJob (as `job start --session`). Refused,
    /// with no job made, when a session is not Opened.
    public func start(_ command: String, inSessions sessions: [String], name: String? = nil, asInvoke: Bool = false)
        throws(JobError) -> Job
    {
        Job(try send(SessionStartRequest(command: command, name: name, sessions: sessions, asInvoke: asInvoke)).job)
    }
}
