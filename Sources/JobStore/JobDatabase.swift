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
import Synchronization

/// The agent's SQLite store: jobs, read positions and the Id counter, in WAL mode.
/// Each method is one transaction. Output bytes live in files, never here.
package final class JobDatabase: Sendable {
    private let queue: DatabaseQueue
    /// A file kept beside the store to be deleted when the disk is full, so that the store can
    /// still record ends and deletions (and so free space) and the agent can start again.
    package let reservePath: String?
    /// The reserve's size: room for many small transactions and the WAL's shared memory.
    package static let reserveSize = 1 << 20
    /// Commits since the last checkpoint, and when that was (monotonic seconds).
    private let unsaved = Mutex<(commits: Int, checkpointAt: Double)>((0, JobDatabase.now()))
    /// Whether the removal table may hold rows (see `delete(ids:removing:)`).
    private let removalsNoted = Mutex(true)

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// With `reservePath`, a disk found full is given the reserve back, and the open retried.
    package init(path: String, reservePath: String? = nil) throws {
        self.reservePath = reservePath
        do {
            queue = try Self.openQueue(path)
        } catch  where StoreProblem.isDiskFull(error, folder: Self.folder(of: path)) && Self.release(reservePath) {
            queue = try Self.openQueue(path)
        }
        refillReserve()
    }

    /// Closes the database (a stopping agent, once nothing else uses it). What is asked of it
    /// after this fails.
    package func close() {
        try? queue.close()
    }

    private static func openQueue(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // NORMAL in WAL mode survives a crash of the agent; only a power loss can
            // take back the last commits.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // The agent is the store's only user (its lock file sees to that): holding the
            // file lock for the connection's life saves two lock calls per transaction.
            try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
        }
        configuration.busyMode = .timeout(5)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in
            _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
        }
        try migrator.migrate(queue)
        return queue
    }

    private static func folder(of path: String) -> String {
        String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
    }

    /// Deletes the reserve; whether there was one to delete.
    private static func release(_ path: String?) -> Bool {
        guard let path else { return false }
        return unlink(path) == 0
    }

    /// Makes the reserve again where it is missing and the disk has room; call after space
    /// was freed. Best effort: a disk still full leaves it missing.
    package func refillReserve() {
        guard let reservePath, access(reservePath, F_OK) != 0 else { return }
        let fd = Glibc.open(reservePath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        defer { Glibc.close(fd) }
        if posix_fallocate(fd, 0, off_t(Self.reserveSize)) != 0 {
            unlink(reservePath)
        }
    }

    /// One write transaction; when the disk is full, the reserve is given back and the
    /// transaction tried once more.
    private func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try transaction(body)
        } catch  where StoreProblem.isDiskFull(error) && Self.release(reservePath) {
            return try transaction(body)
        }
    }

    /// One transaction, begun and committed with prepared statements: GRDB's own `write`
    /// builds and parses them anew each time, which cost as much as the inserts of a start.
    private func transaction<T>(_ body: (Database) throws -> T) throws -> T {
        try queue.writeWithoutTransaction { db in
            try db.cachedStatement(sql: "BEGIN IMMEDIATE TRANSACTION").execute()
            do {
                let result = try body(db)
                try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
                unsaved.withLock { $0.commits += 1 }
                return result
            } catch {
                if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK TRANSACTION") }
                throw error
            }
        }
    }

    /// Whether the store is sound (`PRAGMA integrity_check`).
    package func integrityCheck() throws -> String {
        try queue.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "" }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                    INSERT INTO counter (name, value) VALUES ('jobId', 0);
                    CREATE TABLE job (
                        id INTEGER PRIMARY KEY,
                        parentId INTEGER REFERENCES job(id) ON DELETE CASCADE,
                        instanceId TEXT NOT NULL UNIQUE,
                        name TEXT NOT NULL,
                        type TEXT NOT NULL,
                        location TEXT NOT NULL,
                        computer TEXT,
                        command TEXT NOT NULL,
                        workingDirectory TEXT NOT NULL,
                        shell TEXT NOT NULL,
                        environment BLOB,
                        state TEXT NOT NULL,
                        stopRequested INTEGER NOT NULL DEFAULT 0,
                        reason TEXT,
                        exitStatus INTEGER,
                        signal INTEGER,
                        pid INTEGER,
                        waiterPid INTEGER,
                        waiterStart INTEGER,
                        bootId TEXT,
                        beginTime REAL,
                        endTime REAL,
                        outputRead INTEGER NOT NULL DEFAULT 0,
                        errorRead INTEGER NOT NULL DEFAULT 0,
                        outputSize INTEGER NOT NULL DEFAULT 0,
                        errorSize INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX job_parent ON job(parentId);
                    """)
        }
        migrator.registerMigration("v2: remote jobs") { db in
            try db.execute(
                sql: """
                    ALTER TABLE job ADD COLUMN throttleLimit INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE job ADD COLUMN sshOptions BLOB;
                    ALTER TABLE job ADD COLUMN remoteEnvironment BLOB;
                    """)
        }
        migrator.registerMigration("v3: session commands") { db in
            try db.execute(sql: "ALTER TABLE job ADD COLUMN session INTEGER")
        }
        migrator.registerMigration("v4: job start times") { db in
            try db.execute(sql: "ALTER TABLE job ADD COLUMN pidStart INTEGER")
        }
        migrator.registerMigration("v5: the queue") { db in
            try db.execute(
                sql: """
                    ALTER TABLE job ADD COLUMN queueGroup TEXT;
                    ALTER TABLE job ADD COLUMN after TEXT;
                    ALTER TABLE job ADD COLUMN afterAny TEXT;
                    ALTER TABLE job ADD COLUMN notBefore REAL;
                    ALTER TABLE job ADD COLUMN timeout REAL;
                    ALTER TABLE job ADD COLUMN timedOut INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE job ADD COLUMN umask INTEGER;
                    CREATE TABLE queueGroup (
                        name TEXT PRIMARY KEY,
                        maxRunning INTEGER NOT NULL DEFAULT 0,
                        paused INTEGER NOT NULL DEFAULT 0
                    );
                    """)
        }
        migrator.registerMigration("v6: suspension") { db in
            try db.execute(
                sql: """
                    ALTER TABLE job ADD COLUMN suspendedAt REAL;
                    ALTER TABLE job ADD COLUMN suspendedFor REAL NOT NULL DEFAULT 0;
                    ALTER TABLE job ADD COLUMN maxOutput INTEGER;
                    ALTER TABLE job ADD COLUMN outputCapped INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE job ADD COLUMN restarts INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE job ADD COLUMN history TEXT;
                    """)
        }
        migrator.registerMigration("v7: grace of a queue's stop") { db in
            try db.execute(sql: "ALTER TABLE job ADD COLUMN stopGrace REAL")
        }
        migrator.registerMigration("v8: the input file a restart reads again") { db in
            try db.execute(sql: "ALTER TABLE job ADD COLUMN inputFile TEXT")
        }
        migrator.registerMigration("v9: durable remote children") { db in
            try db.execute(
                sql: """
                    -- 1: durable; 2: durable, and job is copied to the computer first (--deploy).
                    ALTER TABLE job ADD COLUMN durable INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE job ADD COLUMN disconnectedAt REAL;
                    """)
        }
        migrator.registerMigration("v10: files whose removal was decided") { db in
            try db.execute(
                sql: """
                    -- The InstanceIds whose files a remove or a restart deleted after its commit:
                    -- the only files a new agent deletes without asking (the rest go to lost+found).
                    CREATE TABLE removal (instanceId TEXT PRIMARY KEY);
                    """)
        }
        migrator.registerMigration("v11: children a cluster scheduler runs") { db in
            try db.execute(
                sql: """
                    -- 'slurm' on a Slurm job and its children; a child's id in Slurm once submitted;
                    -- the parent's sbatch options.
                    ALTER TABLE job ADD COLUMN scheduler TEXT;
                    ALTER TABLE job ADD COLUMN schedulerJobId TEXT;
                    ALTER TABLE job ADD COLUMN schedulerOptions BLOB;
                    """)
        }
        migrator.registerMigration("v12: the parent index without parents") { db in
            try db.execute(
                sql: """
                    -- Parents (no parentId) are never looked up by it: indexed, each start wrote one
                    -- more page of the log for the parent's entry among the NULLs (docs/decisions.md).
                    DROP INDEX job_parent;
                    CREATE INDEX job_parent ON job(parentId) WHERE parentId IS NOT NULL;
                    """)
        }
        return migrator
    }

    /// Every job, in Id order.
    /// Every job, in Id order. Read row by row and without the environments (kilobytes per
    /// child, read only to launch), and with the texts that many jobs share (a boot, a folder,
    /// a command) kept once: 100,000 jobs loaded at once had made the agent 400 MB.
    package func loadAll() throws -> [StoredJob] {
        var jobs: [StoredJob] = []
        try loadEach { jobs.append($0) }
        return jobs
    }

    /// Hands every job to `body`, in Id order, one at a time (see `loadAll()`).
    package func loadEach(_ body: (StoredJob) -> Void) throws {
        try queue.read { db in
            var shared = SharedTexts()
            let rows = try Row.fetchCursor(db, sql: "SELECT \(Self.loadedColumns) FROM job ORDER BY id")
            while let row = try rows.next() {
                var job = Self.job(from: row)
                job.bootId = job.bootId.map { shared.one($0) }
                job.workingDirectory = shared.one(job.workingDirectory)
                job.command = shared.one(job.command)
                job.shell = shared.one(job.shell)
                job.location = shared.one(job.location)
                job.type = shared.one(job.type)
                body(job)
            }
        }
    }

    /// Every column but the environment.
    static let loadedColumns = """
        id, parentId, instanceId, name, type, location, computer, command, workingDirectory, shell, state,
        stopRequested, reason, exitStatus, signal, pid, waiterPid, waiterStart, bootId, beginTime, endTime,
        outputRead, errorRead, outputSize, errorSize, throttleLimit, sshOptions, remoteEnvironment, session, pidStart,
        queueGroup, after, afterAny, notBefore, timeout, timedOut, umask, suspendedAt, suspendedFor, maxOutput,
        outputCapped, restarts, history, stopGrace, inputFile, durable, disconnectedAt, scheduler, schedulerJobId,
        schedulerOptions
        """

    /// One copy of each text seen (equal texts read from many rows are otherwise as many
    /// allocations).
    struct SharedTexts {
        private var seen: Set<String> = []
        mutating func one(_ text: String) -> String {
            if let known = seen.firstIndex(of: text) { return seen[known] }
            seen.insert(text)
            return text
        }
    }

    /// The last Id given out, in a transaction: the counter row holds it for Ids whose jobs were
    /// removed since, and the largest stored Id for the rest. An insert does not write the
    /// counter (one page of the log a start, about a tenth of what a job writes there); a
    /// removal and a checkpoint bring it up to the largest Id first.
    private static let lastIdSQL =
        "SELECT max((SELECT value FROM counter WHERE name = 'jobId'), coalesce((SELECT max(id) FROM job), 0))"
    /// The counter up to the largest stored Id, written only when it is below it.
    private static let counterUpSQL =
        "UPDATE counter SET value = (SELECT max(id) FROM job) WHERE name = 'jobId' AND value < (SELECT max(id) FROM job)"

    /// Stores a new parent and its children, taking their Ids after the last one given out: the
    /// parent first, then each child in order. Children get the name `Job<Id>`, and so
    /// does the parent unless it has a name. Returns them with their Ids.
    package func create(parent: StoredJob, children: [StoredJob], environment: [String]) throws -> [StoredJob] {
        let blob = Self.encode(environment)
        return try write { db in
            let last = try Int.fetchOne(db.cachedStatement(sql: Self.lastIdSQL)) ?? 0
            var made: [StoredJob] = []
            var parentRow = parent
            parentRow.id = last + 1
            if parentRow.name.isEmpty { parentRow.name = "Job\(parentRow.id)" }
            made.append(parentRow)
            for (offset, child) in children.enumerated() {
                var row = child
                row.id = last + 2 + offset
                row.parentId = parentRow.id
                if row.placement == .parent { row.placement = .local }
                row.name = "Job\(row.id)"
                made.append(row)
            }
            let batch = StartBatch(made)
            for row in made { try Self.insert(row, environment: batch.keepsEnvironment(row) ? blob : nil, in: db) }
            return made
        }
    }

    /// Stores jobs whose Ids were already given out (see `lastId()`), in one transaction: the
    /// largest stored Id is the last one given out from then on.
    package func insert(_ made: [StoredJob], environment: [String]) throws {
        let blob = Self.encode(environment)
        try write { db in
            let batch = StartBatch(made)
            for row in made { try Self.insert(row, environment: batch.keepsEnvironment(row) ? blob : nil, in: db) }
        }
    }

    /// Writes back the mutable columns of these jobs in one transaction, noting that the files
    /// of `removing` (InstanceIds) are to be deleted (see `delete(ids:removing:)`).
    package func update(_ jobs: [StoredJob], removing: [String] = []) throws {
        guard !jobs.isEmpty else { return }
        try write { db in
            try self.noteRemovals(removing, in: db)
            for job in jobs {
                var row = try BoundRow(db.cachedStatement(sql: Self.updateSQL))
                row.bindProgress(job)
                row.bind(job.pidStart)
                row.bind(job.timedOut)
                row.bind(Self.idList(job.after))
                row.bind(Self.idList(job.afterAny))
                row.bind(job.suspendedAt?.timeIntervalSince1970)
                row.bind(job.suspendedFor)
                row.bind(job.outputCapped)
                row.bind(job.instanceId)
                row.bind(job.restarts)
                row.bind(job.history.isEmpty ? nil : job.history.joined(separator: ","))
                row.bind(job.disconnectedAt?.timeIntervalSince1970)
                row.bind(job.name)
                row.bind(job.schedulerJobId)
                row.bind(job.id)
                try row.run(in: db)
            }
        }
    }

    private static let updateSQL = """
        UPDATE job SET state = ?, stopRequested = ?, reason = ?, exitStatus = ?, signal = ?,
        pid = ?, waiterPid = ?, waiterStart = ?, bootId = ?, beginTime = ?, endTime = ?,
        outputRead = ?, errorRead = ?, outputSize = ?, errorSize = ?, pidStart = ?, timedOut = ?,
        after = ?, afterAny = ?, suspendedAt = ?, suspendedFor = ?, outputCapped = ?, instanceId = ?,
        restarts = ?, history = ?, disconnectedAt = ?, name = ?, schedulerJobId = ? WHERE id = ?
        """

    /// Deletes these jobs (with their children), noting in the same transaction that the files
    /// of `removing` (InstanceIds) are to be deleted: the caller deletes them once this
    /// commits, and a next agent finishes that if it was cut short. Files no such note names
    /// are never deleted on the store's word (`pendingRemovals`).
    package func delete(ids: [Int], removing: [String] = []) throws {
        guard !ids.isEmpty else { return }
        try write { db in
            try self.noteRemovals(removing, in: db)
            // The counter keeps the Ids of the jobs removed now (see `lastIdSQL`).
            try db.cachedStatement(sql: Self.counterUpSQL).execute()
            for id in ids {
                try db.execute(sql: "DELETE FROM job WHERE id = ? OR parentId = ?", arguments: [id, id])
            }
        }
    }

    /// One queue group's settings as stored.
    package struct GroupRow: Equatable, Sendable {
        package var name: String
        package var maxRunning: Int
        package var paused: Bool
        package init(name: String, maxRunning: Int, paused: Bool) {
            self.name = name
            self.maxRunning = maxRunning
            self.paused = paused
        }
    }

    /// The queue groups that have settings, by name.
    package func groups() throws -> [GroupRow] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT name, maxRunning, paused FROM queueGroup ORDER BY name").map {
                GroupRow(name: $0["name"], maxRunning: $0["maxRunning"], paused: $0["paused"])
            }
        }
    }

    /// Stores a group's settings, or forgets them (`nil`: no limit, not paused, as a group
    /// never set).
    package func setGroup(_ name: String, _ row: GroupRow?) throws {
        try write { db in
            if let row {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO queueGroup (name, maxRunning, paused) VALUES (?, ?, ?)",
                    arguments: [name, row.maxRunning, row.paused])
            } else {
                try db.execute(sql: "DELETE FROM queueGroup WHERE name = ?", arguments: [name])
            }
        }
    }

    /// The environment a child was started with: stored privately, never printed. Its own row
    /// has it when it was stored alone (and in stores written before the parent kept it), else
    /// its parent's row.
    package func environment(of id: Int) throws -> [String] {
        let blob = try queue.read { db in
            try Data.fetchOne(
                db,
                sql: """
                    SELECT coalesce(child.environment, parent.environment) FROM job AS child
                    LEFT JOIN job AS parent ON parent.id = child.parentId WHERE child.id = ?
                    """, arguments: [id])
        }
        return Self.decode(blob)
    }

    /// The rows of one start, and which of them keeps its environment: the parent, once for
    /// all its children (an array of a thousand tasks writes it once, not a thousand times),
    /// when it is stored with them; else each child.
    struct StartBatch {
        let ids: Set<Int>
        let parents: Set<Int>

        init(_ made: [StoredJob]) {
            ids = Set(made.map(\.id))
            parents = Set(made.compactMap(\.parentId))
        }

        func keepsEnvironment(_ row: StoredJob) -> Bool {
            guard let parent = row.parentId else { return parents.contains(row.id) }
            return !ids.contains(parent)
        }
    }

    static func decode(_ blob: Data?) -> [String] {
        guard let blob else { return [] }
        return blob.split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    /// Job Ids as a column keeps them: `12,14`, or NULL for none.
    static func idList(_ ids: [Int]) -> String? { ids.isEmpty ? nil : ids.map(String.init).joined(separator: ",") }

    static func ids(_ text: String?) -> [Int] { text?.split(separator: ",").compactMap { Int($0) } ?? [] }

    /// `KEY=VALUE` entries, each ended by a NUL byte (which no entry can hold).
    static func encode(_ environment: [String]) -> Data {
        // Gathered in an array, then copied once: `Data.append` of a string's bytes went
        // through Data's generic path for every entry (a tenth of a start's work in the agent).
        var bytes: [UInt8] = []
        bytes.reserveCapacity(environment.reduce(0) { $0 + $1.utf8.count + 1 })
        for entry in environment {
            bytes.append(contentsOf: entry.utf8)
            bytes.append(0)
        }
        return Data(bytes)
    }

    /// Replaces the noted removals with these: the last ones' files were deleted right after
    /// their commit (or by `adopt` at the start of this agent), before this transaction.
    private func noteRemovals(_ instanceIds: [String], in db: Database) throws {
        // Most transactions have none to note and none to clear: no statement then.
        guard !instanceIds.isEmpty || removalsNoted.withLock({ $0 }) else { return }
        try db.cachedStatement(sql: "DELETE FROM removal").execute()
        removalsNoted.withLock { $0 = !instanceIds.isEmpty }
        for instanceId in instanceIds {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO removal (instanceId) VALUES (?)")
                .execute(arguments: [instanceId])
        }
    }

    /// The InstanceIds whose files the last remove or restart was to delete.
    package func pendingRemovals() throws -> [String] {
        try queue.read { db in try String.fetchAll(db, sql: "SELECT instanceId FROM removal") }
    }

    /// Forgets the noted removals once their files are deleted.
    package func clearRemovals() throws {
        try write { db in try self.noteRemovals([], in: db) }
    }

    /// Moves the Id counter up to at least `floor` (Ids that files or monitors of the home
    /// still carry are never given out again).
    package func raiseLastId(to floor: Int) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE counter SET value = max(value, ?) WHERE name = 'jobId'", arguments: [floor])
        }
    }

    /// Copies the write-ahead log into the main file and empties it, so that the main file
    /// alone holds every job: a copy of it is a whole backup, and a log lost or damaged
    /// takes nothing back. At a clean stop and when the agent has been idle a little.
    package func checkpoint() {
        let done: Void? = try? queue.writeWithoutTransaction { db in
            // The counter up to the largest Id first, so that the main file alone says which
            // Ids were given out, to any reader (an agent of an earlier version reads the counter).
            // (On a full disk the checkpoint still runs: it frees the log.)
            try? db.cachedStatement(sql: Self.counterUpSQL).execute()
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        if done != nil { unsaved.withLock { $0 = (0, Self.now()) } }
    }

    /// Checkpoints when something was committed since the last checkpoint and that was at
    /// least `interval` seconds ago; whether it did.
    package func checkpointIfDue(interval: Double) -> Bool {
        let due = unsaved.withLock { $0.commits > 0 && Self.now() - $0.checkpointAt >= interval }
        if due { checkpoint() }
        return due
    }

    /// Whether something was committed since the last checkpoint.
    package var hasUncheckpointed: Bool { unsaved.withLock { $0.commits > 0 } }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Stores rows read from a damaged store (see `StoreRecovery`): each with the columns this
    /// store has, one at a time, so that a row that cannot be stored (a child whose parent was
    /// lost) costs only itself; then the groups, and the counter at least `lastId`.
    func copy(rows: [Row], columns: [String], groups: [Row], lastId: Int, recovered: inout Int) throws {
        let known = try queue.read { db in Set(try db.columns(in: "job").map(\.name)) }
        let names = columns.filter { known.contains($0) }
        guard !names.isEmpty else { return try raiseLastId(to: lastId) }
        let sql =
            "INSERT INTO job (\(names.joined(separator: ", "))) VALUES (\(names.map { _ in "?" }.joined(separator: ", ")))"
        for row in rows {
            let values = names.map { row[$0] as DatabaseValue }
            let stored: Void? = try? write { db in try db.execute(sql: sql, arguments: StatementArguments(values)) }
            if stored != nil { recovered += 1 }
        }
        for group in groups {
            _ = try? write { db in
                try db.execute(
                    sql: "INSERT OR REPLACE INTO queueGroup (name, maxRunning, paused) VALUES (?, ?, ?)",
                    arguments: [
                        group["name"] as DatabaseValue, group["maxRunning"] as DatabaseValue,
                        group["paused"] as DatabaseValue,
                    ])
            }
        }
        try raiseLastId(to: lastId)
        checkpoint()
    }

    /// The last Id handed out.
    package func lastId() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: Self.lastIdSQL) ?? 0 }
    }

    private static func insert(_ job: StoredJob, environment: Data?, in db: Database) throws {
        var row = try BoundRow(db.cachedStatement(sql: insertSQL))
        row.bind(job.id)
        row.bind(job.parentId)
        row.bind(job.instanceId)
        row.bind(job.name)
        row.bind(job.type)
        row.bind(job.location)
        row.bind(job.computer)
        row.bind(job.command)
        row.bind(job.workingDirectory)
        row.bind(job.shell)
        row.bind(environment)
        row.bindProgress(job)
        row.bind(job.throttleLimit)
        row.bind(Self.encode(job.sshOptions))
        row.bind(Self.encode(job.remoteEnvironment))
        row.bind(job.session)
        row.bind(job.pidStart)
        row.bind(job.queueGroup)
        row.bind(Self.idList(job.after))
        row.bind(Self.idList(job.afterAny))
        row.bind(job.notBefore?.timeIntervalSince1970)
        row.bind(job.timeout)
        row.bind(job.timedOut)
        row.bind(job.umask)
        row.bind(job.maxOutput)
        row.bind(job.stopGrace)
        row.bind(job.inputFile)
        row.bind(job.deploy ? 2 : job.durable ? 1 : 0)
        row.bind(job.scheduler)
        row.bind(job.schedulerJobId)
        row.bind(job.schedulerOptions.isEmpty ? nil : Self.encode(job.schedulerOptions))
        try row.run(in: db)
    }

    private static let insertSQL = """
        INSERT INTO job (id, parentId, instanceId, name, type, location, computer, command,
        workingDirectory, shell, environment, state, stopRequested, reason, exitStatus, signal, pid,
        waiterPid, waiterStart, bootId, beginTime, endTime, outputRead, errorRead, outputSize, errorSize,
        throttleLimit, sshOptions, remoteEnvironment, session, pidStart, queueGroup, after, afterAny,
        notBefore, timeout, timedOut, umask, maxOutput, stopGrace, inputFile, durable, scheduler,
        schedulerJobId, schedulerOptions)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
        ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    private static func job(from row: Row) -> StoredJob {
        var job = StoredJob(
            id: row["id"], parentId: row["parentId"], instanceId: row["instanceId"], name: row["name"],
            type: row["type"], location: row["location"], computer: row["computer"], command: row["command"],
            workingDirectory: row["workingDirectory"], shell: row["shell"],
            state: JobState(rawValue: row["state"]) ?? .failed)
        job.stopRequested = row["stopRequested"]
        job.reason = row["reason"]
        job.exitStatus = row["exitStatus"]
        job.signal = row["signal"]
        job.pid = row["pid"]
        job.waiterPid = row["waiterPid"]
        job.waiterStart = row["waiterStart"]
        job.bootId = row["bootId"]
        job.beginTime = (row["beginTime"] as Double?).map(Date.init(timeIntervalSince1970:))
        job.endTime = (row["endTime"] as Double?).map(Date.init(timeIntervalSince1970:))
        job.outputRead = row["outputRead"]
        job.errorRead = row["errorRead"]
        job.outputSize = row["outputSize"]
        job.errorSize = row["errorSize"]
        job.throttleLimit = row["throttleLimit"]
        job.sshOptions = decode(row["sshOptions"])
        job.remoteEnvironment = decode(row["remoteEnvironment"])
        job.session = row["session"]
        job.queueGroup = row["queueGroup"]
        job.after = ids(row["after"])
        job.afterAny = ids(row["afterAny"])
        job.notBefore = (row["notBefore"] as Double?).map(Date.init(timeIntervalSince1970:))
        job.timeout = row["timeout"]
        job.timedOut = row["timedOut"]
        job.umask = row["umask"]
        job.suspendedAt = (row["suspendedAt"] as Double?).map(Date.init(timeIntervalSince1970:))
        job.suspendedFor = row["suspendedFor"]
        job.maxOutput = row["maxOutput"]
        job.outputCapped = row["outputCapped"]
        job.restarts = row["restarts"]
        job.stopGrace = row["stopGrace"]
        job.inputFile = row["inputFile"]
        let durable: Int = row["durable"]
        job.durable = durable >= 1
        job.deploy = durable == 2
        job.disconnectedAt = (row["disconnectedAt"] as Double?).map(Date.init(timeIntervalSince1970:))
        job.history = (row["history"] as String?)?.split(separator: ",").map(String.init) ?? []
        job.scheduler = row["scheduler"]
        job.schedulerJobId = row["schedulerJobId"]
        job.schedulerOptions = decode(row["schedulerOptions"])
        // Worked out once here; the Location is not parsed again to tell.
        // A scheduler's child submitted by another computer's agent (durable) runs there.
        if job.parentId != nil {
            job.placement =
                job.scheduler != nil && !job.durable
                ? .slurm
                : job.session != nil
                    ? .session : (try? ComputerName(job.location)).map { $0.isLocal ? .local : .remote } ?? .local
        }
        job.pidStart = row["pidStart"]
        return job
    }
}
