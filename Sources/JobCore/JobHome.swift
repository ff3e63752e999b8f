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

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// The folder that holds one agent's database, output files and socket. Setting `JOB_HOME`
/// alone isolates everything: two homes never share an agent.
public struct JobHome: Sendable, Equatable {
    /// Absolute path of the folder.
    public let path: String

    public init(path: String) { self.path = path }

    /// `JOB_HOME`, else `$XDG_STATE_HOME/job`, else `~/.local/state/job`; made absolute
    /// against the current directory.
    public static func resolve(environment: [String: String]) -> JobHome { resolve { environment[$0] } }

    /// The same, with the variables read by `variable` (getenv, for a client that makes no
    /// dictionary of the environment).
    package static func resolve(_ variable: (String) -> String?) -> JobHome {
        var path: String
        if let home = variable("JOB_HOME"), !home.isEmpty {
            path = home
        } else if let state = variable("XDG_STATE_HOME"), state.hasPrefix("/") {
            path = state + "/job"
        } else {
            path = userHome(variable) + "/.local/state/job"
        }
        if !path.hasPrefix("/") {
            path = currentDirectory() + "/" + path
        }
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return JobHome(path: path)
    }

    package var databasePath: String { path + "/jobs.sqlite" }
    package var jobsPath: String { path + "/jobs" }
    package var agentLockPath: String { path + "/agent.lock" }
    package var startLockPath: String { path + "/start.lock" }
    package var logPath: String { path + "/agent.log" }
    /// Space kept for the store, given back when the disk is full (see `JobDatabase`).
    package var reservePath: String { path + "/reserve" }

    /// The abstract socket name of a job's monitor: the uid and this home in it, so that
    /// two homes or two users never meet. The agent finds a job's monitor by it, also after
    /// a restart.
    package func monitorName(_ instanceId: String) -> String { monitorPrefix + instanceId }

    /// What every monitor name of this home starts with.
    package var monitorPrefix: String { "job-monitor/\(getuid())/\(Self.hash(path))/" }

    /// A child's stdout and stderr files: `jobs/<InstanceId>.out` and `.err`.
    public func outputPath(_ instanceId: String) -> String { jobsPath + "/" + instanceId + ".out" }
    public func errorPath(_ instanceId: String) -> String { jobsPath + "/" + instanceId + ".err" }
    /// A remote child's ssh diagnostics (`ssh -E`): its Reason when ssh fails, never output.
    package func sshLogPath(_ instanceId: String) -> String { jobsPath + "/" + instanceId + ".ssh" }
    /// The input of an `invoke --input` parent, which each of its remote children gets.
    package func inputPath(_ instanceId: String) -> String { jobsPath + "/" + instanceId + ".in" }

    /// The agent's socket: inside the home when the path fits in a socket address (107
    /// bytes), otherwise in `$XDG_RUNTIME_DIR` (or `/tmp/job-UID`) under a short hash of
    /// the home's path.
    public func socketPath(environment: [String: String]) -> String { socketPath { environment[$0] } }

    package func socketPath(_ variable: (String) -> String?) -> String {
        let inside = path + "/agent.sock"
        if inside.utf8.count <= 107 { return inside }
        let name = "job-" + Self.hash(path) + ".sock"
        if let runtime = variable("XDG_RUNTIME_DIR"), runtime.hasPrefix("/"), runtime.utf8.count < 80 {
            return runtime + "/" + name
        }
        return "/tmp/job-\(getuid())/" + name
    }

    /// The supervisor's socket, beside the agent's.
    package func supervisorSocketPath(environment: [String: String]) -> String {
        let agent = socketPath(environment: environment)
        if agent.hasSuffix("/agent.sock") { return String(agent.dropLast("agent.sock".count)) + "supervisor.sock" }
        return String(agent.dropLast(".sock".count)) + ".sup"
    }

    /// FNV-1a, 64 bits, in hexadecimal: stable across runs and versions.
    static func hash(_ text: String) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func userHome(_ variable: (String) -> String?) -> String {
        if let home = variable("HOME"), home.hasPrefix("/") { return home }
        if let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir { return String(cString: dir) }
        return "/"
    }

    package static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "/" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
