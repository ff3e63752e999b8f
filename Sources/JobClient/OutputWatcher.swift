import JobProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// Wakes a reader that follows output when output files grow (inotify) or the agent reports a
/// change on its connection.
public final class OutputWatcher {
    private let inotify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
    private var watched = Set<String>()

    public init() {}

    deinit { if inotify >= 0 { close(inotify) } }

    public func watch(_ grants: [StreamGrant]) {
        guard inotify >= 0 else { return }
        for grant in grants where !watched.contains(grant.outputPath) {
            watched.insert(grant.outputPath)
            let directory = String(
                grant.outputPath[..<(grant.outputPath.lastIndex(of: "/") ?? grant.outputPath.endIndex)])
            _ = inotify_add_watch(inotify, directory, UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO))
        }
    }

    public enum Wake { case socket, output, interrupted, timedOut }

    /// Blocks until output grows, `socket` is readable, or `interrupt` (a self-pipe) is.
    public func waitForChange(orReadable socket: Int32, interrupt: Int32 = -1, timeout: Double) -> Wake {
        var fds = [
            pollfd(fd: socket, events: Int16(POLLIN), revents: 0),
            pollfd(fd: interrupt, events: Int16(POLLIN), revents: 0),
            pollfd(fd: inotify, events: Int16(POLLIN), revents: 0),
        ]
        var ready: Int32
        repeat {
            ready = poll(&fds, 3, Int32(min(timeout, 1e6) * 1000))
        } while ready < 0 && errno == EINTR
        if ready == 0 { return .timedOut }
        if fds[2].revents != 0 {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while read(inotify, &buffer, buffer.count) > 0 {}
        }
        if fds[1].revents != 0 { return .interrupted }
        return fds[0].revents != 0 ? .socket : .output
    }
}
