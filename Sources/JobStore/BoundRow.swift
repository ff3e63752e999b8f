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
import GRDBSQLite

/// The values of one run of a wide statement (a job's insert, its update), bound straight to
/// the prepared statement in the order of its parameters, then the statement run once.
///
/// GRDB's own way (an array of `DatabaseValueConvertible?` built, checked, then bound) cost
/// more than SQLite's work for these rows of 29 and 45 values, in the hottest transactions of
/// the agent. The values go as GRDB would bind them (integers, reals, text, blobs, NULL), and
/// a failure is GRDB's `DatabaseError` with SQLite's code, as the callers expect (a full disk).
/// Use inside `JobDatabase`'s transactions only.
struct BoundRow {
    private let statement: Statement
    private let handle: OpaquePointer
    private var index: Int32 = 0

    init(_ statement: Statement) {
        self.statement = statement
        handle = statement.sqliteStatement
        sqlite3_reset(handle)
    }

    /// SQLite makes its own copy of text and blobs.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    mutating func bind(_ value: Int64?) {
        index += 1
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    mutating func bind(_ value: Int?) { bind(value.map(Int64.init)) }

    mutating func bind(_ value: Bool) { bind(Int64(value ? 1 : 0)) }

    mutating func bind(_ value: Double?) {
        index += 1
        if let value { sqlite3_bind_double(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    mutating func bind(_ value: String?) {
        index += 1
        guard var value else { return _ = sqlite3_bind_null(handle, index) }
        let (handle, index) = (handle, index)
        value.withUTF8 { bytes in
            if let base = bytes.baseAddress {
                let text = UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self)
                _ = sqlite3_bind_text(handle, index, text, Int32(bytes.count), Self.transient)
            } else {
                // An empty string is text too, not NULL.
                _ = sqlite3_bind_text(handle, index, "", 0, Self.transient)
            }
        }
    }

    /// An empty blob goes as NULL, as GRDB binds it.
    mutating func bind(_ value: Data?) {
        index += 1
        guard let value else { return _ = sqlite3_bind_null(handle, index) }
        let (handle, index) = (handle, index)
        value.withUnsafeBytes { bytes in
            _ = sqlite3_bind_blob(handle, index, bytes.baseAddress, Int32(bytes.count), Self.transient)
        }
    }

    /// The columns of a job's run that both its insert and its update write, in the order
    /// both statements name them: state, stopRequested, reason, exitStatus, signal, pid,
    /// waiterPid, waiterStart, bootId, beginTime, endTime, outputRead, errorRead, outputSize,
    /// errorSize.
    mutating func bindProgress(_ job: StoredJob) {
        bind(job.state.rawValue)
        bind(job.stopRequested)
        bind(job.reason)
        bind(job.exitStatus)
        bind(job.signal)
        bind(job.pid)
        bind(job.waiterPid)
        bind(job.waiterStart)
        bind(job.bootId)
        bind(job.beginTime?.timeIntervalSince1970)
        bind(job.endTime?.timeIntervalSince1970)
        bind(job.outputRead)
        bind(job.errorRead)
        bind(job.outputSize)
        bind(job.errorSize)
    }

    /// Runs the statement once with the values bound; every parameter must have one.
    func run(in db: Database) throws {
        precondition(index == sqlite3_bind_parameter_count(handle), "a value for each parameter")
        let code = sqlite3_step(handle)
        defer { sqlite3_reset(handle) }
        guard code == SQLITE_DONE else {
            let message = db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) }
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
    }
}
