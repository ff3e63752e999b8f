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

import JobCore

/// Job rows as bytes: what `job get --format wire` prints, so that `--computer` can read
/// another computer's jobs exactly (no text to parse) and show them with its own formatting.
///
/// Layout: the 8 bytes `JOBROWS\n`, then the tagged fields 1 (the protocol version) and 2 (the
/// job records), so that rows from a computer one version apart are read as requests are.
package enum JobRows {
    static let magic = Array("JOBROWS\n".utf8)

    struct Rows: TaggedMessage {
        var version = 0
        var jobs: [JobRecord] = []
        mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
            try coder.value(1, &version)
            try coder.array(2, &jobs)
        }
    }

    package static func encode(_ jobs: [JobRecord]) -> [UInt8] {
        var rows = Rows()
        rows.version = ProtocolVersion.current
        rows.jobs = jobs
        return magic + rows.encodedFields()
    }

    package struct Unreadable: Error, CustomStringConvertible {
        package var description: String
    }

    package static func decode(_ bytes: [UInt8]) throws(Unreadable) -> [JobRecord] {
        guard bytes.count >= magic.count, Array(bytes[..<magic.count]) == magic else {
            throw Unreadable(description: "its job did not print job rows (is it a job of this project?)")
        }
        let body = Array(bytes[magic.count...])
        if let version = Frame.legacyVersion(body) {
            throw Unreadable(
                description:
                    "its job speaks protocol version \(version), this one \(ProtocolVersion.current) (the oldest it reads is "
                    + "\(ProtocolVersion.oldest)); install a newer version there")
        }
        do {
            return try Rows(decodingFields: body).jobs
        } catch {
            throw Unreadable(description: "its job printed malformed job rows: \(error)")
        }
    }
}
