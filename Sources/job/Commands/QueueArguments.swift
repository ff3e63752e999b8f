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

import JobClient
import JobCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// The queue's options of `start` and `invoke`: `--timeout`, `--after`, `--after-any`,
/// `--at`, `--delay` and `--group`.
enum QueueArguments {
    static let options: [OptionSpec] = [
        .option(
            "--timeout", "DURATION",
            "stop it after this long (90s, 15m, 2h, or seconds); it then ends Failed, \"timed out after 15m\""),
        .option(
            "--after", "JOB[,JOB...]", completes: .jobs,
            "start it only after these jobs (Ids, names, InstanceIds, %) ended Completed; should one fail, be stopped or removed, it never "
                + "starts (Failed)"),
        .option("--after-any", "JOB[,JOB...]", completes: .jobs, "start it only after these jobs ended, in any way"),
        .option(
            "--at", "TIME",
            "start it then: HH:MM (today, or tomorrow once past) or ISO 8601 (2026-12-01T02:00, local time unless "
                + "it says Z)"),
        .option("--delay", "DURATION", "start it this long from now"),
        .option(
            "--group", "NAME", completes: .groups,
            "run it in this group, whose limit and pause apply (job group set NAME --limit N)"),
        .option(
            "--grace", "SECONDS",
            "when --timeout or --max-output stops it: the time between SIGTERM and SIGKILL (default 5)"),
        .option(
            "--max-output", "SIZE",
            "stop it once its stdout and stderr hold more than SIZE (500K, 1M, 2G or bytes; default "
                + "JOB_MAX_OUTPUT, else max-output in the config file); it then ends Failed, \"output over 1 GB\""),
    ]

    static func parse(_ parsed: ParsedArguments) throws -> JobQueueOptions {
        var queue = JobQueueOptions()
        if let text = parsed.value("--timeout") { queue.timeout = try duration(text, of: "--timeout") }
        queue.after = try jobs(parsed.all("--after"), of: "--after")
        queue.afterAny = try jobs(parsed.all("--after-any"), of: "--after-any")
        if let at = parsed.value("--at") {
            guard parsed.value("--delay") == nil else { throw CLIFailure.usage("--at and --delay do not go together") }
            let when = try time(at)
            guard when.timeIntervalSinceNow <= DurationText.longest else {
                throw CLIFailure.usage("--at takes a time at most 3650d (ten years) from now, not '\(at)'")
            }
            queue.notBefore = when
        } else if let delay = parsed.value("--delay") {
            queue.notBefore = Date(timeIntervalSinceNow: try duration(delay, of: "--delay"))
        }
        if let text = parsed.value("--max-output") {
            guard let bytes = SizeText.bytes(text) else {
                throw CLIFailure.usage(
                    "--max-output takes a size such as 500K, 1M, 2G or a number of bytes, not '\(text)'")
            }
            queue.maxOutput = bytes
        } else {
            // The default: JOB_MAX_OUTPUT, else the config file's max-output.
            queue.maxOutput = try UserSettings.current().maxOutput.value
        }
        if parsed.value("--grace") != nil {
            guard queue.timeout != nil || queue.maxOutput != nil else {
                throw CLIFailure.usage("--grace goes with --timeout or --max-output (the stop they make)")
            }
            queue.stopGrace = try parsed.number("--grace")
        }
        if let group = parsed.value("--group") {
            try CLIFailure.checking { try InputCheck.groupName(group) }
            queue.group = group
        }
        return queue
    }

    static func duration(_ text: String, of option: String) throws -> Double {
        guard let seconds = DurationText.seconds(text) else {
            throw CLIFailure.usage(
                "\(option) takes a duration such as 90s, 15m, 2h or 7d (\(DurationText.units)), "
                    + "\(DurationText.range), not '\(text)'")
        }
        return seconds
    }

    /// The Ids of the jobs `--after` or `--after-any` names: Ids as they are (the agent checks
    /// them as it takes the start), and any other selector (a name, a wildcard, an InstanceId,
    /// `%`) as the agent selects it now, as `job get` would.
    static func jobs(_ texts: [String], of option: String) throws -> [Int] {
        var items: [String] = []
        for text in texts {
            let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard !parts.contains(where: \.isEmpty) else {
                throw CLIFailure.usage(
                    "\(option) takes jobs separated by single commas (12,14 or build,test), not '\(text)'")
            }
            items += parts
        }
        let ids = items.compactMap { Int($0) }.filter { $0 > 0 }
        guard ids.count < items.count else { return ids }
        var selectors = items
        if selectors.contains(Terminal.newestSelector) {
            guard let newest = try Terminal.newestJobs(.every, count: 1).first else {
                throw CLIFailure.failed("\(option) %: % names the newest job, and there is none yet")
            }
            selectors = selectors.map { $0 == Terminal.newestSelector ? String(newest) : $0 }
        }
        let reply = try JobClient().rows(GetRequest(JobSelection(selectors: selectors)))
        guard reply.problems.isEmpty else {
            throw CLIFailure.failed(reply.problems.map { "\($0), which \(option) names" }.joined(separator: "; "))
        }
        guard !reply.value.isEmpty else {
            throw CLIFailure.failed("\(option) \(texts.joined(separator: ",")) names no job")
        }
        return reply.value.map(\.id)
    }

    /// `HH:MM[:SS]` today in local time (tomorrow when that has passed), or ISO 8601: with `Z`
    /// or an offset as it says, else in local time.
    static func time(_ text: String) throws -> Date {
        let problem = CLIFailure.usage(
            "--at takes a time such as 02:00, 2026-12-01T02:00 or 2026-12-01T02:00:00Z, not '\(text)'")
        let clock = text.split(separator: ":", omittingEmptySubsequences: false)
        if !text.contains("-"), (2...3).contains(clock.count) {
            let numbers = clock.map { Int($0) }
            guard numbers.allSatisfy({ $0 != nil }), clock.allSatisfy({ $0.count == 2 }) else { throw problem }
            let (hour, minute, second) = (numbers[0]!, numbers[1]!, numbers.count == 3 ? numbers[2]! : 0)
            guard hour < 24, minute < 60, second < 60 else { throw problem }
            var now = time_t(Date().timeIntervalSince1970)
            var parts = tm()
            localtime_r(&now, &parts)
            parts.tm_hour = Int32(hour)
            parts.tm_min = Int32(minute)
            parts.tm_sec = Int32(second)
            parts.tm_isdst = -1
            var when = mktime(&parts)
            if when <= now {
                parts.tm_mday += 1
                parts.tm_isdst = -1
                when = mktime(&parts)
            }
            return Date(timeIntervalSince1970: Double(when))
        }
        guard let parsedTime = Timestamp.parse(text) else { throw problem }
        let zoned =
            text.hasSuffix("Z") || text.hasSuffix("z") || text.dropFirst(10).contains("+")
            || text.dropFirst(10).contains("-")
        guard !zoned else { return parsedTime }
        // No zone: the same wall-clock time here.
        var asUTC = time_t(parsedTime.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&asUTC, &parts)
        parts.tm_isdst = -1
        return Date(timeIntervalSince1970: Double(mktime(&parts)))
    }
}
