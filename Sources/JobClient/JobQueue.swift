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

import JobProtocol

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What a new job asks of the agent's queue: all optional. Without any of it a job starts at
/// once and runs as long as it runs.
public struct JobQueueOptions: Sendable, Equatable, QueueFields {
    /// Seconds it may run; then it is stopped as `stop` stops it, and ends Failed ("timed out
    /// after 15m").
    public var timeout: Double?
    /// Jobs that must end Completed before it starts; should one fail, be stopped or removed,
    /// it never starts and ends Failed.
    public var after: [Int]
    /// Jobs that must end, in any way, before it starts.
    public var afterAny: [Int]
    /// When it may start at the earliest.
    public var notBefore: Date?
    /// The group whose limit and pause apply (`default` when nil).
    public var group: String?
    /// Bytes of stdout and stderr together past which it is stopped, and ends Failed ("output
    /// over 1 GB").
    public var maxOutput: Int64?
    /// Seconds between SIGTERM and SIGKILL when the timeout or the output cap stops it
    /// (default 5).
    public var stopGrace: Double?

    public init(
        timeout: Double? = nil, after: [Int] = [], afterAny: [Int] = [], notBefore: Date? = nil, group: String? = nil,
        maxOutput: Int64? = nil
    ) {
        self.timeout = timeout
        self.after = after
        self.afterAny = afterAny
        self.notBefore = notBefore
        self.group = group
        self.maxOutput = maxOutput
    }

    /// Whether nothing is asked of the queue.
    public var isEmpty: Bool { self == JobQueueOptions() }

    func apply(to request: inout some QueueFields) {
        request.takeQueue(from: self)
    }
}
