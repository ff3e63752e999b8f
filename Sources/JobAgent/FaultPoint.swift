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

/// Places where the fault tests kill the agent in the middle of an operation, to show that
/// nothing is lost or left behind whatever the moment. `JOB_TEST_FAULT=NAME` in the agent's
/// environment makes it kill itself with SIGKILL the first time it reaches `NAME`; without it
/// each check is one comparison with nil.
enum FaultPoint: String {
    /// `start`: the rows are stored, nothing is launched yet.
    case startAfterInsert = "start-after-insert"
    /// `start`: the client has its answer, nothing is launched yet.
    case startAfterAnswer = "start-after-answer"
    /// `start`: the children are launched, their pids not stored yet.
    case startAfterLaunch = "start-after-launch"
    /// The queue: a waiting child is stored Running, not launched yet.
    case queueAfterBegin = "queue-after-begin"
    /// `receive`: a reader has written what it claimed and ends its claim.
    case receiveAfterWrite = "receive-after-write"
    /// A job's end: the waits it met are answered, the end is not stored yet.
    case endAfterAnswer = "end-after-answer"
    /// `remove`: the rows are deleted, the output files not yet.
    case removeAfterDelete = "remove-after-delete"

    private static let armed = ProcessInfo.processInfo.environment["JOB_TEST_FAULT"].flatMap(FaultPoint.init)

    func reached() {
        if Self.armed == self { kill(getpid(), SIGKILL) }
    }
}
