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

/// The agent's connections to its running children's monitors, the pidfds of children whose
/// monitor was killed, and the one epoll set that watches them all (with the agent's own
/// SIGCHLD signalfd and the queue's wake-up). One part of the registry's state, which owns
/// these descriptors and keeps three rules: a child has at most one link and at most one
/// orphan watch; every descriptor held is in the epoll set under its child's tag; what is let
/// go of is taken out of the set and closed. Nothing else opens, closes or registers them.
/// It knows no jobs: what a message means is the registry's (`JobRegistry+Monitors.swift`).
struct MonitorLinks {
    /// What an epoll tag says: the Id in the high bits, what is watched in the low two.
    enum Watched: UInt64 {
        case childSignals = 0
        case monitor = 1
        case orphan = 2
        /// The queue's wake-up came sooner.
        case wake = 3
    }

    let epoll: Int32
    private var links: [Int: Int32] = [:]
    private var orphans: [Int: Int32] = [:]
    /// Children whose end is known but could not be stored yet (a full disk): their monitors
    /// keep the end until it is.
    var unacknowledged: Set<Int> = []
    /// Running children whose monitor could not be reached for want of descriptors.
    var unreached: Set<Int> = []
    /// Running children whose pid and start time came with their launch's answer and are not
    /// stored yet, and when the first of them came (monotonic seconds).
    var unsavedPids: Set<Int> = []
    var unsavedSince = 0.0
    /// When the watcher of ends wakes next at the latest (monotonic seconds; infinity: only
    /// when something comes), so that it is woken sooner only when it must be.
    var watcherWakesAt = Double.infinity
    /// Whether the timer of launched pids is set (`RegistryState.pidTimerFD`).
    var pidTimerSet = false

    init() {
        epoll = cjob_epoll_create()
    }

    static func tag(_ id: Int, _ what: Watched) -> UInt64 { UInt64(id) << 2 | what.rawValue }

    /// What a tag epoll reported names.
    static func watched(_ tag: UInt64) -> (id: Int, what: Watched?) {
        (Int(tag >> 2), Watched(rawValue: tag & 3))
    }

    /// The connection to a child's monitor, if one is held.
    func link(_ id: Int) -> Int32? { links[id] }

    /// Whether anything of this child is watched (its monitor, or its process as an orphan).
    func watches(_ id: Int) -> Bool { links[id] != nil || orphans[id] != nil }

    /// Whether ends wait to be stored or monitors to be reached again.
    var isRetrying: Bool { !unacknowledged.isEmpty || !unreached.isEmpty }

    /// Holds and watches a connection to a child's monitor (any older one is let go).
    mutating func attach(_ id: Int, link fd: Int32) {
        detach(id)
        unreached.remove(id)
        links[id] = fd
        _ = cjob_epoll_add(epoll, fd, Self.tag(id, .monitor))
    }

    /// Lets go of a child's monitor connection: unwatched and closed.
    mutating func detach(_ id: Int) {
        guard let fd = links.removeValue(forKey: id) else { return }
        _ = cjob_epoll_del(epoll, fd)
        close(fd)
    }

    /// Sends a message to a child's monitor; false when none is linked or the send failed.
    @discardableResult
    func send(_ id: Int, _ kind: UInt32, _ value: Int32 = 0) -> Bool {
        guard let fd = links[id] else { return false }
        return cjob_monitor_send(fd, kind, value) == 0
    }

    /// Holds and watches the pidfd of a child whose monitor is gone.
    mutating func watchOrphan(_ id: Int, pidfd fd: Int32) {
        forgetOrphan(id)
        orphans[id] = fd
        _ = cjob_epoll_add(epoll, fd, Self.tag(id, .orphan))
    }

    /// Lets go of an orphan's pidfd; whether there was one.
    @discardableResult
    mutating func forgetOrphan(_ id: Int) -> Bool {
        guard let fd = orphans.removeValue(forKey: id) else { return false }
        _ = cjob_epoll_del(epoll, fd)
        close(fd)
        return true
    }

    /// Lets go of everything of a child: its link, its orphan watch, a pending end.
    mutating func forget(_ id: Int) {
        detach(id)
        forgetOrphan(id)
        unacknowledged.remove(id)
        unreached.remove(id)
        unsavedPids.remove(id)
    }

    /// Watches one of the agent's own descriptors (not a child's): SIGCHLD or a wake-up
    /// (`number` tells the wake-ups apart).
    func watchAgent(_ fd: Int32, as what: Watched, number: Int = 0) {
        if fd >= 0 { _ = cjob_epoll_add(epoll, fd, Self.tag(number, what)) }
    }

    /// Closes everything, the epoll set last (a stopping agent, once its threads ended).
    mutating func closeAll() {
        for id in Array(links.keys) { detach(id) }
        for id in Array(orphans.keys) { forgetOrphan(id) }
        unacknowledged = []
        unreached = []
        unsavedPids = []
        if epoll >= 0 { close(epoll) }
    }
}
