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
import JobCore
import JobProtocol
import JobRemote
import JobStore
import Logging
import Synchronization

/// Why the agent could not start, worded for the person who reads it.
public struct AgentError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// The agent: one per `JOB_HOME`. It owns the store, launches jobs, watches their ends and
/// answers clients on a Unix socket. Jobs do not depend on it: each runs under a monitor of
/// its own, so the agent may stop or crash and the next one takes over.
///
/// Each connection is served by a thread with blocking I/O (`ConnectionThreads`, which keeps
/// threads for the next connections): the protocol passes file descriptors (SCM_RIGHTS) for
/// `--input -`, which SwiftNIO does not carry, and a thread per client costs nothing at the
/// scale of one user's agent.
public final class Agent: Sendable {
    public let home: JobHome
    let socketPath: String
    let registry: JobRegistry
    let log: AgentLog
    let startTime = Date()
    /// The listening socket, once `run` has made it.
    private let listener = Atomic<Int32>(-1)
    /// Open client connections, each served by a thread of its own.
    private let connections = Atomic<Int>(0)
    static let maximumConnections = 256
    /// Every thread the agent starts; a stop joins them.
    let threads = AgentThreads()
    /// The agent lock (`JOB_HOME/agent.lock`), held open for the agent's life.
    private let lockFD: Int32
    /// Written to ask `run` to stop.
    private let stopFD: Int32
    /// Set once the agent is stopping: connections are no longer served.
    let stopping = Atomic<Bool>(false)
    /// The connections of `agent stop` requests: closed last, so that their clients, which
    /// wait for end-of-file, go on once the agent has let go of the home.
    let stopRequesters = Mutex<[Int32]>([])
    /// How long a stop waits for the agent's threads before it leaves the rest running.
    static let stopGrace = 10.0

    /// Prepares the home, takes the agent lock (so exactly one agent serves a home) and
    /// opens the store.
    /// `supervisorExecutable` is the `job-agent` to start the supervisor with (this program by
    /// default; a test that runs an agent in its own process names the built one).
    public init(home: JobHome, environment: [String: String], supervisorExecutable: String? = nil) throws {
        self.home = home
        // Everything the agent writes (the store, the logs, the output files) is private;
        // each job gets its caller's umask back.
        umask(0o077)
        // Large buffers (a reply of every job is megabytes) are mapped and given back when
        // freed: with glibc's moving threshold they had stayed in the heap after the first
        // large reply.
        cjob_tune_malloc()
        // One descriptor per running job (its monitor) and per client: as many as allowed.
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        try Self.makeFolder(home.path, linkAllowed: true)
        try Self.makeFolder(home.jobsPath)
        let store = home.databasePath
        try Self.checkFiles([
            home.agentLockPath, home.startLockPath, home.logPath, store, store + "-wal", store + "-shm",
            home.reservePath,
            home.path + "/agent.sock", home.path + "/supervisor.sock",
        ])
        // Held (open and locked) for the agent's life.
        let lockFD = open(home.agentLockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard lockFD >= 0 else {
            throw AgentError("cannot open \(home.agentLockPath): \(String(cString: strerror(errno)))")
        }
        guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            throw AgentError("another agent already serves \(home.path)")
        }
        // The pid in the lock file lets `job agent stop` end an agent it cannot talk to.
        let pid = "\(getpid())\n"
        let lock = lockFD
        _ = ftruncate(lock, 0)
        _ = pid.withCString { pwrite(lock, $0, strlen($0), 0) }
        self.lockFD = lockFD
        let stopEvent = cjob_eventfd_create()
        stopFD = stopEvent
        // What follows may fail: the lock is let go then, so that another agent may start.
        var opened = false
        defer {
            if !opened {
                close(lock)
                close(stopEvent)
            }
        }
        log = AgentLog(
            path: home.logPath, level: environment["JOB_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info)
        socketPath = home.socketPath(environment: environment)
        let supervisorSocket = home.supervisorSocketPath(environment: environment)
        let executable = supervisorExecutable ?? Self.executablePath()
        let makeSupervisor: @Sendable () throws -> Supervisor = {
            try Supervisor(socketPath: supervisorSocket, executable: executable)
        }
        var notices: [String] = []
        do {
            registry = try Self.openRegistry(
                home: home, log: log, threads: threads, notices: &notices, makeSupervisor: makeSupervisor)
        } catch  where StoreProblem.isDamage(error) {
            // A damaged store: set aside, never deleted, and a new one made of what can be read.
            let damage = StoreProblem.describeDamage(error)
            let recovery: StoreRecovery
            do {
                recovery = try StoreRecovery.recover(
                    path: home.databasePath, reservePath: home.reservePath, lastId: IdLedger(home: home).reserved)
            } catch {
                throw AgentError(
                    "the job store \(home.databasePath) is damaged (\(damage)), and it "
                        + "could not be set aside (\(error)): "
                        + "move it away yourself (mv \(home.databasePath) \(home.databasePath).damaged), "
                        + "then run any job command")
            }
            let notice =
                "the job store was damaged (\(damage)); it was kept as "
                + "\(recovery.damagedPath), and a new store holds the \(recovery.recovered) job rows that could "
                + "still be read"
                + (recovery.lost > 0 ? " (\(recovery.lost) could not)" : "")
            log.warning(notice)
            notices.append(notice)
            registry = try Self.openRegistry(
                home: home, log: log, threads: threads, notices: &notices, makeSupervisor: makeSupervisor)
        }
        registry.withState { $0.notices += notices }
        opened = true
    }

    /// Opens the store, moves its Id counter past every Id given out before (`IdLedger`), and
    /// loads the jobs. Throws the store's error, which says whether it is damage.
    private static func openRegistry(
        home: JobHome, log: AgentLog, threads: AgentThreads, notices: inout [String],
        makeSupervisor: @escaping @Sendable () throws -> Supervisor
    ) throws -> JobRegistry {
        let database: JobDatabase
        do {
            database = try JobDatabase(path: home.databasePath, reservePath: home.reservePath)
            let ledger = IdLedger(home: home)
            let last = try database.lastId()
            if last < ledger.checkpointed {
                try database.raiseLastId(to: ledger.reserved)
                let notice =
                    "the job store has lost jobs (its last Id is \(last), but Ids through \(ledger.checkpointed) "
                    + "were stored before): new jobs start at Id \(ledger.reserved + 1), so that no Id is given "
                    + "out twice"
                log.warning(notice)
                notices.append(notice)
            }
        } catch  where StoreProblem.isDamage(error) {
            throw error
        } catch {
            throw AgentError("cannot open the job store \(home.databasePath): \(StoreProblem.describe(error))")
        }
        return try JobRegistry(
            home: home, database: database, log: log, threads: threads, makeSupervisor: makeSupervisor)
    }

    /// This program, to start `job-agent supervise` with.
    static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Runs the supervisor's loop on the listening socket it was given as descriptor 3.
    public static func supervise() -> Never {
        cjob_set_process_name("job-supervisor")
        cjob_supervisor_main(3)
        exit(0)
    }

    /// Makes a private folder, or checks that an existing one is private: a folder, not a
    /// symbolic link, owned by this user. One that others can write is refused (they could
    /// have planted files or links in it); one that others can only read or enter is made
    /// private.
    static func makeFolder(_ path: String, linkAllowed: Bool = false) throws {
        var info = stat()
        if lstat(path, &info) != 0 {
            do {
                try FileManager.default.createDirectory(
                    atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw AgentError(
                    "cannot create \(path): \(error.localizedDescription); set JOB_HOME to a folder you can write")
            }
            guard lstat(path, &info) == 0 else { throw AgentError("cannot create \(path)") }
        }
        // JOB_HOME itself may be a link to a folder of the user's; what is inside it may not.
        if info.st_mode & S_IFMT == S_IFLNK && !linkAllowed {
            throw AgentError("\(path) is a symbolic link; the agent uses only folders of its own there")
        }
        if info.st_mode & S_IFMT == S_IFLNK { stat(path, &info) }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw AgentError("\(path) exists and is not a folder") }
        guard info.st_uid == getuid() else {
            throw AgentError(
                "\(path) belongs to uid \(info.st_uid), not to you (uid \(getuid())); set JOB_HOME to a folder of your own"
            )
        }
        if info.st_mode & 0o022 != 0 {
            throw AgentError(
                "\(path) can be written by other users (mode \(String(info.st_mode & 0o777, radix: 8))), who could "
                    + "plant files or links in it; check what is in it, then make it private (chmod 700 \(path)), "
                    + "or set JOB_HOME to another folder")
        }
        if info.st_mode & 0o077 != 0 { chmod(path, 0o700) }
        guard access(path, W_OK | X_OK) == 0 else {
            throw AgentError("cannot write in \(path); set JOB_HOME to a folder you can write")
        }
    }

    /// Checks the files the agent opens by name in a home: each one that exists must be a
    /// plain file (or socket) of this user's, not a link; one that others can read is made
    /// private (a stored environment may hold secrets).
    static func checkFiles(_ paths: [String]) throws {
        for path in paths {
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            let kind = info.st_mode & S_IFMT
            guard kind == S_IFREG || kind == S_IFSOCK else {
                throw AgentError(
                    "\(path) is \(kind == S_IFLNK ? "a symbolic link" : "not a plain file"); the agent will not "
                        + "write through it: remove it (it is not one the agent made)")
            }
            guard info.st_uid == getuid() else {
                throw AgentError(
                    "\(path) belongs to uid \(info.st_uid), not to you; remove it (it is not one the agent made)")
            }
            if info.st_mode & 0o077 != 0 { chmod(path, 0o600) }
        }
    }

    /// Serves until SIGTERM, SIGINT, SIGHUP, an `agent stop` request or `requestStop()`, then
    /// stops (`stop`): returns once every thread has ended and every descriptor is closed.
    /// `readyFD`, when given, receives `ok` once clients can connect (or the reason it could
    /// not start) and is closed. Jobs keep running under their monitors.
    public func run(readyFD: Int32?) -> Int32 {
        cjob_block_signals()
        cjob_set_process_name("job-agent")
        keepJobs()
        let socketFolder = (socketPath as NSString).deletingLastPathComponent
        if socketFolder != home.path {
            // /tmp/job-UID may have been made by someone else before us.
            do {
                try Self.makeFolder(socketFolder)
            } catch {
                log.write("\(error)")
                if let readyFD { Self.report("\(error)", to: readyFD) }
                stop(connections: nil)
                return 1
            }
        }
        unlink(socketPath)
        listener.store(cjob_unix_listen(socketPath, 128), ordering: .releasing)
        guard listener.load(ordering: .acquiring) >= 0 else {
            let message = "cannot listen on \(socketPath): \(String(cString: strerror(errno)))"
            log.write(message)
            if let readyFD { Self.report(message, to: readyFD) }
            stop(connections: nil)
            return 1
        }
        log.write("agent \(ProtocolVersion.product) listening on \(socketPath)")
        if let readyFD {
            let notices = registry.withState { $0.notices }
            Self.report((["ok"] + notices.map { "notice: " + $0 }).joined(separator: "\n"), to: readyFD)
        }
        let served = ConnectionThreads(threads: threads) { [self] in
            acceptOne()
        } serve: { [self] fd in
            defer { connections.subtract(1, ordering: .relaxed) }
            return serve(FrameChannel(fd: fd, limit: FrameChannel.maximumRequest, owned: false))
        }
        if !served.start() { log.write("no thread could be started to accept connections") }
        let signal = cjob_wait_stop(stopFD)
        log.write(signal > 0 ? "stopping on signal \(signal)" : "stopping on request")
        stop(connections: served)
        return 0
    }

    /// Asks `run` to stop; it returns once the agent has stopped. Any thread may call it.
    public func requestStop() {
        cjob_eventfd_signal(stopFD)
    }

    /// Takes over the jobs of the store (finding their monitors) and watches their ends from
    /// now on, on a thread of its own.
    func keepJobs() {
        registry.adopt()
        let registry = self.registry
        threads.start("ends") { registry.watchEnds() }
    }

    static func report(_ message: String, to fd: Int32) {
        let line = message + "\n"
        _ = line.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }

    /// Stops the agent, in the order that loses nothing: no new connections (the socket is
    /// removed, so the next command starts the next agent); the open ones ended; the store
    /// checkpointed; sessions closed (they end with the agent); durable links cut (their jobs
    /// run on there, and the next agent links again); every thread joined, then every
    /// descriptor closed, the agent lock last. Jobs keep running under their monitors.
    /// A thread that does not end within `stopGrace` is named in the log and left, with what
    /// it uses open.
    func stop(connections served: ConnectionThreads?) {
        stopping.store(true, ordering: .releasing)
        unlink(socketPath)
        let listening = listener.load(ordering: .acquiring)
        // A shut-down listening socket ends the accept that waits on it.
        if listening >= 0 { shutdown(listening, Int32(SHUT_RDWR)) }
        served?.stop(sparing: Set(stopRequesters.withLock { $0 }))
        registry.stop()
        let late = threads.join(until: Monitor.now() + Self.stopGrace)
        // Shared ssh connections go with the agent unless a remote job still uses one.
        if !registry.hasRunningRemoteJobs() { SSHCommand.closeSharedConnections(home: home) }
        if late.isEmpty {
            registry.closeDescriptors()
            if listening >= 0 { close(listening) }
            log.write("stopped")
        } else {
            log.warning(
                "stopped with threads still running after \(Int(Self.stopGrace)) s (\(late.joined(separator: ", ")))")
        }
        listener.store(-1, ordering: .releasing)
        log.close()
        close(stopFD)
        close(lockFD)
        for fd in stopRequesters.withLock({ $0 }) { close(fd) }
    }

    /// The next connection of this user's, or nil once the agent stops (or accept fails for
    /// good). Past `maximumConnections` a client is told so at once, and the connections
    /// already open are served as before. Each connection holds a thread while it lasts.
    private func acceptOne() -> Int32? {
        while true {
            let fd = cjob_accept(listener.load(ordering: .acquiring))
            if fd < 0 {
                if stopping.load(ordering: .acquiring) { return nil }
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno == EMFILE || errno == ENFILE {
                    log.write("accept: out of descriptors")
                    usleep(10_000)
                    continue
                }
                log.write("accept failed: \(String(cString: strerror(errno)))")
                return nil
            }
            var uid: uid_t = 0
            var pid: pid_t = 0
            guard cjob_peer_uid(fd, &uid, &pid) == 0, uid == getuid() else {
                log.write("refused a connection from uid \(uid) (pid \(pid))")
                close(fd)
                continue
            }
            guard connections.add(1, ordering: .relaxed).newValue <= Self.maximumConnections else {
                connections.subtract(1, ordering: .relaxed)
                let channel = FrameChannel(fd: fd, limit: FrameChannel.maximumRequest)
                let failure = Failure(
                    .busy,
                    "the agent is already serving \(Self.maximumConnections) connections; try again when some have ended"
                )
                try? channel.send { Frame.writeFailure(failure, verb: "", to: &$0) }
                continue
            }
            return fd
        }
    }
}
