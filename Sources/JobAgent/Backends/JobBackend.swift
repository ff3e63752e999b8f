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
import JobStore

/// A place where children run, and how the agent reaches them there: the one seam between
/// the registry (the table, the store, the queue, the verbs) and the ways a child runs, in
/// the spirit of PowerShell's `JobSourceAdapter`. Each backend starts a child, signals it,
/// begins and finishes its stop, says whether it can be suspended or signalled, takes it over
/// after an agent restart and lets go of it when it is removed. Its state changes reach the
/// registry through the job table's named transitions, from the backend's own watch (a
/// monitor's END, a link's status, a session's markers); its output is in the child's two
/// files under `JOB_HOME`, whoever writes them.
///
/// The handlers never ask where a child runs: they call `backend(for:)`. A new place (a
/// cluster scheduler) is a new conforming type and its line in `backend(for:)`.
///
/// Backends hold nothing themselves: what they keep (monitor links, durable links, sessions)
/// is a part of the registry's state, which they are handed, under its lock.
protocol JobBackend {
    /// Starts a child that the store has as Running with no process yet: on return it is
    /// launched (Running, with what the backend knows of it) or Failed with the reason.
    func launch(_ child: inout StoredJob, _ plan: LaunchPlan, in state: RegistryState)

    /// A signal to an unfinished child (a `signal`, a `suspend`, a stop's KILL); it goes on.
    func signal(_ child: StoredJob, _ signal: Int32, in state: RegistryState)

    /// Why the child cannot be `verb` (suspended, resumed, signalled) where it runs, or nil.
    func refusesSignals(_ child: StoredJob, verb: String, in state: RegistryState) -> String?

    /// Whether `suspend` (with `suspending`) or `resume` acts on a child in its state. Default:
    /// a Running one is suspended, a Suspended one resumed.
    func pausable(_ child: StoredJob, suspending: Bool) -> Bool

    /// Suspends a child or resumes it. Default: SIGSTOP or SIGCONT to its processes and the
    /// transition, at once (`.done`). A place that does it with a command of its own answers
    /// `.outside`, which the handler runs without the lock.
    func pause(_ child: inout StoredJob, suspending: Bool, at time: Date, in state: RegistryState) -> Pause

    /// Marks a child as being stopped (its transition), before the store has it; hands the
    /// stop to the other side where that side stops it. Default: `requestStop`.
    func prepareStop(_ child: inout StoredJob, first: Int32, grace: Double, in state: RegistryState) -> StopStart

    /// Sends a prepared stop's first signal, once the store has the stop. Default: `signal`.
    func deliverStop(_ child: StoredJob, first: Int32, in state: RegistryState)

    /// What a stop does to a child that the grace period's KILL did not end; true when it did
    /// something (a session's shell is ended). Default: nothing.
    func endStubborn(_ child: StoredJob, in state: RegistryState) -> Bool

    /// Adds to a child's recorded end what only its place can tell (its Reason); called as the
    /// end is recorded. Default: nothing.
    func explainEnd(_ child: inout StoredJob, in state: RegistryState)

    /// Takes over an unfinished, begun child after an agent restart.
    func adopt(_ child: inout StoredJob, in state: RegistryState) -> Adoption

    /// Lets go of a child being removed: what watches it, what it may still keep.
    func forget(_ child: StoredJob, in state: RegistryState)

    /// Why a child that a forced stop left unfinished may not be removed yet (its command
    /// would run on where it runs, unseen), or nil. Default: nil.
    func removalProblem(_ child: StoredJob, in state: RegistryState) -> String?

    /// Why a finished child cannot run again where it ran, or nil. Default: nil.
    func restartProblem(_ child: StoredJob, in state: RegistryState) -> String?

    /// Whether the place starts its children in its own order (a session runs one command at
    /// a time): they are handed to `launch` NotStarted, not through the queue or a throttle.
    var startsInItsOwnOrder: Bool { get }
}

/// What a launch needs besides the child: its parent, the environment, the caller's umask
/// and, for `--input -`, the descriptor of its stdin. `outsideLock`: the round trip to the
/// supervisor may let go of the registry's lock (`RegistryState.outsideLock`), which only
/// `start`'s own launch of a local child allows.
struct LaunchPlan {
    var parent: StoredJob
    var environment: [String]
    var umask: Int
    var stdinFD: Int32?
    var outsideLock = false
}

/// How a stop began for one child.
enum StopStart {
    /// It never started: it is Stopped, and nothing is sent.
    case neverStarted
    /// Its first signal is to go to it (`deliverStop`): the stop waits for its end and sends
    /// KILL after the grace period.
    case signalled
    /// The other side stops it, with the grace period: the stop waits for the news.
    case handedOver
    /// It cannot be reached now; the stop is stored and delivered later.
    case pending
}

/// How a backend suspended or resumed a child.
enum Pause {
    /// Done, the child changed.
    case done
    /// To be done by a command (which may wait for a slow controller) run outside the lock.
    case outside(@Sendable () -> PauseOutcome)
}

/// What a pause's command did: its refusal in the user's words, or what to apply to the child
/// once the lock is taken again (nil: nothing now, the backend's watch follows it).
struct PauseOutcome {
    var refusal: String?
    var apply: (@Sendable (inout StoredJob) -> Void)?
}

/// What an agent's start made of a child it took over.
enum Adoption {
    /// Found running, and watched again.
    case found
    /// It ended, or waits again: the child has changed and is to be stored.
    case changed
    /// Watched on in another way (its process, its monitor being gone); nothing to store.
    case watched
    /// Its backend links to it again, on a thread of its own.
    case linking
}

extension JobBackend {
    func prepareStop(_ child: inout StoredJob, first: Int32, grace: Double, in state: RegistryState) -> StopStart {
        child.requestStop() ? .signalled : .neverStarted
    }

    func deliverStop(_ child: StoredJob, first: Int32, in state: RegistryState) {
        signal(child, first, in: state)
    }

    func refusesSignals(_ child: StoredJob, verb: String, in state: RegistryState) -> String? { nil }

    func pausable(_ child: StoredJob, suspending: Bool) -> Bool {
        child.state == (suspending ? .running : .suspended)
    }

    func pause(_ child: inout StoredJob, suspending: Bool, at time: Date, in state: RegistryState) -> Pause {
        signal(child, suspending ? SIGSTOP : SIGCONT, in: state)
        if suspending { child.suspend(at: time) } else { child.resume(at: time) }
        return .done
    }

    func endStubborn(_ child: StoredJob, in state: RegistryState) -> Bool { false }

    func explainEnd(_ child: inout StoredJob, in state: RegistryState) {}

    func removalProblem(_ child: StoredJob, in state: RegistryState) -> String? { nil }

    func restartProblem(_ child: StoredJob, in state: RegistryState) -> String? { nil }

    var startsInItsOwnOrder: Bool { false }
}

extension RegistryState {
    /// The backend of the place where a child runs.
    func backend(for child: StoredJob) -> any JobBackend {
        if child.durable { return DurableBackend() }
        switch child.placement {
        case .session: return SessionBackend()
        case .remote: return SSHBackend()
        case .slurm: return SlurmBackend()
        case .local, .parent: return LocalBackend()
        }
    }

    /// A signal to a child, where it runs. Lock held.
    func signal(_ child: StoredJob, _ signal: Int32) {
        backend(for: child).signal(child, signal, in: self)
    }
}
