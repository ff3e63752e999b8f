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

// A program that uses `job` from Swift: the library by path, as a program in another repository
// would use it by URL. `traits: []` leaves out what only job's own programs need, so this
// package resolves no other package at all. CI builds and runs it, and checks that.
import PackageDescription

let package = Package(
    name: "JobsFromSwift",
    dependencies: [.package(name: "job", path: "../..", traits: [])],
    targets: [
        .executableTarget(
            name: "jobs-from-swift",
            dependencies: [.product(name: "JobClient", package: "job")],
            swiftSettings: [.swiftLanguageMode(.v6)])
    ]
)
