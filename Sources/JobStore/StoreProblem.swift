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
import GRDB

/// Store errors worded for the person who reads them.
package enum StoreProblem {
    /// Whether the store failed because its disk (or the user's quota) is full: SQLite says
    /// so, or (given the store's folder) it reports an I/O error while that disk has no room.
    package static func isDiskFull(_ error: Error, folder: String? = nil) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        if error.resultCode == .SQLITE_FULL { return true }
        guard error.resultCode == .SQLITE_IOERR else { return false }
        if let folder { return DiskSpace.isFull(folder) }
        return error.extendedResultCode == .SQLITE_IOERR_WRITE || error.extendedResultCode == .SQLITE_IOERR_SHMSIZE
            || error.extendedResultCode == .SQLITE_IOERR_FSYNC
    }

    /// What went wrong, with what to do when the disk is full.
    package static func describe(_ error: Error, folder: String? = nil) -> String {
        if isDiskFull(error, folder: folder) {
            return "the disk is full (\(error)); free space, for example with job remove --state Completed"
        }
        return "\(error)"
    }
}

/// Free space on a disk, as the user may use it.
package enum DiskSpace {
    /// Whether the file system holding `path` has less than 64 KiB left for this user. With
    /// `reserve`, the store's reserve file: once the store has released it (it does when a write
    /// fails for want of space), the space it gave back counts as taken, since that is what the
    /// store now lives on: a job that filled the disk is still seen to have filled it after the
    /// store wrote its own state into the reserve's place.
    package static func isFull(_ path: String, reserve: String? = nil) -> Bool {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return false }
        let released = reserve.map { access($0, F_OK) != 0 } ?? false
        let slack = UInt64(released ? JobDatabase.reserveSize : 0)
        return UInt64(info.f_bavail) * UInt64(info.f_frsize) < (64 << 10) + slack
    }
}

extension StoreProblem {
    /// Whether the store's file is damaged (not a database, or corrupt pages), as opposed to
    /// out of reach (permissions, a full disk), which waiting or freeing space mends.
    package static func isDamage(_ error: Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB
    }

    /// Damage in a person's words.
    package static func describeDamage(_ error: Error) -> String {
        guard let error = error as? DatabaseError else { return "\(error)" }
        if error.resultCode == .SQLITE_NOTADB { return "its file does not read as a database: its header is damaged" }
        return "some of its pages are damaged (SQLite: \(error.message ?? "database disk image is malformed"))"
    }
}
