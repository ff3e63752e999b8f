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

/// The files of child jobs under `JOB_HOME/jobs`: each child's stdout and stderr (written by
/// its process, or by its session's shell) and, for a remote child, ssh's own messages. The
/// one place that names them, measures them and deletes them.
struct OutputFiles {
    let home: JobHome

    /// Where a child's streams go and the name of its monitor.
    func paths(_ instanceId: String) -> LaunchPaths { LaunchPaths(home: home, instanceId: instanceId) }

    /// ssh's own messages for a remote child (its diagnosis when ssh fails).
    func sshLog(_ instanceId: String) -> String { home.sshLogPath(instanceId) }

    /// The sizes of a child's two streams now (0 for a file not made yet).
    func sizes(_ instanceId: String) -> (output: Int64, error: Int64) {
        (Self.size(home.outputPath(instanceId)), Self.size(home.errorPath(instanceId)))
    }

    static func size(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// Deletes a removed child's files.
    func delete(_ instanceId: String) {
        unlink(home.outputPath(instanceId))
        unlink(home.errorPath(instanceId))
        unlink(home.sshLogPath(instanceId))
        unlink(home.inputPath(instanceId))
    }

    /// Where files of jobs the store does not know are kept.
    var lostAndFound: String { home.jobsPath + "/lost+found" }

    /// The names of the files that belong to none of `known` (InstanceIds). Read entry by
    /// entry: a home of 100,000 jobs holds 200,000 files.
    func strayNames(keeping known: Set<InstanceKey>) -> [String] {
        guard let folder = opendir(home.jobsPath) else { return [] }
        var stray: [String] = []
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let dot = name.lastIndex(of: "."), [".out", ".err", ".ssh", ".in"].contains(name[dot...]) else {
                continue
            }
            if !known.contains(InstanceKey(String(name[..<dot]))) { stray.append(name) }
        }
        closedir(folder)
        return stray
    }

    /// Moves these files of the jobs folder to `lostAndFound`; returns how many it moved.
    func moveToLostAndFound(_ stray: [String]) -> Int {
        guard !stray.isEmpty else { return 0 }
        _ = mkdir(lostAndFound, 0o700)
        var moved = 0
        for name in stray {
            var target = lostAndFound + "/" + name
            var copy = 1
            while access(target, F_OK) == 0 {
                copy += 1
                target = lostAndFound + "/" + name + ".\(copy)"
            }
            if rename(home.jobsPath + "/" + name, target) == 0 { moved += 1 }
        }
        return moved
    }
}
