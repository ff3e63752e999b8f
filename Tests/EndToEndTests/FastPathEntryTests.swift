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

/// The fast path runs at the `job` program's entry, before the C library is set up
/// (Sources/CJobWire/include/CJobSys.h): its compiled code may call nothing but its own
/// functions, at any optimisation a build may use, and the program must enter through it.
@Suite("the fast path at the program's entry", .timeLimit(.minutes(5)))
struct FastPathEntryTests {
    static let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A program on PATH (the Swift toolchain's clang, binutils' nm and readelf): a test that
    /// needs one fails, saying which, when it is missing.
    static func tool(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for folder in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)")
        {
            return "\(folder)/\(name)"
        }
        throw ToolMissing(name: name)
    }

    struct ToolMissing: Error, CustomStringConvertible {
        let name: String
        var description: String { "\(name) is not on PATH: this test needs it" }
    }

    static func run(_ program: String, _ arguments: [String]) throws -> CommandResult {
        try TestHome.run(
            program, arguments, stdin: nil, environment: ProcessInfo.processInfo.environment,
            directory: package.path, timeout: 120)
    }

    @Test(
        "the fast path's C calls nothing outside itself at -O0, -O2 and -Os, with the flags Package.swift gives it",
        arguments: ["-O0", "-O2", "-Os"])
    func callsNothingOfTheCLibrary(optimisation: String) throws {
        let manifest = try String(contentsOf: Self.package.appendingPathComponent("Package.swift"), encoding: .utf8)
        // The flags of `beforeTheCLibrary`, as the manifest gives them to both targets.
        let line = try #require(manifest.split(separator: "\n").first { $0.contains("let beforeTheCLibrary") })
        let flags = line.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        #expect(flags.contains("-ffreestanding") && flags.contains("-fno-stack-protector"), "\(flags)")
        #expect(manifest.contains("name: \"CJobWire\", cSettings: beforeTheCLibrary"))
        #expect(manifest.contains("dependencies: [\"CJobWire\"], cSettings: beforeTheCLibrary"))
        let clang = try Self.tool("clang")
        let nm = try Self.tool("nm")
        let scratch = try TestHome()
        let sources = ["Sources/CJobWire/Sys.c", "Sources/CJobWire/Wire.c", "Sources/CJobFront/Front.c"]
        for source in sources {
            let object = scratch.scratch + "/" + URL(fileURLWithPath: source).lastPathComponent + ".o"
            let compiled = try Self.run(
                clang,
                [optimisation] + flags + [
                    "-ISources/CJobWire/include", "-ISources/CJobFront/include", "-c", source, "-o", object,
                ])
            #expect(compiled.status == 0, "\(source): \(compiled.stderr)")
            let undefined = try Self.run(nm, ["-u", object])
            #expect(undefined.status == 0)
            let names = undefined.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last }
            #expect(!names.isEmpty || source.hasSuffix("Sys.c"), "\(source)")
            let outside = names.filter { !$0.hasPrefix("cjs_") && !$0.hasPrefix("cjw_") && $0 != "_start" }
            #expect(outside.isEmpty, "\(source) at \(optimisation) calls \(outside)")
        }
    }

    @Test("`job` enters at cjob_entry, which goes on to the C library's _start")
    func entersThroughTheFastPath() throws {
        #if arch(x86_64) || arch(arm64)
            let header = try Self.run(try Self.tool("readelf"), ["-h", TestHome.binary])
            let entry = try #require(
                header.stdout.split(separator: "\n").first { $0.contains("Entry point address") }?.split(separator: " ")
                    .last)
            let symbols = try Self.run(try Self.tool("nm"), [TestHome.binary]).stdout.split(separator: "\n")
            let address = try #require(symbols.first { $0.hasSuffix(" T cjob_entry") }?.split(separator: " ").first)
            #expect(UInt64(entry.dropFirst(2), radix: 16) == UInt64(address, radix: 16))
            #expect(symbols.contains { $0.hasSuffix(" T _start") || $0.hasSuffix(" t _start") })
        #endif
        // And a plain wait is answered there: with no agent to ask, JOB_FAST_PATH=only says so.
        let home = try TestHome()
        let result = try home.job(["wait", "1"], environment: ["JOB_FAST_PATH": "only"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("left to the Swift client: no agent to connect to"))
    }
}

/// A job's monitor is forked from the supervisor, and a fork copies no page tables of the
/// program's code: each page of code a new monitor runs, it maps again. So the monitor's path
/// (Sources/CJobSupport/JobMonitor.c) makes its system calls directly and calls nothing of the
/// C library, whose functions lie all over the program, but vfork (and errno when that fails).
@Suite("a new monitor's code", .timeLimit(.minutes(5)))
struct MonitorCodeTests {
    @Test("JobMonitor.c calls nothing of the C library but vfork, at -O2 and -Os", arguments: ["-O2", "-Os"])
    func callsOnlyItsOwnCode(optimisation: String) throws {
        let clang = try FastPathEntryTests.tool("clang")
        let nm = try FastPathEntryTests.tool("nm")
        let scratch = try TestHome()
        let object = scratch.scratch + "/JobMonitor.o"
        let compiled = try FastPathEntryTests.run(
            clang,
            [
                optimisation, "-ISources/CJobSupport/include", "-ISources/CJobWire/include", "-c",
                "Sources/CJobSupport/JobMonitor.c", "-o", object,
            ])
        #expect(compiled.status == 0, "\(compiled.stderr)")
        let undefined = try FastPathEntryTests.run(nm, ["-u", object])
        #expect(undefined.status == 0)
        let names = undefined.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last }
        #expect(names.contains("vfork"))
        let outside = names.filter {
            !$0.hasPrefix("cjs_") && !$0.hasPrefix("cjob_") && $0 != "vfork" && $0 != "__errno_location"
        }
        #expect(outside.isEmpty, "JobMonitor.c at \(optimisation) calls \(outside)")
    }
}
