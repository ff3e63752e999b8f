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
import JobClient
import JobCore

#if canImport(Glibc)
    import Glibc
#endif

/// The user's defaults for this command (`JobSettings`: the config file, then the
/// environment), read once, when a verb first needs one. The client does not parse TOML: it
/// reads `JOB_HOME/config.cache`, which `job-agent settings` writes from the file whenever the
/// file changed (its inode, size or time), so the usual cost is a `stat` and a small read. A
/// file that cannot be used is bad usage (exit 2), named with its line and key.
enum UserSettings {
    nonisolated(unsafe) private static var loaded: JobSettings?

    static func current() throws -> JobSettings {
        if let loaded { return loaded }
        do {
            var settings = try fileSettings()
            try settings.applyEnvironment(ProcessEnvironment.variable)
            loaded = settings
            return settings
        } catch {
            throw CLIFailure.usage("\(error.description); fix the file, or move it away")
        }
    }

    /// The file's settings: none without a file; from the cache when it was written for this
    /// version of the file, else parsed anew by `job-agent settings`.
    private static func fileSettings() throws(SettingsError) -> JobSettings {
        guard let path = JobSettings.path(environment: ProcessEnvironment.variable),
            let stamp = JobSettings.stamp(of: path)
        else { return JobSettings() }
        let home = JobHome.resolve(ProcessEnvironment.variable)
        let cache = home.path + "/config.cache"
        if let text = readText(cache), let settings = try JobSettings.cached(text, stamp: stamp, path: path) {
            return settings
        }
        _ = mkdir(home.path, 0o700)
        let agent = JobClient.defaultAgentExecutable()
        _ = withCStringArray(["job-agent", "settings", path, cache]) { cjob_run_quiet(agent, $0) }
        if let text = readText(cache), let settings = try JobSettings.cached(text, stamp: stamp, path: path) {
            return settings
        }
        throw SettingsError("\(path): could not be read (\(agent) settings wrote no answer)")
    }
}
