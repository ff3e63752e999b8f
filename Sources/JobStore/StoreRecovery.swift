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
import JobCore

/// A damaged store set aside and a new one made from what can still be read of it.
///
/// The damaged file (with its write-ahead log) is renamed, never deleted, so that nothing is
/// lost that a person with more time could still get back. Then every row SQLite can still
/// read is copied into a fresh store, row by row (a corrupt page costs the rows on it, not the
/// rest), with the Id counter and the queue's groups.
package struct StoreRecovery: Sendable {
    /// Where the damaged store was put.
    package var damagedPath: String
    /// Rows copied into the new store, and rows that could not be read.
    package var recovered = 0
    package var lost = 0
    /// The highest Id the damaged store is known to have given out.
    package var lastId = 0

    /// Sets the store at `path` aside and makes a new one there from what can be read.
    /// `lastId`: the highest Id that may have been given out, when known from elsewhere (rows
    /// are looked for up to it when the store's own counter cannot be read).
    package static func recover(path: String, reservePath: String?, lastId hint: Int = 0) throws -> StoreRecovery {
        let stamp = Timestamp.format(Date()).replacingOccurrences(of: ":", with: "")
        var recovery = StoreRecovery(damagedPath: "\(path).damaged-\(stamp)")
        guard rename(path, recovery.damagedPath) == 0 else {
            throw StoreRecoveryError(
                "could not move the damaged store \(path) aside: \(String(cString: strerror(errno)))")
        }
        for suffix in ["-wal", "-shm"] where access(path + suffix, F_OK) == 0 {
            _ = rename(path + suffix, recovery.damagedPath + suffix)
        }
        let fresh = try JobDatabase(path: path, reservePath: reservePath)
        recovery.lastId = hint
        try fresh.salvage(from: recovery.damagedPath, into: &recovery)
        return recovery
    }
}

package struct StoreRecoveryError: Error, CustomStringConvertible {
    package var description: String
    init(_ description: String) { self.description = description }
}

extension JobDatabase {
    /// Copies what can be read of the damaged store at `damaged` into this one.
    fileprivate func salvage(from damaged: String, into recovery: inout StoreRecovery) throws {
        var configuration = Configuration()
        configuration.readonly = true
        // A copy with the header's constant bytes written anew: a damaged first line (the
        // commonest damage, and what "not a database" means) then costs nothing.
        let mended = damaged + ".mended"
        defer {
            for suffix in ["", "-wal", "-shm"] { unlink(mended + suffix) }
        }
        guard Self.mendHeader(of: damaged, into: mended),
            let old = try? DatabaseQueue(path: mended, configuration: configuration)
        else { return }
        let columns = (try? old.read { db in try db.columns(in: "job").map(\.name) }) ?? []
        // Every Id that may have been given out is looked up on its own: a damaged page of the
        // table's tree then costs the rows under it, where a scan would stop at it.
        let listed = (try? old.read { db in try Int.fetchAll(db, sql: "SELECT id FROM job ORDER BY id") }) ?? []
        let counter =
            (try? old.read { db in try Int.fetchOne(db, sql: "SELECT value FROM counter WHERE name = 'jobId'") })
            .flatMap { $0 } ?? 0
        recovery.lastId = max(recovery.lastId, listed.last ?? 0, counter)
        var rows: [Row] = []
        var lost = 0
        let ids = Set(listed).union(1...max(1, recovery.lastId)).sorted()
        try? old.read { db in
            for id in ids {
                do {
                    if let row = try Row.fetchOne(db, sql: "SELECT * FROM job WHERE id = ?", arguments: [id]) {
                        rows.append(row)
                    }
                } catch {
                    // A row under a damaged page (an Id never stored, or removed, is no loss).
                    lost += 1
                }
            }
        }
        recovery.lost = lost
        let groups = (try? old.read { db in try Row.fetchAll(db, sql: "SELECT * FROM queueGroup") }) ?? []
        try copy(rows: rows, columns: columns, groups: groups, lastId: recovery.lastId, recovered: &recovery.recovered)
    }

    /// Copies `path` (and its log) to `copy` with the bytes of the header that every store of
    /// ours has the same written again: the magic text, a page of 4096 bytes, WAL mode, the
    /// payload fractions. What else was damaged stays so.
    private static func mendHeader(of path: String, into copy: String) -> Bool {
        guard var bytes = FileManager.default.contents(atPath: path), bytes.count >= 100 else { return false }
        let constant: [UInt8] = Array("SQLite format 3\0".utf8) + [0x10, 0x00, 2, 2, 0, 64, 32, 32]
        bytes.replaceSubrange(0..<constant.count, with: constant)
        guard FileManager.default.createFile(atPath: copy, contents: bytes, attributes: [.posixPermissions: 0o600])
        else { return false }
        if let log = FileManager.default.contents(atPath: path + "-wal") {
            _ = FileManager.default.createFile(
                atPath: copy + "-wal", contents: log, attributes: [.posixPermissions: 0o600])
        }
        return true
    }
}
