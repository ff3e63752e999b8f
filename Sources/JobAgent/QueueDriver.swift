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

/// The queue as the agent drives it, one part of the registry's state: the `Scheduler`, which
/// decides (and knows no processes or store), and what the agent keeps around it. Its rules:
/// the scheduler hears events in the order they came, one at a time and never from inside
/// its own answer (`RegistryState.runQueue` takes them with `next()` while `running`); a
/// timeout or an output cap is acted on once (`takeTimeouts` hands each out once).
struct QueueDriver {
    var scheduler = Scheduler()
    /// What the scheduler has yet to hear.
    private var events: [Scheduler.Event] = []
    /// Set while the events are being handed over, so that those they cause wait their turn.
    var running = false
    /// Children whose timeout came or whose output passed its cap, for the watcher to stop.
    private var timeoutsDue: [Int] = []
    /// Unfinished children with an output cap, and when old jobs were last looked for.
    var capped: Set<Int> = []
    var lastSweep = Date.distantPast
    /// When the watcher of ends planned to wake for the queue.
    var plannedWake: Date?
    /// The caller's umask for the children a throttle holds back, by parent Id. Not stored:
    /// after an agent restart they start with 022.
    var umask: [Int: Int] = [:]

    /// An event for the scheduler, heard at the next `RegistryState.runQueue`.
    mutating func tell(_ event: Scheduler.Event) { events.append(event) }

    /// The next event to hand over, in the order they came.
    mutating func next() -> Scheduler.Event? { events.isEmpty ? nil : events.removeFirst() }

    /// A child to stop for its timeout or its output cap.
    mutating func due(_ id: Int) { timeoutsDue.append(id) }

    /// The children to stop, each once.
    mutating func takeTimeouts() -> [Int] {
        defer { timeoutsDue.removeAll() }
        return timeoutsDue
    }
}
