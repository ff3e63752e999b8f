// swift-tools-version:6.2
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

import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .treatAllWarnings(as: .error),
    // Each function in a section of its own, so that the linker can put together the code a
    // short verb runs (`dist/job.order`, see `scripts/order-symbols`).
    .unsafeFlags(
        ["-Xfrontend", "-function-sections", "-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"],
        .when(platforms: [.linux], configuration: .release, traits: ["Programs"])),
]

/// The packages only the programs need: left out when the `Programs` trait is off.
let programs = TargetDependencyCondition.when(traits: ["Programs"])

/// The release programs are linked fully statically (the Swift runtime, glibc, SQLite, libedit):
/// no dynamic loader runs when a verb starts, and the two files run on any Linux of the same
/// architecture. lld, because gold prints a warning for each glibc function that may load NSS
/// modules at run time (docs/decisions.md says what that means). The modules were compiled
/// against the shared toolchain, whose Foundation names only itself to the linker, so the
/// static libraries under it are named here (an archive adds only what is used).
let staticLinux = BuildSettingCondition.when(platforms: [.linux], configuration: .release)
let staticRelease: [LinkerSetting] =
    [.unsafeFlags(["-static-executable", "-use-ld=lld"], staticLinux)]
    + [
        "Foundation", "FoundationEssentials", "FoundationInternationalization", "CoreFoundation", "_FoundationICU",
        "_FoundationCollections", "_FoundationCShims", "swiftDispatch", "dispatch", "BlocksRuntime",
        "swiftSynchronization", "swift_RegexParser", "swift_StringProcessing", "util",
    ].map { .linkedLibrary($0, staticLinux) }

/// The fast path of `job` (CJobFront) and the frames it writes (CJobWire) run at the program's
/// entry, before the C library is set up: compiled freestanding, so that the compiler makes no
/// calls to the C library's memcpy or memset of its own, and without the stack protector, whose
/// canary is in thread-local storage that does not exist yet (SysTests checks the compiled code).
let beforeTheCLibrary: [CSetting] = [.unsafeFlags(["-ffreestanding", "-fno-stack-protector"])]

/// `cjob_entry` (Front.c) is the entry of `job` on the architectures it is written for; it
/// calls the fast path, then the C library's `_start`. Elsewhere the fast path runs as a
/// constructor, after the C library's start-up.
#if arch(x86_64) || arch(arm64)
    let fastEntry: [LinkerSetting] = [
        .unsafeFlags(["-Xlinker", "-e", "-Xlinker", "cjob_entry"], .when(platforms: [.linux]))
    ]
#else
    let fastEntry: [LinkerSetting] = []
#endif

/// The benchmark driver (`job-bench`) is part of the package only when `JOB_BENCHMARKS=1`
/// (the scripts under Benchmarks/ set it, with a build folder of their own), so that `swift
/// build -c release` builds the programs a user runs and nothing else.
let benchmarks = Context.environment["JOB_BENCHMARKS"] == "1"

let package = Package(
    name: "job",
    products: [
        .executable(name: "job", targets: ["job"]),
        .executable(name: "job-agent", targets: ["job-agent"]),
        .library(name: "JobClient", targets: ["JobClient"]),
    ],
    // A program that only uses the library depends on this package with `traits: []`: then it
    // resolves and builds nothing but JobClient and the project's own modules under it, none
    // of GRDB, TOMLKit or swift-log, which only the agent's program needs.
    traits: [
        .default(enabledTraits: ["Programs"]),
        .trait(
            name: "Programs",
            description: "The job and job-agent programs, their tests and benchmarks: GRDB, TOMLKit and swift-log."),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // `swift package generate-documentation --target JobClient`: the library's documentation.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // The job's monitor makes its system calls through CJobWire's (`JobMonitor.c`).
        .target(name: "CJobSupport", dependencies: ["CJobWire"]),
        // The protocol's frames for the forms the `job` program answers without its Swift
        // client, and that fast path itself (a constructor linked into `job` alone).
        .target(name: "CJobWire", cSettings: beforeTheCLibrary),
        .target(name: "CJobFront", dependencies: ["CJobWire"], cSettings: beforeTheCLibrary),
        // `job-agent supervise`, run from a constructor before the Swift runtime starts (linked
        // into job-agent alone).
        .target(name: "CJobAgentEntry", dependencies: ["CJobSupport"]),
        // Line editing for `job enter`: Debian's libedit (libedit-dev), linked statically in
        // the release with what it needs (tinfo, bsd, md).
        .target(
            name: "CLineEditor",
            linkerSettings: [
                .linkedLibrary("edit"), .linkedLibrary("tinfo"), .linkedLibrary("bsd"), .linkedLibrary("md"),
            ]),
        .target(name: "JobCore", swiftSettings: swiftSettings),
        .target(
            name: "JobStore",
            dependencies: [
                "JobCore", .product(name: "GRDB", package: "GRDB.swift", condition: programs),
                .product(name: "GRDBSQLite", package: "GRDB.swift", condition: programs),
            ],
            swiftSettings: swiftSettings),
        // The user's config file (TOML), parsed in the agent's program only: TOMLKit brings full
        // Foundation, which the client does without (it reads a cache; see JobSettings).
        .target(
            name: "JobConfig",
            dependencies: ["JobCore", .product(name: "TOMLKit", package: "TOMLKit", condition: programs)],
            swiftSettings: swiftSettings),
        .target(name: "JobProtocol", dependencies: ["JobCore", "CJobSupport"], swiftSettings: swiftSettings),
        .target(name: "JobRemote", dependencies: ["JobCore", "CJobSupport"], swiftSettings: swiftSettings),
        .target(
            name: "JobAgent",
            dependencies: [
                "JobCore", "JobStore", "JobProtocol", "JobRemote", "CJobSupport", "JobConfig",
                .product(name: "Logging", package: "swift-log", condition: programs),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "JobClient",
            dependencies: ["JobCore", "JobProtocol", "CJobSupport"],
            swiftSettings: swiftSettings),
        // The client every verb runs: no database, no full Foundation, nothing of the agent.
        .executableTarget(
            name: "job",
            dependencies: [
                "JobClient", "JobRemote", "JobCore", "JobProtocol", "CJobSupport", "CLineEditor", "CJobFront",
            ],
            swiftSettings: swiftSettings,
            linkerSettings: staticRelease + fastEntry + [
                .unsafeFlags(
                    [
                        "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/dist/job.order",
                        "-Xlinker", "--no-warn-symbol-ordering",
                    ], staticLinux)
            ], plugins: ["BuildCommit"]),
        // `job --version` names the commit it was built from.
        .plugin(name: "BuildCommit", capability: .buildTool()),
        // The agent and the supervisor, found beside `job` and started by it.
        .executableTarget(
            name: "job-agent",
            dependencies: [
                "JobAgent", "JobCore", "JobClient", "JobConfig", "CJobAgentEntry",
                .product(name: "GRDB", package: "GRDB.swift", condition: programs),
            ],
            path: "Sources/job-agent",
            swiftSettings: swiftSettings, linkerSettings: staticRelease),
        // What the tests share (a private home, test computers, a load driver): a test target,
        // so that `swift build` leaves it out; a plain one when the benchmarks need it too.
        benchmarks
            ? .target(
                name: "JobTestSupport", dependencies: ["JobCore", "JobProtocol", "JobClient"],
                path: "Tests/JobTestSupport", swiftSettings: swiftSettings)
            : .testTarget(
                name: "JobTestSupport", dependencies: ["JobCore", "JobProtocol", "JobClient"],
                path: "Tests/JobTestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "JobCoreTests", dependencies: ["JobCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "JobStoreTests", dependencies: ["JobStore", "JobCore", "JobTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "JobProtocolTests", dependencies: ["JobProtocol", "JobCore", "JobTestSupport", "CJobWire"],
            exclude: ["Golden"], swiftSettings: swiftSettings),
        // The agent driven in this process: each verb's handler called directly, with real
        // processes, monitors and a real store.
        .testTarget(
            name: "JobAgentTests",
            dependencies: ["JobAgent", "JobCore", "JobProtocol", "JobStore", "JobTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["JobTestSupport", "JobClient", "JobCore", "JobProtocol", "CJobSupport"],
            swiftSettings: swiftSettings),
    ]
)

if benchmarks {
    package.targets.append(
        .executableTarget(
            name: "job-bench", dependencies: ["JobClient", "JobCore", "JobTestSupport"], path: "Benchmarks/job-bench",
            swiftSettings: swiftSettings))
}
