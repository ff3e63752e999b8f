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

import JobClient
import JobCore
import JobProtocol

/// `job rename SELECTOR NAME`: a job's Name, changed after it started.
enum RenameVerb {
    static let spec = VerbSpec(
        name: "rename", summary: "give a job a new name", usage: ["rename SELECTOR NAME [OPTIONS]"],
        about: """
            Give one job a new Name, whatever its state: the name get, receive's labels, the
            log and every selector then use. SELECTOR names exactly one job you started (an
            Id, an InstanceId, % for the newest, or a name only one job has); its children
            show the new name as they showed the old. Names need not be unique.
            """,
        operands: [("SELECTOR", "the job to rename"), ("NAME", "its new name")], operandCompletion: .jobs,
        options: [SelectionArguments.passThru, SelectionArguments.format()])

    static func run(_ parsed: ParsedArguments) throws {
        guard parsed.positionals.count == 2 else {
            throw CLIFailure.usage(
                "job rename takes a job and its new name (job rename 4 nightly), not \(parsed.positionals.count) "
                    + "operand\(parsed.positionals.count == 1 ? "" : "s")")
        }
        let name = parsed.positionals[1]
        try CLIFailure.checking { try InputCheck.jobName(name) }
        var selecting = parsed
        selecting.positionals = [parsed.positionals[0]]
        let selection = try Terminal.requiredSelection(selecting, verb: "rename")
        _ = try Terminal.format(parsed)
        try SuspendVerb.finish(try JobClient().renaming(selection, to: name), parsed: parsed)
    }
}
