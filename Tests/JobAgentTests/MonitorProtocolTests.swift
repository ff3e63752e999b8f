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
import Glibc
import JobCore
import JobTestSupport
import Testing

@testable import JobAgent

/// A job launched through the real supervisor, and its monitor spoken to message by message,
/// as an agent speaks to it (JobMonitor.c's protocol): HELLO, END before and after ACK, SIGNAL,
/// RELEASE, FORWARD, a ninth peer, and a half-sent message.
@Suite("the monitor protocol, message by message", .timeLimit(.minutes(10)))
struct MonitorProtocolTests {
    let home: TestHome
    let jobHome: JobHome
    let supervisor: Supervisor

    init() throws {
        home = try TestHome()
        jobHome = JobHome(path: home.path)
        try FileManager.default.createDirectory(atPath: jobHome.jobsPath, withIntermediateDirectories: true)
        let executable = URL(fileURLWithPath: TestHome.binary).deletingLastPathComponent()
            .appendingPathComponent("job-agent").path
        supervisor = try Supervisor(socketPath: home.scratch + "/supervisor.sock", executable: executable)
    }

    /// Launches `script` under /bin/sh; returns its paths and pid. The link that comes with
    /// the answer is closed (the monitor drops it), unless `keepLink`.
    func launch(_ script: String, holdStdin: Bool = false, keepLink: Bool = false) throws -> (
        paths: LaunchPaths, pid: Int, startTime: Int64?, link: Int32
    ) {
        let paths = LaunchPaths(home: jobHome, instanceId: InstanceIdentifier.random())
        let outcome = supervisor.launch(
            id: 2, program: "/bin/sh", argv: ["sh", "-c", script], environment: ["PATH=/usr/bin:/bin"],
            workingDirectory: "/", paths: paths, umask: 0o022, stdinFD: nil, holdStdin: holdStdin)
        guard case .running(let pid, let startTime, _, let link) = outcome else {
            throw TestFailure("not launched: \(String(describing: outcome))")
        }
        if !keepLink && link >= 0 { close(link) }
        return (paths, pid, startTime, keepLink ? link : -1)
    }

    /// A connection to the job's monitor.
    func connect(_ paths: LaunchPaths) throws -> Int32 {
        var peer: pid_t = 0
        let fd = cjob_monitor_connect(paths.monitorName, &peer)
        guard fd >= 0 else { throw TestFailure("cannot connect: \(String(cString: strerror(errno)))") }
        return fd
    }

    /// The next message on `fd`, waiting up to 20 s; nil when the monitor went away.
    func next(_ fd: Int32) throws -> cjob_monitor_message? {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            var message = cjob_monitor_message()
            switch cjob_monitor_receive(fd, &message) {
            case 0: return message
            case 1:
                var poller = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
                _ = poll(&poller, 1, 200)
            default: return nil
            }
        }
        throw TestFailure("no message within 20 s")
    }

    @Test("HELLO with the pid; SIGNAL ends the group; END to every peer until ACK, then the monitor exits")
    func helloSignalEndAck() throws {
        let (paths, pid, _, _) = try launch("sleep 300")
        let first = try connect(paths)
        defer { close(first) }
        let hello = try #require(try next(first))
        #expect(hello.kind == UInt32(CJOB_MONITOR_HELLO) && Int(hello.pid) == pid)
        #expect(cjob_monitor_send(first, UInt32(CJOB_MONITOR_SIGNAL), SIGTERM) == 0)
        let end = try #require(try next(first))
        #expect(end.kind == UInt32(CJOB_MONITOR_END) && end.how == Int32(CJOB_END_SIGNAL) && end.value == SIGTERM)
        // The end is kept for the next agent: a new peer gets HELLO, then END at once.
        let second = try connect(paths)
        defer { close(second) }
        #expect(try next(second)?.kind == UInt32(CJOB_MONITOR_HELLO))
        let again = try #require(try next(second))
        #expect(again.kind == UInt32(CJOB_MONITOR_END) && again.value == SIGTERM)
        // ACK after END: the end is stored; the monitor exits and its name is free.
        #expect(cjob_monitor_send(second, UInt32(CJOB_MONITOR_ACK), 0) == 0)
        #expect(try next(second) == nil)
        try TestHome.eventually("the monitor to be gone") {
            var peer: pid_t = 0
            let fd = cjob_monitor_connect(paths.monitorName, &peer)
            if fd >= 0 { close(fd) }
            return fd < 0
        }
    }

    @Test("the launch's answer: the pid, its start time and a link the monitor does not greet, which gets END")
    func launchLink() throws {
        let gate = try home.fifo("gate")
        let (paths, pid, startTime, link) = try launch("read x < \(gate); exit 5", keepLink: true)
        #expect(link >= 0)
        defer { close(link) }
        // The start time is the process's own, as /proc tells it apart from a later one.
        #expect(startTime != nil && startTime == cjob_process_start_time(pid_t(pid)))
        // A peer that connects by name is greeted; the link is not.
        let named = try connect(paths)
        defer { close(named) }
        let hello = try #require(try next(named))
        #expect(hello.kind == UInt32(CJOB_MONITOR_HELLO) && Int(hello.pid) == pid && hello.time_sec == startTime)
        var message = cjob_monitor_message()
        #expect(cjob_monitor_receive(link, &message) == 1)
        try home.release(gate)
        let end = try #require(try next(link))
        #expect(end.kind == UInt32(CJOB_MONITOR_END) && end.how == Int32(CJOB_END_EXIT) && end.value == 5)
        #expect(try next(named)?.kind == UInt32(CJOB_MONITOR_END))
        // ACK on the link ends the monitor, as on any peer.
        #expect(cjob_monitor_send(link, UInt32(CJOB_MONITOR_ACK), 0) == 0)
        #expect(try next(link) == nil)
    }

    @Test("ACK before END: the end is not wanted, and the monitor exits with the job")
    func ackBeforeEnd() throws {
        let gate = try home.fifo("gate")
        let (paths, _, _, _) = try launch("read x < \(gate); exit 4")
        let fd = try connect(paths)
        defer { close(fd) }
        #expect(try next(fd)?.kind == UInt32(CJOB_MONITOR_HELLO))
        #expect(cjob_monitor_send(fd, UInt32(CJOB_MONITOR_ACK), 0) == 0)
        try home.release(gate)
        // It tells the peers it has, and exits without waiting for an ACK after the END.
        let end = try #require(try next(fd))
        #expect(end.kind == UInt32(CJOB_MONITOR_END) && end.value == 4)
        #expect(try next(fd) == nil)
        // It closes its peers, then exits, which frees its name.
        try TestHome.eventually("the monitor to be gone") {
            var peer: pid_t = 0
            let other = cjob_monitor_connect(paths.monitorName, &peer)
            if other >= 0 { close(other) }
            return other < 0
        }
    }

    @Test("FORWARD writes the signal's name as a line to the held stdin; RELEASE closes it")
    func forwardAndRelease() throws {
        let (paths, _, _, _) = try launch("read line; echo \"got $line\"; cat > /dev/null; exit 3", holdStdin: true)
        let fd = try connect(paths)
        defer { close(fd) }
        #expect(try next(fd)?.kind == UInt32(CJOB_MONITOR_HELLO))
        #expect(cjob_monitor_send(fd, UInt32(CJOB_MONITOR_FORWARD), SIGINT) == 0)
        try TestHome.eventually("the job to read the forwarded line") {
            (try? String(contentsOfFile: paths.stdout, encoding: .utf8))?.hasPrefix("got ") == true
        }
        let output = try String(contentsOfFile: paths.stdout, encoding: .utf8)
        #expect(output.contains("INT"), "\(output)")
        // Released: the job's stdin ends, so `cat` ends and the job exits 3.
        #expect(cjob_monitor_send(fd, UInt32(CJOB_MONITOR_RELEASE), 0) == 0)
        let end = try #require(try next(fd))
        #expect(end.kind == UInt32(CJOB_MONITOR_END) && end.how == Int32(CJOB_END_EXIT) && end.value == 3)
        #expect(cjob_monitor_send(fd, UInt32(CJOB_MONITOR_ACK), 0) == 0)
    }

    @Test("a peer that leaves does not make a newer one the oldest")
    func oldestAfterOneLeft() throws {
        // The link is kept: it is the first peer.
        let (paths, _, _, link) = try launch("sleep 300", keepLink: true)
        defer { close(link) }
        var peers: [Int32] = []
        defer { peers.forEach { if $0 >= 0 { close($0) } } }
        for _ in 0..<3 {
            let fd = try connect(paths)
            #expect(try next(fd)?.kind == UInt32(CJOB_MONITOR_HELLO))
            peers.append(fd)
        }
        // The first of the three leaves; the monitor sees it before it greets the next.
        close(peers[0])
        peers[0] = -1
        // Up to eight peers again (the link and seven), then two more: the link goes first,
        // then the second of the three, which is older than the third.
        for _ in 0..<7 {
            let fd = try connect(paths)
            #expect(try next(fd)?.kind == UInt32(CJOB_MONITOR_HELLO))
            peers.append(fd)
        }
        #expect(try next(link) == nil)
        #expect(try next(peers[1]) == nil)
        var message = cjob_monitor_message()
        #expect(cjob_monitor_receive(peers[2], &message) == 1, "the third was dropped instead of the second")
        #expect(cjob_monitor_send(peers[2], UInt32(CJOB_MONITOR_SIGNAL), SIGKILL) == 0)
        #expect(try next(peers[2])?.kind == UInt32(CJOB_MONITOR_END))
        #expect(cjob_monitor_send(peers[2], UInt32(CJOB_MONITOR_ACK), 0) == 0)
    }

    @Test("a ninth peer drops the oldest; a half-sent or unknown message drops only its peer")
    func peersAndBadMessages() throws {
        let (paths, _, _, _) = try launch("sleep 300")
        var peers: [Int32] = []
        defer { peers.forEach { close($0) } }
        for _ in 0..<9 {
            let fd = try connect(paths)
            #expect(try next(fd)?.kind == UInt32(CJOB_MONITOR_HELLO))
            peers.append(fd)
        }
        // The oldest was dropped to make room: it reads the end of its connection.
        #expect(try next(peers[0]) == nil)
        // Half a message: that peer is dropped, the monitor serves the rest.
        let half = [UInt8](repeating: 0, count: MemoryLayout<cjob_monitor_message>.size / 2)
        #expect(send(peers[1], half, half.count, 0) == half.count)
        #expect(try next(peers[1]) == nil)
        // A kind it does not know: dropped too.
        #expect(cjob_monitor_send(peers[2], 99, 0) == 0)
        #expect(try next(peers[2]) == nil)
        // The others still get the end, and ACK ends the monitor.
        #expect(cjob_monitor_send(peers[3], UInt32(CJOB_MONITOR_SIGNAL), SIGKILL) == 0)
        for fd in peers[3...] {
            let end = try #require(try next(fd))
            #expect(end.kind == UInt32(CJOB_MONITOR_END) && end.value == SIGKILL)
        }
        #expect(cjob_monitor_send(peers[3], UInt32(CJOB_MONITOR_ACK), 0) == 0)
    }
}
