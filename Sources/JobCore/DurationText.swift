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

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Durations as people type them on a command line (`90s`, `15m`, `2h`, `1h30m`, or plain
/// seconds such as `90` or `0.5`) and as the agent writes them in a Reason (`15m`, `1h30m`).
package enum DurationText {
    /// The longest duration anything takes (a timeout, a delay, a grace period, a retention):
    /// ten years. Every duration from a user, a file, the environment or the wire is checked
    /// against it where it enters, so no arithmetic on one can overflow.
    package static let longest: Double = 3650 * 86400

    /// The range a duration must fall in, as messages say it.
    package static let range = "above 0 and at most 3650d (ten years)"

    /// The units a duration is written in, as messages say them.
    package static let units = "units s, m, h, d, combined as 1h30m; plain seconds too"

    /// The seconds a text says; nil when it is not a duration, not above zero or longer than
    /// `longest`.
    package static func seconds(_ text: String) -> Double? {
        guard let seconds = anySeconds(text), seconds <= longest else { return nil }
        return seconds
    }

    /// A number of seconds from a file, the environment or the wire, checked: finite, above
    /// zero (or zero where `zero` allows it) and at most `longest`.
    package static func isAllowed(_ seconds: Double, zero: Bool = false) -> Bool {
        seconds.isFinite && (seconds > 0 || (zero && seconds == 0)) && seconds <= longest
    }

    private static func anySeconds(_ text: String) -> Double? {
        if let plain = Double(text), plain.isFinite { return plain > 0 ? plain : nil }
        var total = 0.0
        var number = ""
        var units = Set<Character>()
        for character in text {
            if character.isASCII && (character.isNumber || character == ".") {
                number.append(character)
                continue
            }
            let unit: Double
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            default: return nil
            }
            guard let value = Double(number), value.isFinite, units.insert(character).inserted else { return nil }
            total += value * unit
            number = ""
        }
        guard number.isEmpty, total > 0, total.isFinite else { return nil }
        return total
    }

    /// A number as `%g` writes it, without Foundation's formatter: `90`, `0.5`, `1.25`.
    package static func number(_ value: Double) -> String {
        if value.isFinite && value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// A duration written back: whole days, hours, minutes and seconds, largest first
    /// (`15m`, `1h30m`, `90.5s` below a minute with a fraction).
    package static func text(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds > 0 else { return "0s" }
        guard seconds < 1e15 else { return DurationText.number(seconds) + "s" }
        if seconds < 60 && seconds != seconds.rounded() {
            return DurationText.number(seconds) + "s"
        }
        var left = Int(seconds.rounded())
        var text = ""
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] where left >= size {
            text += "\(left / size)\(unit)"
            left %= size
        }
        return text.isEmpty ? "0s" : text
    }
}

extension Double {
    /// Milliseconds for `poll` and `epoll_wait`: rounded up, at least `minimum`, at most an
    /// hour; NaN gives `minimum`. Never traps, whatever the value.
    package func pollMilliseconds(minimum: Int32 = 0) -> Int32 {
        let milliseconds = (self * 1000).rounded(.up)
        guard !milliseconds.isNaN else { return minimum }
        return Int32(Swift.max(Double(minimum), Swift.min(milliseconds, 3_600_000)))
    }

    /// The nearest `Int`, held inside `Int`'s range; NaN gives 0. Never traps.
    package var saturatingInt: Int {
        guard !isNaN else { return 0 }
        if self >= 9.2e18 { return Int.max }
        if self <= -9.2e18 { return Int.min }
        return Int(self.rounded())
    }
}

/// Sizes as people type them (`500K`, `1M`, `2G`, or bytes; K is 1024) and as a Reason writes
/// them (`1 GB`, `500 KB`, `1536 bytes`).
package enum SizeText {
    package static func bytes(_ text: String) -> Int64? {
        guard let last = text.last else { return nil }
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        let unit = units[Character(last.uppercased())]
        let digits = unit == nil ? Substring(text) : text.dropLast()
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let number = Int64(digits), number > 0 else { return nil }
        let (product, overflow) = number.multipliedReportingOverflow(by: unit ?? 1)
        return overflow ? nil : product
    }

    package static func text(_ bytes: Int64) -> String {
        for (unit, size) in [("TB", Int64(1) << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)]
        where bytes >= size && bytes % size == 0 {
            return "\(bytes / size) \(unit)"
        }
        return "\(bytes) bytes"
    }
}
