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

#if canImport(Glibc)
    import Glibc
#endif

/// Blocking writes that report how much got through, over the package's one write-all
/// (`cjob_write_all`, which the supervisor uses too). Not part of the library's API.
package enum FileWriter {
    /// Writes all of `bytes`; returns how many were written before an error (EPIPE), a write
    /// that took nothing, or an interrupt a reader caught (`cjob_catch_interrupts`) stopped it.
    package static func writeAll(_ fd: Int32, _ bytes: inout ArraySlice<UInt8>) -> Int {
        let written = bytes.withUnsafeBytes { cjob_write_all(fd, $0.baseAddress, $0.count) }
        bytes = bytes.dropFirst(written)
        return written
    }

    /// Writes all of `bytes`; whether they all went.
    package static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Bool {
        var rest = bytes
        return writeAll(fd, &rest) == bytes.count
    }
}
