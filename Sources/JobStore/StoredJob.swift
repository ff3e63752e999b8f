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

/// Where a job runs, decided when it is made and kept with it.
package enum Placement: Sendable, Equatable {
    /// A parent, which runs nothing itself.
    case parent
    /// A child run on this computer under its monitor.
    case local
    /// A child run on another computer over ssh, under a monitor here.
    case remote
    /// A child run in a session's shell (`session` says which).
    case session
    /// A child run by a cluster scheduler (Slurm), as a batch job or an array's task.
    case slurm
}

/// One row of the store: a parent or a child job with everything the agent needs to
/// manage it. A parent's state is not stored; it is computed from its children.
///
/// The agent keeps every job in memory, so a row is kept small: the optional numbers are
/// stored in place with a value that means none (a `Date?` or an `Int?` takes 16 bytes, a
/// `Double` or an `Int32` 8 or 4), and an InstanceId in its usual form (a lowercase UUID) is
/// kept as its 16 bytes, not as a 36-character string on the heap. The properties read and
/// write the usual types. What few jobs have (a Reason, a computer, a shell other than
/// `/bin/sh`, an invoke's options) is kept in a box of its own, shared by copies of the row.
package struct StoredJob: Sendable, Equatable {
    package var id: Int
    private var parentStorage = 0
    /// The InstanceId as kept (compared and hashed without making its text).
    package private(set) var instanceKey: InstanceKey
    package var name: String
    package var type: String
    package var location: String
    package var command: String
    package var workingDirectory: String
    package var bootId: String?
    package var outputRead: Int64
    package var errorRead: Int64
    /// Sizes of the output files when last looked at (at the end, and at each receive).
    package var outputSize: Int64
    package var errorSize: Int64
    private var beginStorage = StoredJob.noTime
    private var endStorage = StoredJob.noTime
    private var pidStartStorage = Int64.min
    private var waiterStartStorage = Int64.min
    /// What few jobs have (see `Extras`); nil when none of it is set.
    private var extras: Extras?
    private var exitStatusStorage = Int32.min
    private var signalStorage = Int32.min
    private var pidStorage = Int32.min
    private var waiterPidStorage = Int32.min
    private var sessionStorage = Int32.min
    /// The child's own state; on parents always `NotStarted` (never read).
    package internal(set) var state: JobState
    package var stopRequested: Bool
    package var placement: Placement

    /// On rows from another computer's agent: that computer.
    package var computer: String? {
        get { extras?.fields.computer }
        set { update { $0.computer = newValue } }
    }
    /// The shell the command runs under.
    package var shell: String {
        get { extras?.fields.shell ?? Self.defaultShell }
        set { update { $0.shell = newValue == Self.defaultShell ? nil : newValue } }
    }
    package var reason: String? {
        get { extras?.fields.reason }
        set { update { $0.reason = newValue } }
    }
    /// On `invoke` parents: how many children run at once (0: no limit).
    package var throttleLimit: Int {
        get { extras?.fields.throttleLimit ?? 0 }
        set { update { $0.throttleLimit = newValue } }
    }
    /// On `invoke` parents: extra ssh options, and the `--env` entries for remote commands.
    package var sshOptions: [String] {
        get { extras?.fields.sshOptions ?? [] }
        set { update { $0.sshOptions = newValue } }
    }
    package var remoteEnvironment: [String] {
        get { extras?.fields.remoteEnvironment ?? [] }
        set { update { $0.remoteEnvironment = newValue } }
    }

    /// The queue's group (`--group`); nil: the default group.
    package var queueGroup: String? {
        get { extras?.fields.queueGroup }
        set { update { $0.queueGroup = newValue } }
    }
    /// Jobs that must end Completed before this one starts (`--after`).
    package var after: [Int] {
        get { extras?.fields.after ?? [] }
        set { update { $0.after = newValue } }
    }
    /// Jobs that must end, in any way, before this one starts (`--after-any`).
    package var afterAny: [Int] {
        get { extras?.fields.afterAny ?? [] }
        set { update { $0.afterAny = newValue } }
    }
    /// Not started before this time (`--at`, `--delay`).
    package var notBefore: Date? {
        // Read back held within what a start may ask for today, so a row that an older
        // agent stored with an absurd value (1e16 s) can trap no arithmetic.
        get { extras?.fields.notBefore.map { min($0, Date(timeIntervalSinceNow: DurationText.longest)) } }
        set { update { $0.notBefore = newValue } }
    }
    /// Seconds it may run before it is stopped (`--timeout`).
    package var timeout: Double? {
        get { extras?.fields.timeout.map { $0.isNaN ? DurationText.longest : min(max($0, 0), DurationText.longest) } }
        set { update { $0.timeout = newValue } }
    }
    /// Whether its timeout stopped it (it then ends Failed, "timed out after ...").
    package var timedOut: Bool {
        get { extras?.fields.timedOut ?? false }
        set { update { $0.timedOut = newValue } }
    }
    /// The file mode creation mask of a job started later than it was made (by the queue).
    package var umask: Int? {
        get { extras?.fields.umask }
        set { update { $0.umask = newValue } }
    }

    /// Bytes of stdout and stderr together past which it is stopped (`--max-output`).
    package var maxOutput: Int64? {
        get { extras?.fields.maxOutput }
        set { update { $0.maxOutput = newValue } }
    }
    /// Whether `maxOutput` stopped it (it then ends Failed, "output over 1 GB").
    package var outputCapped: Bool {
        get { extras?.fields.outputCapped ?? false }
        set { update { $0.outputCapped = newValue } }
    }

    /// Seconds between SIGTERM and SIGKILL when its timeout or output cap stops it (`--grace`);
    /// nil: 5.
    package var stopGrace: Double? {
        get { extras?.fields.stopGrace.map { $0.isNaN ? 0 : min(max($0, 0), DurationText.longest) } }
        set { update { $0.stopGrace = newValue } }
    }
    /// The file its stdin was (`--input FILE`), read again from its start by `job restart`;
    /// nil when it had none or read a pipe.
    package var inputFile: String? {
        get { extras?.fields.inputFile }
        set { update { $0.inputFile = newValue } }
    }
    /// A remote child that runs as a job in its computer's own agent and is mirrored here
    /// (`invoke --durable`), so that it outlives a lost link; and its parent.
    package var durable: Bool {
        get { extras?.fields.durable ?? false }
        set { update { $0.durable = newValue } }
    }
    /// A durable child (and its parent) whose link copies this `job` to the computer first
    /// (`invoke --deploy`).
    package var deploy: Bool {
        get { extras?.fields.deploy ?? false }
        set { update { $0.deploy = newValue } }
    }
    /// While a durable child's link is lost: since when (it gives up after a while).
    package var disconnectedAt: Date? {
        get { extras?.fields.disconnectedAt }
        set { update { $0.disconnectedAt = newValue } }
    }
    /// The scheduler that runs it (`slurm`), on such a child and its parent.
    package var scheduler: String? {
        get { extras?.fields.scheduler }
        set { update { $0.scheduler = newValue } }
    }
    /// A scheduler's child: its id there once submitted (`42`, or `42_3` for an array's task).
    package var schedulerJobId: String? {
        get { extras?.fields.schedulerJobId }
        set { update { $0.schedulerJobId = newValue } }
    }
    /// A scheduler's parent: the options its submissions carry (`--sbatch-option`).
    package var schedulerOptions: [String] {
        get { extras?.fields.schedulerOptions ?? [] }
        set { update { $0.schedulerOptions = newValue } }
    }
    /// How many times `job restart` ran it again.
    package var restarts: Int {
        get { extras?.fields.restarts ?? 0 }
        set { update { $0.restarts = newValue } }
    }
    /// The InstanceIds of its earlier runs whose output was kept (`restart --keep-history`).
    package var history: [String] {
        get { extras?.fields.history ?? [] }
        set { update { $0.history = newValue } }
    }

    /// While Suspended: since when.
    package var suspendedAt: Date? {
        get { extras?.fields.suspendedAt }
        set { update { $0.suspendedAt = newValue } }
    }
    /// Seconds it spent Suspended before (its timeout's clock stops meanwhile).
    package var suspendedFor: Double {
        get { extras?.fields.suspendedFor ?? 0 }
        set { update { $0.suspendedFor = newValue } }
    }

    /// The shell a job runs under unless it says otherwise.
    package static let defaultShell = "/bin/sh"

    /// Makes this row share its box of rarely set fields with the rows before it that have
    /// the same (the children of one start, and many starts with the same options, have).
    package mutating func shareExtras(_ pool: inout ExtrasPool) {
        guard let box = extras else { return }
        if let known = pool.boxes[box.fields] {
            extras = known
        } else {
            // Distinct values (Reasons that name hosts) are many; past a bound, start afresh.
            if pool.boxes.count >= ExtrasPool.limit { pool.boxes.removeAll() }
            pool.boxes[box.fields] = box
        }
    }

    /// Changes the fields kept apart: a new box (boxes are never changed, so copies of a row
    /// can share one), or none when nothing is left in it.
    private mutating func update(_ change: (inout ExtraFields) -> Void) {
        var fields = extras?.fields ?? ExtraFields()
        change(&fields)
        extras = fields == ExtraFields() ? nil : Extras(fields)
    }

    package var parentId: Int? {
        get { parentStorage == 0 ? nil : parentStorage }
        set { parentStorage = newValue ?? 0 }
    }
    package var instanceId: String {
        get { instanceKey.text }
        set { instanceKey = InstanceKey(newValue) }
    }
    package var exitStatus: Int? {
        get { Self.number(exitStatusStorage) }
        set { exitStatusStorage = Self.storage(newValue) }
    }
    package var signal: Int? {
        get { Self.number(signalStorage) }
        set { signalStorage = Self.storage(newValue) }
    }
    package var pid: Int? {
        get { Self.number(pidStorage) }
        set { pidStorage = Self.storage(newValue) }
    }
    /// The job's start time in clock ticks since boot: with `pid`, what tells the job from a
    /// later process that got the same pid.
    package var pidStart: Int64? {
        get { pidStartStorage == .min ? nil : pidStartStorage }
        set { pidStartStorage = newValue ?? .min }
    }
    /// The pid of the job's monitor (its parent), for the record; the agent finds the monitor
    /// by name, not by pid.
    package var waiterPid: Int? {
        get { Self.number(waiterPidStorage) }
        set { waiterPidStorage = Self.storage(newValue) }
    }
    package var waiterStart: Int64? {
        get { waiterStartStorage == .min ? nil : waiterStartStorage }
        set { waiterStartStorage = newValue ?? .min }
    }
    package var beginTime: Date? {
        get { Self.date(beginStorage) }
        set { beginStorage = newValue?.timeIntervalSinceReferenceDate ?? Self.noTime }
    }
    package var endTime: Date? {
        get { Self.date(endStorage) }
        set { endStorage = newValue?.timeIntervalSinceReferenceDate ?? Self.noTime }
    }
    /// On a child run in a session: the session's Id (sessions live in the agent, so such a
    /// child can only finish while the agent that started it runs).
    package var session: Int? {
        get { Self.number(sessionStorage) }
        set { sessionStorage = Self.storage(newValue) }
    }

    package init(
        id: Int = 0, parentId: Int? = nil, instanceId: String, name: String = "", type: String,
        location: String, computer: String? = nil, command: String, workingDirectory: String,
        shell: String, state: JobState = .notStarted, placement: Placement? = nil
    ) {
        self.placement = placement ?? (parentId == nil ? .parent : .local)
        self.id = id
        self.parentStorage = parentId ?? 0
        self.instanceKey = InstanceKey(instanceId)
        self.name = name
        self.type = type
        self.location = location
        self.command = command
        self.workingDirectory = workingDirectory
        self.state = state
        self.stopRequested = false
        self.outputRead = 0
        self.errorRead = 0
        self.outputSize = 0
        self.errorSize = 0
        self.computer = computer
        self.shell = shell
    }

    /// No time: no date is that far back.
    private static let noTime = -Double.infinity

    private static func date(_ stored: Double) -> Date? {
        stored == noTime ? nil : Date(timeIntervalSinceReferenceDate: stored)
    }

    /// Pids, exit statuses, signals and session Ids all fit in 32 bits; `Int32.min` is none.
    private static func number(_ stored: Int32) -> Int? { stored == .min ? nil : Int(stored) }

    private static func storage(_ value: Int?) -> Int32 {
        guard let value else { return .min }
        return Int32(clamping: max(value, Int(Int32.min) + 1))
    }
}

/// The fields of a row that few jobs have.
private struct ExtraFields: Hashable, Sendable {
    var computer: String?
    var reason: String?
    /// nil: `StoredJob.defaultShell`.
    var shell: String?
    var throttleLimit = 0
    var sshOptions: [String] = []
    var remoteEnvironment: [String] = []
    var queueGroup: String?
    var after: [Int] = []
    var afterAny: [Int] = []
    var notBefore: Date?
    var timeout: Double?
    var timedOut = false
    var umask: Int?
    var suspendedAt: Date?
    var suspendedFor = 0.0
    var maxOutput: Int64?
    var outputCapped = false
    var restarts = 0
    var history: [String] = []
    var stopGrace: Double?
    var inputFile: String?
    var durable = false
    var deploy = false
    var disconnectedAt: Date?
    var scheduler: String?
    var schedulerJobId: String?
    var schedulerOptions: [String] = []
}

/// The boxes of rarely set fields seen so far, by their contents: equal rows share one
/// (`StoredJob.shareExtras`). The job table keeps one.
package struct ExtrasPool {
    fileprivate var boxes: [ExtraFields: Extras] = [:]
    static let limit = 10000
    package init() {}
}

/// A row's `ExtraFields`, boxed: one pointer in the row instead of 56 bytes, which with
/// 200,000 rows is 10 MB. Never changed once made.
private final class Extras: Equatable, Sendable {
    let fields: ExtraFields
    init(_ fields: ExtraFields) { self.fields = fields }
    static func == (left: Extras, right: Extras) -> Bool { left === right || left.fields == right.fields }
}

/// An InstanceId as it is kept: the 16 bytes of a lowercase UUID (the form this agent gives),
/// or any other text as it is.
package enum InstanceKey: Sendable, Hashable {
    case uuid(UInt64, UInt64)
    case text(String)

    package init(_ text: String) {
        self = Self.uuid(of: text) ?? .text(text)
    }

    /// The two halves of a UUID written `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in lowercase
    /// hex; nil for anything else (so that `text` gives back exactly what was given).
    private static func uuid(of text: String) -> InstanceKey? {
        var text = text
        return text.withUTF8 { bytes -> InstanceKey? in
            guard bytes.count == 36 else { return nil }
            var halves: (UInt64, UInt64) = (0, 0)
            var nibbles = 0
            for (index, byte) in bytes.enumerated() {
                if index == 8 || index == 13 || index == 18 || index == 23 {
                    guard byte == UInt8(ascii: "-") else { return nil }
                    continue
                }
                let value: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): value = byte - UInt8(ascii: "a") + 10
                default: return nil
                }
                if nibbles < 16 {
                    halves.0 = halves.0 << 4 | UInt64(value)
                } else {
                    halves.1 = halves.1 << 4 | UInt64(value)
                }
                nibbles += 1
            }
            return .uuid(halves.0, halves.1)
        }
    }

    package var text: String {
        switch self {
        case .text(let text): return text
        case .uuid(let high, let low):
            return String(unsafeUninitializedCapacity: 36) { buffer in
                var nibble = 0
                for index in 0..<36 {
                    if index == 8 || index == 13 || index == 18 || index == 23 {
                        buffer[index] = UInt8(ascii: "-")
                        continue
                    }
                    let half = nibble < 16 ? high : low
                    let shift = UInt64(60 - 4 * (nibble % 16))
                    let digit = UInt8(half >> shift & 0xF)
                    buffer[index] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
                    nibble += 1
                }
                return 36
            }
        }
    }
}
