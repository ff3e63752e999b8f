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

/// The ranges of the numbers a request carries, checked as it enters the agent, before any
/// handler does arithmetic with them or stores them: a client checks them too, but a library
/// caller or an older client may not. The wire itself refuses NaN, infinities and numbers
/// beyond 1e11 (`Double.decode`); these are the narrower ranges of each field.
enum Limits {
    /// The most of anything counted (a throttle, a group's limit).
    static let largestCount = 1_000_000_000

    static func startProblem(_ start: StartRequest) -> Failure? {
        if let notBefore = start.notBefore,
            notBefore.timeIntervalSinceNow > DurationText.longest
        {
            return Failure(.refused, "a job may wait to start at most 3650d (ten years) from now")
        }
        if let cap = start.maxOutput, cap <= 0 { return Failure(.refused, "--max-output must be above zero") }
        return duration(start.timeout, "--timeout")
            ?? duration(start.stopGrace, "--grace", zero: true)
            ?? count(start.throttleLimit, "--throttle-limit")
    }

    static func duration(_ seconds: Double?, _ what: String, zero: Bool = false) -> Failure? {
        guard let seconds, !DurationText.isAllowed(seconds, zero: zero) else { return nil }
        let range = zero ? "0 or more and at most 3650d (ten years)" : DurationText.range
        return Failure(.refused, "\(what) must be \(range), not \(DurationText.number(seconds)) s")
    }

    static func count(_ value: Int?, _ what: String) -> Failure? {
        guard let value, !(0...largestCount).contains(value) else { return nil }
        return Failure(.refused, "\(what) must be 0 to \(largestCount), not \(value)")
    }
}

// Each request's own ranges (`Handled.rangeProblem`).

extension StartRequest {
    var rangeProblem: Failure? { Limits.startProblem(self) }
}

extension StopRequest {
    var rangeProblem: Failure? { Limits.duration(grace, "the grace period", zero: true) }
}

extension RemoveRequest {
    var rangeProblem: Failure? {
        Limits.duration(grace, "the grace period", zero: true)
            ?? Limits.duration(olderThan, "--older-than", zero: true)
    }
}

extension SessionRemoveRequest {
    var rangeProblem: Failure? { Limits.duration(grace, "the grace period", zero: true) }
}

extension WaitRequest {
    var rangeProblem: Failure? { Limits.duration(timeout, "the timeout", zero: true) }
}

extension WaitEventRequest {
    var rangeProblem: Failure? { Limits.duration(timeout, "the timeout", zero: true) }
}

extension GroupSetRequest {
    var rangeProblem: Failure? { Limits.count(limit, "a group's limit") }
}
