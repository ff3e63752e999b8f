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

/// Real sshd servers on loopback addresses, set up by `scripts/test-computers`: server01 on
/// 127.0.0.2, server02 on 127.0.0.3, ..., and `unreachable`, where nothing listens. `stop()`
/// (or deinit) ends every sshd and waits for them.
public final class TestComputers: @unchecked Sendable {
    public let directory: String
    public let count: Int
    private let served: ServedScript

    /// The project's root folder, found from this file's place in it.
    public static var projectRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    /// Starts `count` test computers and returns once each accepts logins. Throws (the test
    /// fails, it is not skipped) when they cannot be set up.
    public let first: Int
    public let netns: Bool

    /// `first` shifts the addresses and users (server01 is 127.0.0.(first+1) with user
    /// jobtest(first)), so that several sets can run at once. With `installJob`, the built
    /// `job` is copied to each user's ~/bin, first in the PATH of their ssh sessions.
    ///
    /// With `netns`, each computer runs in a network namespace of its own behind a veth pair
    /// (10.99.N.2), so that its link can be cut for real (`cut`, `restore`).
    ///
    /// `sessionEnvironment` is added to every ssh session's environment there (sshd's
    /// `SetEnv`), as a site's login configuration does; no value may hold a space.
    public init(
        count: Int = 3, first: Int = 1, installJob: Bool = false, netns: Bool = false,
        sessionEnvironment: [String: String] = [:]
    ) throws {
        self.count = count
        self.first = first
        self.netns = netns
        directory = FileManager.default.temporaryDirectory.path + "/job-computers-" + UUID().uuidString.prefix(8)
        var environment: [String: String]?
        if netns || !sessionEnvironment.isEmpty {
            environment = ProcessInfo.processInfo.environment
            if netns { environment?["TEST_COMPUTERS_NETNS"] = "1" }
            environment?["TEST_COMPUTERS_SETENV"] =
                sessionEnvironment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        // The script prints `ready` once every server accepts a login (or ends on failure).
        served = try ServedScript(
            "test-computers", directory: directory,
            arguments: [String(count), String(first)] + (installJob ? [TestHome.binary] : []),
            environment: environment)
    }

    public var sshConfig: String { directory + "/ssh_config" }

    public func name(_ index: Int) -> String { String(format: "server%02d", index) }
    public func user(_ index: Int) -> String { String(format: "jobtest%02d", first + index - 1) }
    public func address(_ index: Int) -> String {
        netns ? "10.99.\(first + index - 1).2" : "127.0.0.\(first + index)"
    }

    /// Cuts the link of a computer in its own network namespace: its side of the veth pair
    /// goes down, so packets are dropped without a word (ssh sees a silent link).
    public func cut(_ index: Int) throws { try setLink(index, "down") }

    /// Brings a cut link back.
    public func restore(_ index: Int) throws { try setLink(index, "up") }

    private func setLink(_ index: Int, _ state: String) throws {
        precondition(netns, "only computers in network namespaces can lose their link")
        let number = first + index - 1
        let result = try TestHome.run(
            "/usr/sbin/ip", ["-n", "jobnet\(number)", "link", "set", "jtB\(number)", state], stdin: nil,
            environment: ProcessInfo.processInfo.environment, directory: "/", timeout: 30)
        guard result.status == 0 else { throw TestFailure("ip link set \(state) failed: \(result.stderr)") }
    }

    /// Runs `ssh -F ssh_config ARGS`.
    public func ssh(_ arguments: [String], timeout: Double = 30) throws -> CommandResult {
        try TestHome.run(
            "/usr/bin/ssh", ["-F", sshConfig] + arguments, stdin: nil,
            environment: ProcessInfo.processInfo.environment, directory: "/", timeout: timeout)
    }

    /// Ends every sshd and waits for them.
    public func stop() { served.stop() }

    deinit { stop() }
}

extension FileHandle {
    /// Reads one line (without its newline); nil at end of file.
    public func readLine() -> String? {
        var bytes: [UInt8] = []
        while true {
            let chunk = readData(ofLength: 1)
            guard let byte = chunk.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == 10 { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }
}
