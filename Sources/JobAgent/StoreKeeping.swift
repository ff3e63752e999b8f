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
import JobCore
import JobStore

/// The store kept whole in its main file: checkpoints while the agent idles and at a clean
/// stop, and the last Id given out kept beside it, so that a store that lost its history never
/// gives an Id out twice.
extension RegistryState {
    /// Seconds after a commit before the write-ahead log is copied into the main file.
    static let checkpointInterval = 5.0

    /// Checkpoints when something was committed and the last checkpoint is old enough.
    /// Lock held.
    func checkpointIfDue() {
        if database.checkpointIfDue(interval: Self.checkpointInterval) { idLedger.checkpoint(lastId) }
    }

    /// How long the watcher may sleep before a checkpoint is due, in milliseconds (-1: any).
    var checkpointWake: Int32 {
        database.hasUncheckpointed ? Int32(Self.checkpointInterval * 1000) : -1
    }

    /// Moves the Id counter past every Id reserved, after signs that the store lost jobs
    /// (output files or monitors of jobs it does not know). Lock held.
    func skipLostIds(_ why: String) {
        let floor = idLedger.reserved
        guard floor > lastId, (try? database.raiseLastId(to: floor)) != nil else { return }
        table.raiseLastId(to: floor)
        let notice = "\(why): new jobs start at Id \(floor + 1), so that no Id is given out twice"
        log.warning(notice)
        notices.append(notice)
    }

    /// Everything in the main file, before the agent stops. Lock held.
    func checkpointForStop() {
        database.checkpoint()
        idLedger.checkpoint(lastId, stopping: true)
    }
}

/// `JOB_HOME/last-id`: two numbers, the last Id given out as of the last checkpoint, and
/// the Ids reserved through. Ids are reserved a block at a time, before any is given out, so a
/// store that lost its last jobs (a log deleted or damaged, a copy put back) is moved past every
/// Id that files, monitors or a user may still carry, at the price of one small write per block.
struct IdLedger {
    let path: String
    /// The last Id given out when the store was last checkpointed: a store whose counter is
    /// below it has lost jobs.
    private(set) var checkpointed = 0
    /// No Id above this has been given out.
    private(set) var reserved = 0
    static let block = 100

    init(home: JobHome) {
        path = home.path + "/last-id"
        let numbers = readText(path)?.split(whereSeparator: \.isWhitespace).compactMap { Int($0) } ?? []
        checkpointed = numbers.first ?? 0
        reserved = max(numbers.count > 1 ? numbers[1] : 0, checkpointed)
    }

    /// Makes sure `id` is reserved before it is given out.
    mutating func cover(_ id: Int) {
        guard id > reserved else { return }
        reserved = id + Self.block
        save()
    }

    /// The store holds every Id through `last` in its main file.
    mutating func checkpoint(_ last: Int, stopping: Bool = false) {
        checkpointed = last
        // At a clean stop nothing more is given out: the next agent goes on from here.
        reserved = stopping ? last : max(reserved, last)
        save()
    }

    /// Written over the old numbers in place, in one write of a fixed length (the numbers
    /// padded with spaces), which a crash cannot leave half done. A new file renamed over the
    /// old, as before, freed an inode every 50 starts: on ext4 without a journal every file made
    /// in the next minutes (two a job) then searched past it.
    private func save() {
        var text = "\(checkpointed) \(reserved)"
        text += String(repeating: " ", count: max(0, Self.recordLength - 1 - text.utf8.count)) + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        close(fd)
    }

    /// The length of the file's one record: longer than two numbers of 19 digits, a space and a
    /// newline, so that it covers whatever an earlier version wrote.
    static let recordLength = 48
}
