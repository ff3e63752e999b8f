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
import JobStore

/// A command run in a session's shell (`SessionTable`, `Sessions/`): it waits its turn in the
/// session's queue, and its processes are the shell's descendants. Sessions end with the agent
/// that opened them.
struct SessionBackend: JobBackend {
    /// Its turn in its session: run now if the session is free.
    func launch(_ job: inout StoredJob, _ plan: LaunchPlan, in state: RegistryState) {
        guard let session = job.session.flatMap({ state.sessions[$0] }), session.state == .opened else {
            job.launchFailed("its session is no longer open")
            return
        }
        // The session begins it when its turn comes.
        if job.state == .running && job.pid == nil { job.unbegin() }
        state.jobs[job.id] = job
        session.queue.append(job.id)
        state.dispatchNext(session)
        if let current = state.jobs[job.id] { job = current }
    }

    /// Its processes, not the session's shell.
    func signal(_ job: StoredJob, _ signal: Int32, in state: RegistryState) {
        job.session.flatMap { state.sessions[$0] }?.signalCommand(signal)
    }

    func refusesSignals(_ job: StoredJob, verb: String, in state: RegistryState) -> String? {
        "\(state.messageName(of: job)) runs in a session's shell, which cannot be \(verb)"
    }

    /// A command still running after KILL runs in the shell itself (a loop of builtins): only
    /// ending the shell stops it, and the session is then Broken.
    func endStubborn(_ job: StoredJob, in state: RegistryState) -> Bool {
        guard let session = job.session.flatMap({ state.sessions[$0] }) else { return false }
        session.reason =
            "the session's shell was ended to stop \(state.messageName(of: job)), which ran in the shell itself "
            + "(a loop of builtins) and could not be stopped on its own"
        session.killShell()
        return true
    }

    /// Sessions end with the agent that opened them.
    func adopt(_ job: inout StoredJob, in state: RegistryState) -> Adoption {
        state.finish(&job, record: nil, reason: "its session ended with the agent that ran it")
        return .changed
    }

    func forget(_ job: StoredJob, in state: RegistryState) {}

    /// A command of a session runs again in that session, which must still be open.
    func restartProblem(_ job: StoredJob, in state: RegistryState) -> String? {
        guard let id = job.session else { return nil }
        let session = state.sessions[id]
        guard session?.state != .opened else { return nil }
        return "ran in session \(id), which is " + (session.map { "\($0.state.rawValue)" } ?? "gone")
            + "; only a command of an open session can be restarted: start it again in another"
    }

    var startsInItsOwnOrder: Bool { true }
}
