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

/// What one run of the `job` binary printed and how it exited.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdoutBytes: [UInt8]
    public var stderrBytes: [UInt8]
    public var stdout: String { String(decoding: stdoutBytes, as: UTF8.self) }
    public var stderr: String { String(decoding: stderrBytes, as: UTF8.self) }
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A private `JOB_HOME` in a temporary folder with its own agent, and a way to run the
/// built `job` binary against it. `close()` stops every job and the agent and deletes it.
public final class TestHome: @unchecked Sendable {
    public let path: String
    public let scratch: String
    private var closed = false

    public convenience init() throws {
        try self.init(in: FileManager.default.temporaryDirectory.path + "/job-test-" + UUID().uuidString.prefix(8))
    }

    /// A home in `base/home`, with a scratch folder `base/scratch`.
    public init(in base: String) throws {
        path = base + "/home"
        scratch = base + "/scratch"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    /// The `job` binary under test: `JOB_BINARY`, else the one built beside the test bundle.
    public static var binary: String {
        if let path = ProcessInfo.processInfo.environment["JOB_BINARY"] { return path }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var directory = URL(fileURLWithPath: exe).deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("job").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/job").path
    }

    /// Whether `job` runs here as the unprivileged user `nobody` (uid 65534, present in every
    /// Debian system), as an ordinary user of a shared cluster is: see `runAsNobody`.
    public private(set) var asNobody = false

    /// From now on, `job` (and the agent it starts) runs as `nobody`, whose home and scratch
    /// folder this becomes. Needs root.
    public func runAsNobody() throws {
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for folder in [base, path, scratch] where chown(folder, 65534, 65534) != 0 {
            throw TestFailure("cannot give \(folder) to nobody: \(String(cString: strerror(errno)))")
        }
        asNobody = true
    }

    /// Variables every `job` run here gets (and so the agent it starts), such as a test
    /// cluster's `SLURM_CONF`.
    public var extraEnvironment: [String: String] = [:]

    public var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["JOB_HOME"] = path
        env.removeValue(forKey: "COLUMNS")
        env.merge(extraEnvironment) { $1 }
        return env
    }

    /// Runs `job ARGS` and waits (at most `timeout` seconds) for it to exit.
    @discardableResult
    public func job(
        _ arguments: [String], stdin: [UInt8]? = nil, environment extra: [String: String] = [:],
        directory: String? = nil, timeout: Double = 60
    ) throws -> CommandResult {
        guard asNobody else {
            return try Self.run(
                Self.binary, arguments, stdin: stdin, environment: environment.merging(extra) { $1 },
                directory: directory ?? scratch, timeout: timeout)
        }
        var env = environment.merging(extra) { $1 }
        env["HOME"] = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try Self.run(
            "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Self.binary] + arguments,
            stdin: stdin, environment: env, directory: directory ?? scratch, timeout: timeout)
    }

    @discardableResult
    public func job(_ arguments: String..., stdin: [UInt8]? = nil) throws -> CommandResult {
        try job(arguments, stdin: stdin)
    }

    /// Runs `sh -c SCRIPT` with this home, for pipelines such as `job receive 1 | head -n 1`.
    @discardableResult
    public func shell(_ script: String, timeout: Double = 60) throws -> CommandResult {
        var env = environment
        env["JOB"] = Self.binary
        return try Self.run(
            "/bin/sh", ["-c", script], stdin: nil, environment: env, directory: scratch, timeout: timeout)
    }

    /// Runs a program, its stdout and stderr going to files (no pipe can fill up), and
    /// kills it if it outlives `timeout`.
    public static func run(
        _ program: String, _ arguments: [String], stdin: [UInt8]?, environment: [String: String],
        directory: String, timeout: Double
    ) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let outPath = NSTemporaryDirectory() + "job-out-" + UUID().uuidString
        let errPath = NSTemporaryDirectory() + "job-err-" + UUID().uuidString
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        if stdin != nil { process.standardInput = input } else { process.standardInput = FileHandle.nullDevice }
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        try process.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin))
            try input.fileHandleForWriting.close()
        }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
            throw TestFailure("timed out after \(timeout) s: \(program) \(arguments.joined(separator: " "))")
        }
        try out.close()
        try err.close()
        return CommandResult(
            status: process.terminationStatus,
            stdoutBytes: Array(try Data(contentsOf: URL(fileURLWithPath: outPath))),
            stderrBytes: Array(try Data(contentsOf: URL(fileURLWithPath: errPath))))
    }

    /// Stops every job of this home, ends its agent and deletes the folder.
    public func close() {
        guard !closed else { return }
        closed = true
        _ = try? job(["stop", "--all", "--grace", "0"], timeout: 30)
        _ = try? job(["agent", "stop"], timeout: 30)
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path)
    }

    deinit { close() }

    /// Polls an outside condition until it holds or the deadline passes; the one place the
    /// tests wait on something they cannot be told about.
    public static func eventually(
        timeout: Double = 20, _ what: String, _ condition: () throws -> Bool
    ) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            usleep(10_000)
        }
        throw TestFailure("gave up after \(timeout) s waiting for \(what)")
    }

    /// Waits until the agent's log has a line holding `text` (an agent started with
    /// JOB_LOG_LEVEL=debug says more there, e.g. when a wait is held or a pid stored).
    public func awaitLog(_ text: String) throws {
        try Self.eventually("the agent's log to say '\(text)'") {
            (try? String(contentsOfFile: path + "/agent.log", encoding: .utf8))?.contains(text) == true
        }
    }

    /// Runs one SQL statement on this home's store with python3's sqlite3 (the agent stopped),
    /// commits, and returns the first column of the first row it gave, if any.
    public func sql(_ statement: String) throws -> String {
        let result = try Self.run(
            "/usr/bin/env",
            [
                "python3", "-c",
                "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchone(); "
                    + "c.commit(); print(r[0] if r else '', end='')",
                path + "/jobs.sqlite", statement,
            ],
            stdin: nil, environment: ProcessInfo.processInfo.environment, directory: "/", timeout: 30)
        guard result.status == 0 else { throw TestFailure("sqlite3 failed: \(result.stderr)") }
        return result.stdout
    }

    /// Parses `get --format json` output.
    public static func jobs(_ result: CommandResult) throws -> [[String: Any]] {
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(result.stdoutBytes)),
            let array = parsed as? [[String: Any]]
        else {
            throw TestFailure(
                "not a JSON array (exit \(result.status)): '\(result.stdout)'; stderr: '\(result.stderr)'")
        }
        return array
    }

    /// One job's JSON object.
    public func record(_ id: Int) throws -> [String: Any] {
        let result = try job("get", String(id), "--format", "json")
        guard let first = try Self.jobs(result).first else { throw TestFailure("no job \(id): \(result.stderr)") }
        return first
    }

    /// The pid of this home's agent, from `job agent status --format json`.
    public func agentPid() throws -> Int32? {
        let result = try job("agent", "status", "--format", "json")
        guard result.status == 0,
            let object = try JSONSerialization.jsonObject(with: Data(result.stdoutBytes)) as? [String: Any],
            let pid = object["pid"] as? Int
        else { return nil }
        return Int32(pid)
    }

    /// Waits until the agent named in the home's lock file is gone (after a fault point killed
    /// it), so that what follows starts a new one, as a user would, once the old one has exited.
    public func awaitAgentGone() throws {
        guard let text = try? String(contentsOfFile: path + "/agent.lock", encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return }
        try Self.eventually("the agent (pid \(pid)) to be gone") { !processIsLive(pid) }
    }

    /// Makes a FIFO in the scratch folder: a job that reads it blocks until the test writes.
    public func fifo(_ name: String) throws -> String {
        let path = scratch + "/" + name
        guard mkfifo(path, 0o600) == 0 else { throw TestFailure("mkfifo \(path) failed") }
        return path
    }

    /// Opens a FIFO for writing without blocking forever, writes, and closes it.
    public func release(_ fifo: String, _ text: String = "go\n") throws {
        let fd = open(fifo, O_WRONLY)
        guard fd >= 0 else { throw TestFailure("cannot open \(fifo)") }
        _ = text.withCString { write(fd, $0, strlen($0)) }
        Foundation.close(fd)
    }
}

/// Whether a process exists and is not a zombie. A killed process whose main thread is a
/// zombie while other threads of it still exit (and still hold its descriptors, an agent's
/// listening socket and lock among them) counts as live.
public func processIsLive(_ pid: Int32) -> Bool {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
    else { return false }
    let state = text[text.index(close, offsetBy: 2)]
    if state != "Z" && state != "X" { return true }
    let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task"))?.count ?? 0
    return threads > 1
}

/// Live processes (not zombies) whose process group is `pgid`.
public func liveMembers(ofGroup pgid: Int32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return false }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 2 && Int32(fields[2]) == pgid && fields[0] != "Z"
    }
}
