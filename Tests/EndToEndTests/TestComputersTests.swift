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
import JobTestSupport
import Testing

@Suite("the test computers", .serialized, .timeLimit(.minutes(10)))
struct TestComputersTests {
    @Test("each test computer is a real sshd with a user of its own; `unreachable` refuses; stop leaves nothing")
    func computers() throws {
        let users = (101...103).map { String(format: "jobtest%02d", $0) }
        // A user an earlier run left (before the script removed them) is removed first, so that
        // this set creates all three.
        for user in users {
            _ = try? TestHome.run(
                "/usr/sbin/userdel", ["--remove", user], stdin: nil, environment: [:], directory: "/", timeout: 30)
        }
        let computers = try TestComputers(count: 3, first: 101)
        for index in 1...3 {
            let result = try computers.ssh([computers.name(index), "id -un; echo $SSH_CONNECTION"])
            #expect(result.status == 0)
            let lines = result.stdout.split(separator: "\n")
            #expect(lines.first.map(String.init) == computers.user(index))
            #expect(lines.last?.hasSuffix("\(computers.address(index)) 2222") == true)
        }
        let refused = try computers.ssh(["unreachable", "true"])
        #expect(refused.status == 255)
        #expect(refused.stderr.contains("Connection refused"))
        let directory = computers.directory
        computers.stop()
        let entries = try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init)
        let left = entries.filter { pid in
            guard let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            return command.contains(directory) && stat[stat.index(close, offsetBy: 2)] != "Z"
        }
        #expect(left.isEmpty)
        // The users it created are gone with their homes: the host has the users it had.
        let passwd = try String(contentsOfFile: "/etc/passwd", encoding: .utf8)
        for user in users {
            #expect(!passwd.contains("\n\(user):") && !passwd.hasPrefix("\(user):"), "\(user) is left")
            #expect(!FileManager.default.fileExists(atPath: "/home/\(user)"), "/home/\(user) is left")
        }
    }
}
