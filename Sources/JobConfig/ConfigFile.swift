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

import JobCore
import TOMLKit

#if canImport(Glibc)
    import Glibc
#endif

/// The config file read with TOMLKit: only the agent's program links this (TOMLKit brings full
/// Foundation, which the client does without). An unknown key, a value of the wrong kind or a
/// bad value is an error that names the file, the line and the key; nothing is half-applied.
extension JobSettings {
    /// The settings: built-in defaults, the file if there is one, then the environment's
    /// `JOB_MAX_OUTPUT` and `JOB_REMOVE_AFTER`.
    package static func load(environment: (String) -> String?) throws(SettingsError) -> JobSettings {
        var settings = JobSettings()
        if let path = path(environment: environment), let text = readText(path) {
            try settings.apply(file: text, path: path)
        }
        try settings.applyEnvironment(environment)
        return settings
    }

    /// `job-agent settings PATH CACHE`: parses the file and writes the cache the client reads
    /// (atomically: a new file renamed over the old), its error included.
    package static func writeCache(file path: String, cache: String) {
        guard let stamp = stamp(of: path) else { return }
        var settings = JobSettings()
        let result: Result<JobSettings, SettingsError>
        if let text = readText(path) {
            do {
                try settings.apply(file: text, path: path)
                result = .success(settings)
            } catch {
                result = .failure(error)
            }
        } else {
            result = .failure(SettingsError("\(path): cannot be read: \(String(cString: strerror(errno)))"))
        }
        let text = cacheText(stamp: stamp, file: result)
        let temporary = cache + ".\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        let written = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        if written == text.utf8.count { rename(temporary, cache) } else { unlink(temporary) }
    }

    /// Applies a file's text over these settings.
    mutating func apply(file text: String, path: String) throws(SettingsError) {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw SettingsError("\(path):\(error.source.begin.line): \(error.description)")
        } catch {
            throw SettingsError("\(path): \(error)")
        }
        var next = self
        for key in table.keys.sorted(by: { Self.line(of: $0, in: text) < Self.line(of: $1, in: text) }) {
            let line = Self.line(of: key, in: text)
            let source = Source.file(path: path, line: line)
            func bad(_ what: String) -> SettingsError { SettingsError("\(path):\(line): \(key): \(what)") }
            guard let value = table[key] else { continue }
            switch key {
            case "grace":
                guard let seconds = Self.seconds(value, zero: true) else {
                    throw bad("takes seconds (a number) or a duration such as \"10s\", 0 or more and at most 3650d")
                }
                next.grace = Setting(value: seconds, source: source)
            case "throttle-limit":
                guard let number = value.int, (1...1_000_000_000).contains(number) else {
                    throw bad("takes a whole number from 1 to 1000000000")
                }
                next.throttleLimit = Setting(value: number, source: source)
            case "shell":
                guard let shell = value.string, shell.hasPrefix("/") else {
                    throw bad("takes the absolute path of a shell, such as \"/bin/bash\"")
                }
                next.shell = Setting(value: shell, source: source)
            case "ssh-options":
                guard let array = value.array else {
                    throw bad("takes a list of ssh options, such as [\"-oPort=2222\"]")
                }
                var options: [String] = []
                for element in array {
                    guard let option = element.string else { throw bad("takes a list of strings") }
                    do {
                        try InputCheck.sshOption(option)
                    } catch {
                        throw bad("\(error)")
                    }
                    options.append(option)
                }
                next.sshOptions = Setting(value: options, source: source)
            case "sbatch-options":
                guard let array = value.array else {
                    throw bad("takes a list of sbatch options, such as [\"--partition=short\", \"--mem=4G\"]")
                }
                var options: [String] = []
                for element in array {
                    guard let option = element.string, option.hasPrefix("-"), !option.contains("\n") else {
                        throw bad("takes a list of sbatch options, each starting with -")
                    }
                    options.append(option)
                }
                next.sbatchOptions = Setting(value: options, source: source)
            case "color":
                guard let choice = value.string, ["auto", "always", "never"].contains(choice) else {
                    throw bad("takes \"auto\", \"always\" or \"never\"")
                }
                next.color = Setting(value: choice, source: source)
            case "max-output":
                let bytes = value.int.map(Int64.init) ?? value.string.flatMap(SizeText.bytes)
                guard let bytes, bytes > 0 else { throw bad("takes a size such as \"500K\", \"1M\", \"2G\" or bytes") }
                next.maxOutput = Setting(value: bytes, source: source)
            case "remove-after":
                guard let seconds = Self.seconds(value) else {
                    throw bad(
                        "takes a duration such as \"12h\" or \"7d\" (\(DurationText.units)), \(DurationText.range)")
                }
                next.removeAfter = Setting(value: seconds, source: source)
            case "reconnect-for":
                guard let seconds = Self.seconds(value) else {
                    throw bad(
                        "takes a duration such as \"30m\" or \"2h\" (\(DurationText.units)), \(DurationText.range)")
                }
                next.reconnectFor = Setting(value: seconds, source: source)
            default:
                throw bad("is not a setting; the settings are " + Self.keys.joined(separator: ", "))
            }
        }
        self = next
    }

    /// Seconds from a number or a duration's text, within `DurationText`'s range (0 too where
    /// `zero` allows it); nil otherwise.
    static func seconds(_ value: TOMLValueConvertible, zero: Bool = false) -> Double? {
        let seconds: Double?
        if let number = value.int {
            seconds = Double(number)
        } else if let number = value.double {
            seconds = number
        } else if zero, value.string.flatMap(Double.init) == 0 {
            seconds = 0
        } else {
            seconds = value.string.flatMap(DurationText.seconds)
        }
        guard let seconds, DurationText.isAllowed(seconds, zero: zero) else { return nil }
        return seconds
    }

    /// The line where a key is set (TOML keys here are bare words at the start of a line).
    static func line(of key: String, in text: String) -> Int {
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            guard trimmed.hasPrefix(key) else { continue }
            let rest = trimmed.dropFirst(key.count).drop { $0 == " " || $0 == "\t" }
            if rest.hasPrefix("=") { return index + 1 }
        }
        return 0
    }
}
