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

/// Facts about processes read from /proc.
enum ProcFS {
    /// The kernel's id of this boot: a job recorded as running under another boot id was
    /// running when the machine restarted.
    static func bootId() -> String {
        (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
    }

    /// Fields of /proc/PID/stat after the command name: index 0 is the state (field 3).
    static func statFields(_ pid: Int) -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    /// The start time of a process in clock ticks since boot (field 22), to tell a process
    /// from a later one that got the same pid.
    static func startTime(_ pid: Int) -> Int64? {
        guard let fields = statFields(pid), fields.count > 19 else { return nil }
        return Int64(fields[19])
    }

    /// Whether any process that is not a zombie is still in the process group.
    static func groupHasLiveMembers(_ pgid: Int) -> Bool {
        guard kill(pid_t(-pgid), 0) == 0 else { return false }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return true }
        for entry in entries {
            guard let pid = Int(entry), let fields = statFields(pid), fields.count > 2 else { continue }
            if Int(fields[2]) == pgid && fields[0] != "Z" && fields[0] != "X" { return true }
        }
        return false
    }

    /// Every descendant of a process (children first found first), from each one's parent pid.
    static func descendants(of root: Int) -> [Int] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var childrenOf: [Int: [Int]] = [:]
        for entry in entries {
            guard let pid = Int(entry), let fields = statFields(pid), fields.count > 1, let parent = Int(fields[1])
            else { continue }
            childrenOf[parent, default: []].append(pid)
        }
        var result: [Int] = []
        var pending = childrenOf[root] ?? []
        while let pid = pending.popLast() {
            result.append(pid)
            pending += childrenOf[pid] ?? []
        }
        return result
    }
}
