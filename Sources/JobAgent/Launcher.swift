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

/// How a launch went: the job runs under its monitor, or it never started and why.
enum LaunchOutcome {
    /// `link`: a connection to the job's monitor that came with the launch's answer (-1 when
    /// none did), which the monitor does not greet: the answer had the pid and start time.
    case running(pid: Int, startTime: Int64?, monitorPid: Int, link: Int32)
    case failed(reason: String)
}

/// How a job ended, as its monitor reported it, and when.
struct ExitRecord: Equatable {
    var end: JobEnd
    var time: Date
}

/// The files of one child job and the name of its monitor.
struct LaunchPaths {
    var stdout: String
    var stderr: String
    var key: String
    var monitorName: String

    init(home: JobHome, instanceId: String) {
        stdout = home.outputPath(instanceId)
        stderr = home.errorPath(instanceId)
        key = instanceId
        monitorName = home.monitorName(instanceId)
    }
}

/// The agent's link to the supervisor: the small process per `JOB_HOME` that starts every
/// job. For each launch it forks a monitor that starts the job (fork + exec, so a launch costs
/// no copy of the agent) and stays its parent; the agent then talks to the monitor directly
/// (`MonitorLink`). The supervisor holds nothing of a running job, so when it dies the agent
/// only starts another.
final class Supervisor: @unchecked Sendable {
    let requests: Int32
    private let channel = NSLock()

    /// Connects to the running supervisor of the home, or starts one.
    init(socketPath: String, executable: String) throws {
        var requests = cjob_supervisor_connect(socketPath)
        if requests < 0 {
            let pid = cjob_supervisor_spawn(socketPath, executable)
            guard pid > 0 else {
                throw AgentError(
                    "cannot start the supervisor (\(executable) supervise): \(String(cString: strerror(errno)))")
            }
            OwnChildren.add(pid)
            requests = cjob_supervisor_connect(socketPath)
        }
        guard requests >= 0 else {
            throw AgentError("cannot connect to the supervisor at \(socketPath): \(String(cString: strerror(errno)))")
        }
        self.requests = requests
    }

    deinit { close(requests) }

    /// Asks the supervisor to start one job: `program` with `argv` (the local shell with `-c`,
    /// or `ssh`). Returns nil when the supervisor is gone. Safe from several threads: the
    /// channel takes one request at a time (its own lock), so a start may call it with the
    /// registry's lock let go (`RegistryState.outsideLock`).
    func launch(
        id: Int, program: String, argv: [String], environment: [String], workingDirectory: String,
        paths: LaunchPaths, umask: Int, stdinFD: Int32?, holdStdin: Bool = false
    ) -> LaunchOutcome? {
        // The record's named strings, each in the place its name gives (`cjob_launch_field`).
        var named = [String](repeating: "", count: Int(CJOB_LAUNCH_NAMED.rawValue))
        for (field, value) in [
            (CJOB_LAUNCH_PROGRAM, program), (CJOB_LAUNCH_DIRECTORY, workingDirectory),
            (CJOB_LAUNCH_STDOUT, paths.stdout),
            (CJOB_LAUNCH_STDERR, paths.stderr), (CJOB_LAUNCH_KEY, paths.key), (CJOB_LAUNCH_MONITOR, paths.monitorName),
            (CJOB_LAUNCH_UMASK, String(umask & 0o777)),
        ] {
            named[Int(field.rawValue)] = value
        }
        let strings = named + argv + environment
        var block: [UInt8] = []
        block.reserveCapacity(strings.reduce(0) { $0 + $1.utf8.count + 1 })
        for string in strings {
            let start = block.count
            LosslessText.append(string, to: &block)
            // A NUL would end the string early: it goes as a space.
            for index in start..<block.count where block[index] == 0 { block[index] = UInt8(ascii: " ") }
            block.append(0)
        }
        var reply = cjob_supervisor_reply()
        var link: Int32 = -1
        channel.lock()
        defer { channel.unlock() }
        let status = block.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                cjob_supervisor_launch(
                    requests, UInt64(id), chars.baseAddress, UInt32(chars.count), UInt32(argv.count),
                    UInt32(environment.count), stdinFD ?? -1, holdStdin ? 1 : 0, &reply, &link)
            }
        }
        guard status == 0 else {
            if link >= 0 { close(link) }
            return nil
        }
        return Self.outcome(reply, link: link, shell: program, workingDirectory: workingDirectory)
    }

    private static func outcome(_ reply: cjob_supervisor_reply, link: Int32, shell: String, workingDirectory: String)
        -> LaunchOutcome
    {
        guard reply.stage != 0 else {
            return .running(
                pid: Int(reply.pid), startTime: reply.start_time > 0 ? reply.start_time : nil,
                monitorPid: Int(reply.monitor_pid), link: link)
        }
        if link >= 0 { close(link) }
        return .failed(
            reason: launchReason(
                stage: Int(reply.stage), error: reply.error, shell: shell, workingDirectory: workingDirectory))
    }

    /// Why a launch failed, from the step that failed and its errno.
    static func launchReason(stage: Int, error: Int32, shell: String, workingDirectory: String) -> String {
        let message = String(cString: strerror(error))
        switch cjob_launch_stage(rawValue: UInt32(truncatingIfNeeded: stage)) {
        case CJOB_STAGE_DIRECTORY:
            if error == ENOENT { return "working directory \(workingDirectory) does not exist" }
            if error == ENOTDIR { return "working directory \(workingDirectory) is not a folder" }
            return "cannot enter working directory \(workingDirectory): \(message)"
        case CJOB_STAGE_EXEC:
            if error == ENOENT { return "shell \(shell) does not exist" }
            if error == E2BIG { return "the command is too long to run (\(message))" }
            return "cannot run shell \(shell): \(message)"
        case CJOB_STAGE_OUTPUT:
            if error == ENOSPC || error == EDQUOT {
                return "the disk is full: cannot create the job's output files (\(message))"
            }
            return "cannot open the job's output files: \(message)"
        case CJOB_STAGE_MONITOR:
            return "cannot start the job's monitor: \(message)"
        default:
            return "cannot start the job: \(message)"
        }
    }
}
