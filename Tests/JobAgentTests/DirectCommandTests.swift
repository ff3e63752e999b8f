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

import Testing

@testable import JobAgent

@Suite("which command lines run without the shell")
struct DirectCommandTests {
    /// Programs as a fake file system has them.
    static let programs: Set<String> = ["/usr/bin/sleep", "/usr/bin/true", "/usr/bin/make", "/work/bin/tool"]
    static let environment = ["PATH=/usr/local/bin:/usr/bin", "PWD=/work", "HOME=/root"]

    static func plan(_ command: String, shell: String = "/bin/sh", environment: [String] = environment)
        -> DirectCommand?
    {
        DirectCommand.plan(
            command, shell: shell, environment: environment, workingDirectory: "/work",
            isProgram: { programs.contains($0) })
    }

    @Test("words of plain characters, a program on the job's PATH: run directly, its words as typed")
    func plain() {
        let direct = Self.plan("sleep  30")
        #expect(direct?.program == "/usr/bin/sleep")
        #expect(direct?.argv == ["sleep", "30"])
        #expect(Self.plan("make -j4 test CC=clang")?.argv == ["make", "-j4", "test", "CC=clang"])
        #expect(Self.plan("true")?.program == "/usr/bin/true")
        // A relative path is the working directory's; a relative PATH entry too.
        #expect(Self.plan("bin/tool x")?.program == "/work/bin/tool")
        #expect(Self.plan("tool", environment: ["PATH=bin", "PWD=/work"])?.program == "/work/bin/tool")
    }

    @Test(
        "anything the shell reads another way goes to the shell",
        arguments: [
            "echo hi", "sleep $X", "sleep 'a'", "sleep \"a\"", "ls *.c", "ls ~", "sleep 1; true", "sleep 1 &",
            "true | cat", "sleep 1 > x", "X=1 sleep 1", "cd /tmp", "exit 3", "kill 1", "pwd", "printf x", "true --help",
            "false x", "nosuchprogram", "sleep\t1", "sleep 1 # c", "sleep 1\nsleep 2", "", "   ", "if", "wait",
        ])
    func shellSyntax(_ command: String) {
        #expect(Self.plan(command) == nil)
    }

    @Test("another shell than /bin/sh keeps every command line")
    func otherShell() {
        #expect(Self.plan("sleep 1", shell: "/bin/bash") == nil)
    }

    @Test("the environment as the shell passes it on: valid names, the last of each, PWD of the folder")
    func environment() {
        let given = ["A=1", "a-b=2", "A=3", "PWD=/elsewhere", "B=x y", "=bad"]
        let direct = Self.plan("sleep 1", environment: ["PATH=/usr/bin"] + given)
        #expect(direct?.environment == ["PATH=/usr/bin", "A=3", "B=x y", "PWD=/work"])
        // No PWD at all: the shell sets one; the right one is kept where it stands.
        #expect(Self.plan("sleep 1", environment: ["PATH=/usr/bin"])?.environment == ["PATH=/usr/bin", "PWD=/work"])
        #expect(
            Self.plan("sleep 1", environment: ["PWD=/work", "PATH=/usr/bin"])?.environment == [
                "PWD=/work", "PATH=/usr/bin",
            ])
        // Names that begin alike are other names; a digit may follow the first character only;
        // an entry without `=` is no variable.
        let alike = ["A=1", "AB=2", "A_=3", "A1=4", "1A=5", "_=6", "NOEQUALS", "AB=7", "A=8"]
        #expect(
            Self.plan("sleep 1", environment: ["PATH=/usr/bin", "PWD=/work"] + alike)?.environment == [
                "PATH=/usr/bin", "PWD=/work", "A_=3", "A1=4", "_=6", "AB=7", "A=8",
            ])
    }

    @Test("an empty entry of PATH is the working folder, and the search stops at the first program")
    func searchPath() {
        #expect(Self.plan("tool", environment: [":/usr/bin", "PWD=/work"].map { "PATH=" + $0 })?.program == nil)
        #expect(Self.plan("bin/tool")?.program == "/work/bin/tool")
        let programs: Set<String> = ["/work/tool", "/usr/bin/tool"]
        let found = DirectCommand.plan(
            "tool", shell: "/bin/sh", environment: ["PATH=/nowhere::/usr/bin"], workingDirectory: "/work",
            isProgram: { programs.contains($0) })
        #expect(found?.program == "/work/tool")
        let last = DirectCommand.plan(
            "tool", shell: "/bin/sh", environment: ["PATH=/nowhere:/usr/bin"], workingDirectory: "/work",
            isProgram: { programs.contains($0) })
        #expect(last?.program == "/usr/bin/tool")
        let trailing = DirectCommand.plan(
            "tool", shell: "/bin/sh", environment: ["PATH=/nowhere:"], workingDirectory: "/work",
            isProgram: { programs.contains($0) })
        #expect(trailing?.program == "/work/tool")
    }
}
