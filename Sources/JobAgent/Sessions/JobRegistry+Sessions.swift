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
import JobCore
import JobProtocol
import JobRemote
import JobStore

extension SessionNewRequest: Handled {
    /// Checks the options, then opens the sessions: their shells are started under the lock,
    /// each read on a thread of its own, and the answer waits for their first word.
    func handle(_ context: RequestContext, answer: (Result<any TaggedMessage, Failure>) -> Void) {
        guard !computers.isEmpty else {
            return answer(.failure(Failure(.badRequest, "bad request: session new without computers")))
        }
        do {
            for option in sshOptions { try InputCheck.sshOption(option) }
            if let name { try InputCheck.jobName(name) }
        } catch {
            return answer(.failure(Failure(.refused, "\(error)")))
        }
        answer(.success(context.registry.openSessions(self)))
    }
}

extension SessionGetRequest: LockedHandler {
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage {
        state.getSessions(self)
    }
}

extension SessionRemoveRequest: LockedHandler {
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage {
        state.removeSessions(self)
    }
}

/// Sessions live in the agent: they are opened, used and closed here, and end with it. Each
/// command sent to one is a job like any other (stored, with its output files), whose child
/// runs in the session's shell instead of under a monitor.
extension RegistryState {
    /// How long `session new` waits for a shell's first answer.
    static let sessionOpenTimeout = 30.0

    // MARK: - session new, get, remove

    /// Starts a session's shell on each computer named, and registers it; the readers of
    /// their output are for threads of their own. Lock held.
    func makeSessions(_ request: SessionNewRequest) -> (ids: [Int], readers: [SessionReader], problems: [String]) {
        var made: (ids: [Int], readers: [SessionReader], problems: [String]) = ([], [], [])
        for name in request.computers {
            do {
                let computer = try ComputerName(name)
                let id = sessions.nextId()
                let session: Session
                do {
                    session = try Session(
                        // One name for several sessions would make `--session NAME` ambiguous.
                        id: id,
                        name: request.name.map { request.computers.count > 1 ? "\($0)@\(name)" : $0 } ?? "Session\(id)",
                        computer: computer, shell: request.shell,
                        workingDirectory: request.workingDirectory, environment: request.environment,
                        umask: request.umask, sshOptions: request.sshOptions, home: home)
                } catch {
                    made.problems.append("\(name): \(error)")
                    continue
                }
                sessions[id] = session
                made.ids.append(id)
                made.readers.append(session.reader)
            } catch {
                made.problems.append("\(error)")
            }
        }
        return made
    }

    /// Waits for every new shell's first answer (its pid) or its end, and answers with the
    /// sessions that opened; those that did not are closed. Lock held (the wait lets it go).
    func awaitSessions(_ ids: [Int], problems: [String]) -> SessionsReply {
        var problems = problems
        let opened = ids.compactMap { sessions[$0] }
        let deadline = Monitor.now() + Self.sessionOpenTimeout
        while opened.contains(where: { $0.shellPid == 0 && $0.state == .opened }) && Monitor.now() < deadline
            && !stopping
        {
            monitor.wait(until: deadline)
        }
        var made: [SessionRecord] = []
        for session in opened {
            if session.shellPid == 0 {
                let reason = session.reason ?? "no answer from its shell in \(Int(Self.sessionOpenTimeout)) s"
                problems.append("could not open a session on \(session.computer): \(reason)")
                session.state = .closed
                session.endInput()
                sessions[session.id] = nil
            } else {
                made.append(session.record)
            }
        }
        return SessionsReply(sessions: made, problems: problems)
    }

    func getSessions(_ request: SessionGetRequest) -> SessionsReply {
        let (chosen, problems) = selectSessions(request.selectors)
        return SessionsReply(sessions: chosen.map(\.record), problems: problems)
    }

    func removeSessions(_ request: SessionRemoveRequest) -> SessionsReply {
        let (force, grace) = (request.force, request.grace)
        var (chosen, problems) = selectSessions(request.selectors)
        var removed: [SessionRecord] = []
        for session in chosen {
            if let running = session.runningJob, session.state == .opened {
                guard force else {
                    problems.append(
                        "\(session.name) (Id \(session.id)) is Busy running Job\(running); stop it first "
                            + "(job stop \(running)) or use --force")
                    continue
                }
                stopLocked(ids: [running], grace: grace)
            }
            session.state = .closed
            endCommands(of: session) { _, _ in (.stopped, "its session was removed before it ran") }
            session.endInput()
            sessions[session.id] = nil
            removed.append(session.record)
        }
        return SessionsReply(sessions: removed, problems: problems)
    }

    /// Sessions by Id or name (shell wildcards, case-insensitive); all when nothing is given.
    /// Lock held.
    func selectSessions(_ selectors: [String]) -> ([Session], [String]) {
        let all = sessions.all
        guard !selectors.isEmpty else { return (all, []) }
        var chosen: [Int: Session] = [:]
        var problems: [String] = []
        for selector in selectors {
            if let id = Int(selector) {
                if let session = sessions[id] {
                    chosen[id] = session
                } else {
                    problems.append("no session has Id \(id)")
                }
                continue
            }
            let glob = Glob(selector)
            let matched = all.filter { glob.matches($0.name) }
            if matched.isEmpty && !glob.hasWildcards { problems.append("no session is named '\(selector)'") }
            for session in matched { chosen[session.id] = session }
        }
        return (chosen.values.sorted { $0.id < $1.id }, problems)
    }

    // MARK: - Commands in sessions

    /// `start --session` and `invoke --session`: a parent with one child per session, each
    /// queued in its session. Refused whole, with no job made, when a session is missing or
    /// not Opened. Lock held.
    func startInSessions(_ request: StartRequest) -> Result<StartReply, Failure> {
        var targets: [Session] = []
        for selector in request.sessions {
            let (found, problems) = selectSessions([selector])
            guard let session = found.first, problems.isEmpty else {
                return .failure(
                    Failure(
                        .refused,
                        (problems.first ?? "no session matches '\(selector)'") + "; job session get lists the sessions")
                )
            }
            guard found.count == 1 else {
                return .failure(Failure(.refused, "'\(selector)' names \(found.count) sessions; give one Id or name"))
            }
            guard session.state == .opened else {
                return .failure(
                    Failure(
                        .refused,
                        "session \(session.name) (Id \(session.id)) is \(session.state.rawValue)"
                            + (session.reason.map { ": \($0)" } ?? "")
                            + "; remove it (job session remove \(session.id)) and open a new one"))
            }
            targets.append(session)
        }
        // invoke always sends a throttle limit; start never does.
        let (parent, made) = makeJob(
            type: request.throttleLimit > 0 ? JobType.remote : JobType.background, name: request.name,
            command: request.command,
            children: targets.map { session in
                ChildPlan(
                    location: session.computer, workingDirectory: session.workingDirectory, shell: session.shell,
                    placement: .session, session: session.id)
            })
        if let failure = storeAndRegister(parent, made, environment: []) { return .failure(failure) }
        for (session, job) in zip(targets, made) {
            session.queue.append(job.id)
            session.jobCount += 1
            dispatchNext(session)
        }
        generation &+= 1
        monitor.broadcast()
        return .success(StartReply(job: record(jobs[parent.id]!)))
    }

    /// Sends the session its next waiting command when it is idle. Lock held.
    func dispatchNext(_ session: Session) {
        while session.runningJob == nil && session.state == .opened && !session.queue.isEmpty {
            let id = session.queue.removeFirst()
            guard var job = jobs[id], job.state == .notStarted else { continue }
            let paths = files.paths(job.instanceId)
            let (output, errors) = (paths.stdout, paths.stderr)
            // The files exist (private) before the shell appends to them.
            for path in [output, errors] {
                let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
                if fd >= 0 { close(fd) }
            }
            session.sequence += 1
            job.begin()
            jobs[id] = job
            session.runningJob = id
            persist([job])
            session.run(command: job.command, sequence: session.sequence, outputPath: output, errorPath: errors)
        }
    }

    /// What a session's reader saw; nothing once the session was removed. Lock held.
    func sessionEvent(_ sessionId: Int, _ event: SessionReader.Event) {
        guard let session = sessions[sessionId] else { return }
        switch event {
        case .finished(let sequence, let status):
            if sequence == 0 {
                session.shellPid = status
                monitor.broadcast()
                return
            }
            guard sequence == session.sequence, let id = session.runningJob, var job = jobs[id] else { return }
            session.runningJob = nil
            job.endTime = Date()
            job.apply(JobOutcome.of(.exited(status), stopRequested: job.stopRequested, unseen: ""))
            refreshSizes(&job)
            jobs[id] = job
            persist([job])
            dispatchNext(session)
        case .ended(let status):
            let wasOpen = session.state == .opened
            if wasOpen {
                session.state = .broken
                session.reason = session.reason ?? brokenReason(session, status: status)
            }
            let reason = session.reason ?? "its session was closed"
            endCommands(of: session) { job, ran in
                if !ran { return (.failed, "its session broke before it ran: \(reason)") }
                return job.stopRequested
                    ? (.stopped, "stopped by request; \(reason)") : (.failed, "its session broke: \(reason)")
            }
            monitor.broadcast()
        }
    }

    /// Why a session's shell is gone, from the status it ended with (nil: none came).
    func brokenReason(_ session: Session, status: Int?) -> String {
        if let status, session.shellPid == 0 {
            return "its shell \(session.shell) ended before it answered, with status \(status)"
                + (status == 127 ? " (is it installed there?)" : "")
        }
        if let status {
            if status > 128 {
                return "the session's shell was killed by signal \(status - 128) (\(SignalName.of(status - 128)))"
            }
            return "the session's shell exited with status \(status) (a command ran exit or exec)"
        }
        if !session.isLocal {
            let diagnosis = session.diagnostics.flatMap { SSHCommand.diagnosis(path: $0) }
            if session.shellPid == 0 {
                // It never answered: ssh could not connect, or the shell could not start.
                return diagnosis ?? "its shell \(session.shell) did not start there"
            }
            if let diagnosis {
                return "the connection to \(session.computer) was lost: \(diagnosis)"
            }
            return "the connection to \(session.computer) was lost"
        }
        return "the session's shell was killed"
    }

    /// At the agent's stop: every session ends, and its commands with it. Lock held.
    func closeSessions() {
        for session in sessions.all {
            session.state = .closed
            endCommands(of: session) { _, _ in (.failed, "the agent stopped, and its sessions end with it") }
            session.endInput()
        }
    }

    /// Ends a session's unfinished commands, the running one and those waiting, with the state
    /// and Reason `outcome` gives each (`ran`: it had started), and stores them. Lock held.
    func endCommands(of session: Session, _ outcome: (_ job: StoredJob, _ ran: Bool) -> (JobState, String)) {
        var changed: [StoredJob] = []
        for id in (session.runningJob.map { [$0] } ?? []) + session.queue {
            guard var job = jobs[id], !job.state.isFinished else { continue }
            let (end, why) = outcome(job, job.state != .notStarted)
            job.endInSession(end, reason: why)
            refreshSizes(&job)
            jobs[id] = job
            changed.append(job)
        }
        session.runningJob = nil
        session.queue = []
        persist(changed)
    }
}
