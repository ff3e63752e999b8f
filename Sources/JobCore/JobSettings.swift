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

#if canImport(Glibc)
    import Glibc
#endif

/// The user's defaults: `$XDG_CONFIG_HOME/job/config.toml` (else `~/.config/job/config.toml`),
/// then the environment over it, then the command line over both. Each setting remembers where
/// its value came from, for `job config`. The file is TOML, one key per setting, no sections:
///
///     grace = "10s"            # stop's TERM-to-KILL time
///     throttle-limit = 8       # invoke: computers at once
///     shell = "/bin/bash"      # start, session new: the shell that runs commands
///     ssh-options = ["-oPort=2222"]
///     color = "never"          # auto, always, never
///     max-output = "1G"        # start, invoke: the output cap
///     remove-after = "7d"      # the agent: remove jobs that ended longer ago
///     sbatch-options = ["--partition=short"]   # start --scheduler slurm: sbatch's defaults
///
/// The file is parsed by `JobConfig` (TOMLKit), which only the agent's program links: the client
/// stays small and quick, and reads the file's settings from a cache that `job-agent settings`
/// writes when the file changed (`JobSettings.cached`).
package struct JobSettings: Sendable {
    /// Where a value came from.
    package enum Source: Sendable, Equatable, CustomStringConvertible {
        case builtIn
        case file(path: String, line: Int)
        case environment(String)

        package var description: String {
            switch self {
            case .builtIn: "default"
            case .file(let path, let line): "\(path):\(line)"
            case .environment(let name): "environment (\(name))"
            }
        }
    }

    /// A value and its source.
    package struct Setting<Value: Sendable>: Sendable {
        package var value: Value
        package var source: Source
        package init(value: Value, source: Source) {
            self.value = value
            self.source = source
        }
    }

    package var grace = Setting(value: 5.0, source: .builtIn)
    package var throttleLimit = Setting(value: 32, source: .builtIn)
    package var shell = Setting(value: "/bin/sh", source: .builtIn)
    package var sshOptions = Setting(value: [String](), source: .builtIn)
    package var color = Setting(value: "auto", source: .builtIn)
    package var maxOutput = Setting<Int64?>(value: nil, source: .builtIn)
    package var removeAfter = Setting<Double?>(value: nil, source: .builtIn)
    /// How long a durable child whose link is lost keeps trying to reach its computer again.
    package var reconnectFor = Setting(value: 3600.0, source: .builtIn)
    /// sbatch's options for every `start --scheduler slurm`; `--sbatch-option` adds to them.
    package var sbatchOptions = Setting(value: [String](), source: .builtIn)

    /// The keys of the file, in the order `job config` shows them.
    package static let keys = [
        "grace", "throttle-limit", "shell", "ssh-options", "color", "max-output", "remove-after", "reconnect-for",
        "sbatch-options",
    ]

    package init() {}

    /// The file's path: `$XDG_CONFIG_HOME/job/config.toml`, else `$HOME/.config/job/config.toml`.
    package static func path(environment: (String) -> String?) -> String? {
        if let base = environment("XDG_CONFIG_HOME"), base.hasPrefix("/") { return base + "/job/config.toml" }
        if let home = environment("HOME"), home.hasPrefix("/") { return home + "/.config/job/config.toml" }
        return nil
    }

    /// `JOB_MAX_OUTPUT`, `JOB_REMOVE_AFTER` and `JOB_RECONNECT_FOR` over these settings.
    package mutating func applyEnvironment(_ environment: (String) -> String?) throws(SettingsError) {
        if let text = environment("JOB_MAX_OUTPUT"), !text.isEmpty {
            guard let bytes = SizeText.bytes(text) else {
                throw SettingsError(
                    "JOB_MAX_OUTPUT takes a size such as 500K, 1M, 2G or a number of bytes, not '\(text)'")
            }
            maxOutput = Setting(value: bytes, source: .environment("JOB_MAX_OUTPUT"))
        }
        if let text = environment("JOB_REMOVE_AFTER"), !text.isEmpty {
            guard let seconds = DurationText.seconds(text) else {
                throw SettingsError(
                    "JOB_REMOVE_AFTER takes a duration such as 12h or 7d (\(DurationText.units)), "
                        + "\(DurationText.range), not '\(text)'")
            }
            removeAfter = Setting(value: seconds, source: .environment("JOB_REMOVE_AFTER"))
        }
        if let text = environment("JOB_RECONNECT_FOR"), !text.isEmpty {
            guard let seconds = DurationText.seconds(text) else {
                throw SettingsError(
                    "JOB_RECONNECT_FOR takes a duration such as 30m or 2h (\(DurationText.units)), "
                        + "\(DurationText.range), not '\(text)'")
            }
            reconnectFor = Setting(value: seconds, source: .environment("JOB_RECONNECT_FOR"))
        }
    }

    // MARK: - The cache of a parsed file

    /// What tells one version of the file from the next: its path, inode, size and change time.
    package static func stamp(of path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return "\(path)\t\(info.st_ino)\t\(info.st_size)\t\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }

    /// The cache's text: the stamp, then `key TAB line TAB value` for each setting the file
    /// gave (lists joined by U+001F), or `error TAB message`; then `end`, so that a cache cut
    /// short (a full disk, a crash while writing) is never read as a file without settings.
    package static func cacheText(stamp: String, file: Result<JobSettings, SettingsError>) -> String {
        var lines = [stamp]
        switch file {
        case .failure(let error):
            lines.append("error\t" + error.description.split(separator: "\n").joined(separator: " "))
        case .success(let settings):
            func add(_ key: String, _ source: Source, _ value: String) {
                if case .file(_, let line) = source { lines.append("\(key)\t\(line)\t\(value)") }
            }
            add("grace", settings.grace.source, String(settings.grace.value))
            add("throttle-limit", settings.throttleLimit.source, String(settings.throttleLimit.value))
            add("shell", settings.shell.source, settings.shell.value)
            add("ssh-options", settings.sshOptions.source, settings.sshOptions.value.joined(separator: "\u{1F}"))
            add("color", settings.color.source, settings.color.value)
            add("max-output", settings.maxOutput.source, settings.maxOutput.value.map(String.init) ?? "")
            add("remove-after", settings.removeAfter.source, settings.removeAfter.value.map { String($0) } ?? "")
            add("reconnect-for", settings.reconnectFor.source, String(settings.reconnectFor.value))
            add(
                "sbatch-options", settings.sbatchOptions.source,
                settings.sbatchOptions.value.joined(separator: "\u{1F}"))
        }
        lines.append("end")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The file's settings from a cache written for this stamp; nil when the cache is for
    /// another version of the file, or none, or cannot be read (it is then written anew).
    /// Throws the file's error when it had one.
    package static func cached(_ text: String, stamp: String, path: String) throws(SettingsError) -> JobSettings? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.first == stamp else { return nil }
        lines.removeFirst()
        while lines.last == "" { lines.removeLast() }
        guard lines.last == "end" else { return nil }
        lines.removeLast()
        var settings = JobSettings()
        for line in lines where !line.isEmpty {
            let parts = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            if parts.first == "error" { throw SettingsError(parts.dropFirst().joined(separator: "\t")) }
            guard parts.count == 3, let number = Int(parts[1]) else { return nil }
            let source = Source.file(path: path, line: number)
            let value = parts[2]
            // Checked as strictly as the file: a value out of range makes the cache unusable,
            // and it is written anew from the file.
            func seconds(zero: Bool = false) -> Double? {
                guard let seconds = Double(value), DurationText.isAllowed(seconds, zero: zero) else { return nil }
                return seconds
            }
            switch parts[0] {
            case "grace":
                guard let seconds = seconds(zero: true) else { return nil }
                settings.grace = Setting(value: seconds, source: source)
            case "throttle-limit":
                guard let number = Int(value), (1...1_000_000_000).contains(number) else { return nil }
                settings.throttleLimit = Setting(value: number, source: source)
            case "shell": settings.shell = Setting(value: value, source: source)
            case "ssh-options":
                settings.sshOptions = Setting(
                    value: value.split(separator: "\u{1F}").map(String.init), source: source)
            case "color": settings.color = Setting(value: value, source: source)
            case "max-output":
                guard let bytes = Int64(value), bytes > 0 else { return nil }
                settings.maxOutput = Setting(value: bytes, source: source)
            case "remove-after":
                guard let seconds = seconds() else { return nil }
                settings.removeAfter = Setting(value: seconds, source: source)
            case "reconnect-for":
                guard let seconds = seconds() else { return nil }
                settings.reconnectFor = Setting(value: seconds, source: source)
            case "sbatch-options":
                settings.sbatchOptions = Setting(
                    value: value.split(separator: "\u{1F}").map(String.init), source: source)
            default: return nil
            }
        }
        return settings
    }
}

/// A setting that cannot be used, and where it is.
package struct SettingsError: Error, CustomStringConvertible, Sendable {
    package var description: String
    package init(_ description: String) { self.description = description }
}
