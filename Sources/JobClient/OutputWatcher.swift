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
import JobCore
import JobProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// Wakes a reader that follows output when output files grow (inotify) or the agent reports a
/// change on its connection.
package final class OutputWatcher {
    private let inotify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
    private var watched = Set<String>()

    package init() {}

    deinit { if inotify >= 0 { close(inotify) } }

    /// Watches a folder of output files: armed before the first look at their sizes, so
    /// that a write between that look and the wait still wakes the wait.
    package func watch(folder: String) {
        guard inotify >= 0, !watched.contains(folder + "/") else { return }
        watched.insert(folder + "/")
        _ = inotify_add_watch(inotify, folder, UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO))
    }

    package func watch(_ grants: [StreamGrant]) {
        guard inotify >= 0 else { return }
        for grant in grants where !watched.contains(grant.outputPath) {
            watched.insert(grant.outputPath)
            let directory = String(
                grant.outputPath[..<(grant.outputPath.lastIndex(of: "/") ?? grant.outputPath.endIndex)])
            _ = inotify_add_watch(inotify, directory, UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO))
        }
    }

    package enum Wake { case socket, output, interrupted, timedOut }

    /// Blocks until output grows, `socket` is readable, or `interrupt` (a self-pipe) is.
    package func waitForChange(orReadable socket: Int32, interrupt: Int32 = -1, timeout: Double) -> Wake {
        var fds = [
            pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
            pollfd(fd: interrupt, events: Int16(POLLIN), revents: 0),
            pollfd(fd: inotify, events: Int16(POLLIN), revents: 0),
        ]
        var ready: Int32
        // Without inotify (the user's instances used up), output is looked at four times a
        // second instead.
        let slice = inotify < 0 ? min(timeout, 0.25) : timeout
        repeat {
            ready = poll(&fds, 3, slice.pollMilliseconds())
        } while ready < 0 && errno == EINTR && cjob_interrupt_signal() == 0
        if ready < 0 && cjob_interrupt_signal() != 0 { return .interrupted }
        if ready == 0 { return slice < timeout ? .output : .timedOut }
        if fds[2].revents != 0 {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while read(inotify, &buffer, buffer.count) > 0 {}
        }
        if fds[1].revents != 0 { return .interrupted }
        return fds[0].revents != 0 ? .socket : .output
    }
}
