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
import Testing

@testable import JobAgent

/// The queue alone: events in, actions out, with times given, never read from a clock.
@Suite("the scheduler")
struct SchedulerTests {
    static let zero = Date(timeIntervalSince1970: 1_800_000_000)
    static func at(_ seconds: Double) -> Date { zero.addingTimeInterval(seconds) }

    static func spec(
        group: String = Scheduler.defaultGroup, after: [Int] = [], afterAny: [Int] = [], notBefore: Double? = nil,
        timeout: Double? = nil
    ) -> QueueSpec {
        QueueSpec(group: group, after: after, afterAny: afterAny, notBefore: notBefore.map(at), timeout: timeout)
    }

    @Test("a group's limit: children start in Id order as places free; other groups are not held")
    func limits() {
        var queue = Scheduler()
        #expect(queue.handle(.groupSet("build", .init(limit: 2)), now: Self.at(0)).isEmpty)
        var started: [Scheduler.Action] = []
        for id in [2, 4, 6, 8] {
            started += queue.handle(.waiting(id, Self.spec(group: "build"), dependencies: [:]), now: Self.at(0))
        }
        #expect(started == [.start(2), .start(4)])
        #expect(queue.reason(for: 6, now: Self.at(0)) == "queued in group build, 0 ahead")
        #expect(queue.reason(for: 8, now: Self.at(0)) == "queued in group build, 1 ahead")
        #expect(queue.runningCount(in: "build") == 2 && queue.waitingCount(in: "build") == 2)
        #expect(queue.handle(.waiting(10, Self.spec(), dependencies: [:]), now: Self.at(0)) == [.start(10)])
        #expect(queue.handle(.ended(4), now: Self.at(1)) == [.start(6)])
        #expect(queue.handle(.ended(10), now: Self.at(1)).isEmpty)
        #expect(queue.handle(.ended(2), now: Self.at(2)) == [.start(8)])
        #expect(queue.waitingIds.isEmpty)
        // A limit raised lets the waiting start at once; 0 means none.
        for id in [12, 14] {
            _ = queue.handle(.waiting(id, Self.spec(group: "build"), dependencies: [:]), now: Self.at(3))
        }
        #expect(queue.handle(.groupSet("build", .init(limit: 0)), now: Self.at(3)) == [.start(12), .start(14)])
    }

    @Test("a paused group starts nothing new, what runs goes on; resumed, it starts in order")
    func pause() {
        var queue = Scheduler()
        _ = queue.handle(.groupSet("io", .init(limit: 1, paused: true)), now: Self.at(0))
        #expect(queue.handle(.waiting(2, Self.spec(group: "io"), dependencies: [:]), now: Self.at(0)).isEmpty)
        #expect(queue.reason(for: 2, now: Self.at(0)) == "queued in group io, which is paused")
        #expect(queue.handle(.waiting(4, Self.spec(group: "io"), dependencies: [:]), now: Self.at(0)).isEmpty)
        #expect(queue.handle(.groupSet("io", .init(limit: 1)), now: Self.at(1)) == [.start(2)])
        _ = queue.handle(.groupSet("io", .init(limit: 1, paused: true)), now: Self.at(2))
        #expect(queue.handle(.ended(2), now: Self.at(3)).isEmpty)
        #expect(queue.handle(.groupSet("io", .init(limit: 1)), now: Self.at(4)) == [.start(4)])
    }

    @Test(
        "dependencies: Completed lets it start; Failed, Stopped or removed fail it, unless any end will do",
        arguments: [
            (DependencyState.ended(.completed), false, Scheduler.Action.start(4)),
            (.ended(.failed), false, .fail(4, reason: "job 1, which it waited for, ended Failed")),
            (.ended(.stopped), false, .fail(4, reason: "job 1, which it waited for, ended Stopped")),
            (.removed, false, .fail(4, reason: "job 1, which it waited for, was removed")),
            (.ended(.failed), true, .start(4)),
            (.ended(.stopped), true, .start(4)),
            (.removed, true, .fail(4, reason: "job 1, which it waited for, was removed")),
        ])
    func dependencies(end: DependencyState, afterAny: Bool, expected: Scheduler.Action) {
        var queue = Scheduler()
        let spec = afterAny ? Self.spec(afterAny: [1]) : Self.spec(after: [1])
        #expect(queue.handle(.waiting(4, spec, dependencies: [1: .unfinished]), now: Self.at(0)).isEmpty)
        #expect(queue.isDependency(1) && !queue.isDependency(4))
        #expect(queue.reason(for: 4, now: Self.at(0)) == "waiting for 1")
        #expect(queue.handle(.dependency(1, end), now: Self.at(1)) == [expected])
        #expect(queue.waitingIds.isEmpty)
        // A dependency that had ended before is decided at once.
        var later = Scheduler()
        #expect(later.handle(.waiting(4, spec, dependencies: [1: end]), now: Self.at(0)) == [expected])
    }

    @Test("several dependencies: it waits for the last, and the first failure decides")
    func severalDependencies() {
        var queue = Scheduler()
        _ = queue.handle(
            .waiting(8, Self.spec(after: [1, 3, 5]), dependencies: [1: .unfinished, 3: .unfinished, 5: .unfinished]),
            now: Self.at(0))
        #expect(queue.reason(for: 8, now: Self.at(0)) == "waiting for 1, 3, 5")
        #expect(queue.handle(.dependency(3, .ended(.completed)), now: Self.at(1)).isEmpty)
        #expect(queue.reason(for: 8, now: Self.at(1)) == "waiting for 1, 5")
        #expect(queue.handle(.dependency(1, .ended(.completed)), now: Self.at(2)).isEmpty)
        #expect(queue.handle(.dependency(5, .ended(.completed)), now: Self.at(3)) == [.start(8)])
        _ = queue.handle(.waiting(10, Self.spec(after: [5, 7]), dependencies: [7: .unfinished]), now: Self.at(4))
        #expect(queue.reason(for: 10, now: Self.at(4)) == "waiting for 7")
        #expect(
            queue.handle(.dependency(7, .removed), now: Self.at(5)) == [
                .fail(10, reason: "job 7, which it waited for, was removed")
            ])
        // Both kinds at once: the one that must complete decides, the other may end any way.
        _ = queue.handle(
            .waiting(12, Self.spec(after: [3], afterAny: [9]), dependencies: [9: .unfinished]), now: Self.at(6))
        #expect(queue.handle(.dependency(9, .ended(.failed)), now: Self.at(7)) == [.start(12)])
    }

    @Test("a start time: it waits until then, one in the past starts at once; the next wake is the earliest")
    func schedules() {
        var queue = Scheduler()
        #expect(queue.handle(.waiting(2, Self.spec(notBefore: 60), dependencies: [:]), now: Self.at(0)).isEmpty)
        #expect(queue.handle(.waiting(4, Self.spec(notBefore: 30), dependencies: [:]), now: Self.at(0)).isEmpty)
        #expect(queue.handle(.waiting(6, Self.spec(notBefore: -5), dependencies: [:]), now: Self.at(0)) == [.start(6)])
        #expect(queue.nextWake() == Self.at(30))
        #expect(queue.reason(for: 2, now: Self.at(0))?.hasPrefix("starts at ") == true)
        #expect(queue.handle(.tick, now: Self.at(29.9)).isEmpty)
        #expect(queue.handle(.tick, now: Self.at(30)) == [.start(4)])
        #expect(queue.handle(.tick, now: Self.at(90)) == [.start(2)])
        // Started, the two have no deadline: nothing more is due.
        #expect(queue.nextWake() == nil)
    }

    @Test("a start time and a group together: due, it still waits for a place")
    func scheduleInGroup() {
        var queue = Scheduler()
        _ = queue.handle(.groupSet("g", .init(limit: 1)), now: Self.at(0))
        #expect(queue.handle(.waiting(2, Self.spec(group: "g"), dependencies: [:]), now: Self.at(0)) == [.start(2)])
        #expect(
            queue.handle(.waiting(4, Self.spec(group: "g", notBefore: 10), dependencies: [:]), now: Self.at(0)).isEmpty)
        #expect(queue.handle(.waiting(6, Self.spec(group: "g"), dependencies: [:]), now: Self.at(0)).isEmpty)
        // 6 is ready before 4 is due: it goes first when the place frees.
        #expect(queue.reason(for: 6, now: Self.at(1)) == "queued in group g, 0 ahead")
        #expect(queue.handle(.ended(2), now: Self.at(5)) == [.start(6)])
        #expect(queue.handle(.tick, now: Self.at(20)).isEmpty)
        #expect(queue.reason(for: 4, now: Self.at(20)) == "queued in group g, 0 ahead")
        #expect(queue.handle(.ended(6), now: Self.at(21)) == [.start(4)])
    }

    @Test("a timeout: due at start + timeout, once; the clock stops while suspended")
    func timeouts() {
        var queue = Scheduler()
        _ = queue.handle(.running(2, group: Scheduler.defaultGroup, timeout: 60, since: Self.at(0)), now: Self.at(0))
        _ = queue.handle(.running(4, group: Scheduler.defaultGroup, timeout: nil, since: Self.at(0)), now: Self.at(0))
        #expect(queue.nextWake() == Self.at(60))
        #expect(queue.handle(.tick, now: Self.at(59)).isEmpty)
        #expect(queue.handle(.suspended(2), now: Self.at(10)).isEmpty)
        #expect(queue.nextWake() == nil)
        #expect(queue.handle(.tick, now: Self.at(100)).isEmpty)
        #expect(queue.handle(.resumed(2), now: Self.at(100)).isEmpty)
        #expect(queue.nextWake() == Self.at(150))
        #expect(queue.handle(.tick, now: Self.at(150)) == [.timeOut(2, reason: "timed out after 1m")])
        // Once: the stop takes its time, and the end comes as an event.
        #expect(queue.handle(.tick, now: Self.at(160)).isEmpty && queue.nextWake() == nil)
        _ = queue.handle(.ended(2), now: Self.at(161))
        #expect(queue.runningCount(in: Scheduler.defaultGroup) == 1)
    }

    @Test("a timeout found by a new agent: the deadline stays where it was; one passed meanwhile is due at once")
    func timeoutsAfterRestart() {
        var queue = Scheduler()
        let actions = queue.handle(
            .running(2, group: "default", timeout: 30, since: Self.at(0), suspendedFor: 10), now: Self.at(35))
        #expect(actions.isEmpty && queue.nextWake() == Self.at(40))
        var late = Scheduler()
        #expect(
            late.handle(.running(2, group: "default", timeout: 90, since: Self.at(0)), now: Self.at(5400))
                == [.timeOut(2, reason: "timed out after 1m30s")])
    }

    @Test("a started child's timeout counts from the launch the agent reports")
    func timeoutOfStarted() {
        var queue = Scheduler()
        #expect(queue.handle(.waiting(2, Self.spec(timeout: 5), dependencies: [:]), now: Self.at(0)) == [.start(2)])
        #expect(queue.nextWake() == nil)
        _ = queue.handle(.running(2, group: "default", timeout: 5, since: Self.at(1)), now: Self.at(1))
        #expect(queue.nextWake() == Self.at(6))
        #expect(queue.handle(.tick, now: Self.at(6)) == [.timeOut(2, reason: "timed out after 5s")])
    }

    @Test("an invoke's throttle limit and its group's limit both hold")
    func parentLimit() {
        var queue = Scheduler()
        _ = queue.handle(.groupSet("g", .init(limit: 3)), now: Self.at(0))
        var spec = Self.spec(group: "g")
        spec.parent = 1
        spec.parentLimit = 2
        var started: [Scheduler.Action] = []
        for id in 2...5 { started += queue.handle(.waiting(id, spec, dependencies: [:]), now: Self.at(0)) }
        #expect(started == [.start(2), .start(3)])
        #expect(
            queue.reason(for: 4, now: Self.at(0)) == "waiting for a place among the 2 of job 1 that may run at once")
        // Another job in the group takes the group's last place.
        #expect(queue.handle(.waiting(7, Self.spec(group: "g"), dependencies: [:]), now: Self.at(0)) == [.start(7)])
        #expect(queue.runningCount(in: "g") == 3)
        // The group has a place again, the parent none: 4 waits for its parent's.
        #expect(queue.handle(.ended(7), now: Self.at(1)).isEmpty)
        #expect(queue.handle(.ended(2), now: Self.at(2)) == [.start(4)])
        // The parent has a place again, the group none (3, 4, 8): 5 waits for the group's.
        #expect(queue.handle(.waiting(8, Self.spec(group: "g"), dependencies: [:]), now: Self.at(3)) == [.start(8)])
        #expect(queue.handle(.ended(3), now: Self.at(4)) == [.start(5)])
        #expect(queue.waitingIds.isEmpty)
    }

    @Test("a dependency that ended and is then removed stays ended")
    func removedAfterEnd() {
        var queue = Scheduler()
        _ = queue.handle(
            .waiting(6, Self.spec(after: [1, 3]), dependencies: [1: .ended(.completed), 3: .unfinished]),
            now: Self.at(0))
        #expect(queue.handle(.dependency(1, .removed), now: Self.at(1)).isEmpty)
        #expect(queue.handle(.dependency(3, .ended(.completed)), now: Self.at(2)) == [.start(6)])
    }

    @Test("ten thousand waiting in a group of 4: they start in Id order, never more than 4 at once")
    func many() {
        var queue = Scheduler()
        _ = queue.handle(.groupSet("g", .init(limit: 4)), now: Self.at(0))
        var started: [Int] = []
        for id in 1...10000 {
            for action in queue.handle(.waiting(id, Self.spec(group: "g"), dependencies: [:]), now: Self.at(0)) {
                if case .start(let id) = action { started.append(id) }
            }
        }
        #expect(started == [1, 2, 3, 4])
        #expect(queue.reason(for: 10000, now: Self.at(0)) == "queued in group g, 9995 ahead")
        var running = Set(started)
        var next = 0
        while next < started.count {
            let ending = started[next]
            next += 1
            running.remove(ending)
            for action in queue.handle(.ended(ending), now: Self.at(1)) {
                guard case .start(let id) = action else { continue }
                started.append(id)
                running.insert(id)
            }
            #expect(running.count <= 4)
        }
        #expect(started == Array(1...10000))
        #expect(!queue.isBusy && queue.runningCount(in: "g") == 0 && queue.waitingCount(in: "g") == 0)
    }
}
