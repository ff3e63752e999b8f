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
extension Request {
    /// Why this request's numbers cannot be used, or nil.
    var rangeProblem: Failure? {
        switch self {
        case .start(let start): Self.startProblem(start)
        case .startQueued(let queued): Self.startProblem(queued.request)
        case .stop(let stop): Self.duration(stop.grace, "the grace period", zero: true)
        case .remove(let remove):
            Self.duration(remove.grace, "the grace period", zero: true)
                ?? Self.duration(remove.olderThan, "--older-than", zero: true)
        case .sessionRemove(let remove): Self.duration(remove.grace, "the grace period", zero: true)
        case .wait(let wait): Self.duration(wait.timeout, "the timeout", zero: true)
        case .waitEvent(let event): Self.duration(event.timeout, "the timeout", zero: true)
        case .groupSet(let set): Self.count(set.limit, "a group's limit")
        default: nil
        }
    }

    /// The most of anything counted (a throttle, a group's limit).
    static let largestCount = 1_000_000_000

    private static func startProblem(_ start: StartRequest) -> Failure? {
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

    private static func duration(_ seconds: Double?, _ what: String, zero: Bool = false) -> Failure? {
        guard let seconds, !DurationText.isAllowed(seconds, zero: zero) else { return nil }
        let range = zero ? "0 or more and at most 3650d (ten years)" : DurationText.range
        return Failure(.refused, "\(what) must be \(range), not \(DurationText.number(seconds)) s")
    }

    private static func count(_ value: Int?, _ what: String) -> Failure? {
        guard let value, !(0...largestCount).contains(value) else { return nil }
        return Failure(.refused, "\(what) must be 0 to \(largestCount), not \(value)")
    }
}
