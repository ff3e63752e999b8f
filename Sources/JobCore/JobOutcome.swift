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

/// How a child ended, as its monitor saw it.
package enum JobEnd: Equatable, Sendable {
    case exited(Int)
    case signaled(Int)
    /// It never became the command; the reason says why.
    case launchFailed(reason: String)
}

/// A finished child's state and what it records: the one rule for local, remote and session
/// children alike.
package struct JobOutcome: Equatable, Sendable {
    package var state: JobState
    package var exitStatus: Int?
    package var signal: Int?
    package var reason: String?

    package init(state: JobState, exitStatus: Int? = nil, signal: Int? = nil, reason: String? = nil) {
        self.state = state
        self.exitStatus = exitStatus
        self.signal = signal
        self.reason = reason
    }

    /// Status 0 is Completed; another status is Failed ("exited with status N"), and so is a
    /// signal ("killed by signal N (NAME)") and a launch that failed (its reason). A child we
    /// were asked to stop is Stopped ("stopped by request") whatever it then died of, but for a
    /// launch that failed. An end nobody saw (`end` nil) is Failed with `unseen`, or Stopped
    /// when a stop was asked; its status stays unknown.
    package static func of(_ end: JobEnd?, stopRequested: Bool, unseen: String) -> JobOutcome {
        var outcome: JobOutcome
        switch end {
        case .exited(let code):
            outcome = JobOutcome(
                state: code == 0 ? .completed : .failed, exitStatus: code,
                reason: code == 0 ? nil : "exited with status \(code)")
        case .signaled(let signal):
            outcome = JobOutcome(
                state: .failed, signal: signal, reason: "killed by signal \(signal) (\(SignalName.of(signal)))")
        case .launchFailed(let reason):
            return JobOutcome(state: .failed, reason: reason)
        case nil:
            outcome = JobOutcome(state: .failed, reason: unseen)
        }
        if stopRequested {
            outcome.state = .stopped
            outcome.reason = "stopped by request"
        }
        return outcome
    }
}
