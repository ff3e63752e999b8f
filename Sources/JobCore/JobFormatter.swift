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

/// The three ways `get` and the verbs that print jobs show them: `table`, `list`, `json`.
package enum JobFormat: String, CaseIterable, Sendable, Codable {
    case table
    case list
    case json
}

package enum JobFormatter {
    package static let tableColumns = ["Id", "Name", "Type", "State", "HasMoreData", "Location", "Command"]

    /// The table of the job model's section 6. `width` is the terminal's width when the
    /// output is a terminal (cells are then cut with `...` so rows fit), nil otherwise.
    /// An empty list prints nothing, as Get-Job does.
    package static func table(_ jobs: [JobRecord], width: Int? = nil) -> String {
        String(decoding: tableBytes(jobs.map(JobRow.init), width: width), as: UTF8.self)
    }

    /// The table's bytes. Two passes over the records, one for the columns' widths and one
    /// that writes the rows, with no list of cells between: a table of 100,000 jobs had spent
    /// more on its 700,000 cell strings than on anything else.
    /// The columns `get --wide` adds after State.
    package static let wideColumns = ["ExitStatus", "Duration", "Group"]

    /// `wide` adds ExitStatus, Duration and Group; `colors` shows each State in its colour
    /// (ANSI; the caller decides: a terminal, `--color`, `NO_COLOR`).
    package static func tableBytes(_ jobs: [JobRow], width: Int? = nil, wide: Bool = false, colors: Bool = false)
        -> [UInt8]
    {
        guard !jobs.isEmpty else { return [] }
        // Rows from other computers' agents (`--computer`) lead with the computer's name.
        let tagged = jobs.contains { $0.computer != nil }
        let base = wide ? Array(tableColumns[...3]) + wideColumns + Array(tableColumns[4...]) : tableColumns
        let columns = tagged ? ["Computer"] + base : base
        let count = columns.count
        let extra = wide ? wideColumns.count : 0
        let stateColumn = (tagged ? 1 : 0) + 3
        // By index: a record is not copied (its strings retained and released) per cell.
        func cell(_ index: Int, _ column: Int) -> (text: String, width: Int) {
            var column = column - (tagged ? 1 : 0)
            if wide && column >= 4 && column < 4 + extra {
                switch column {
                case 4: return plainCell(jobs[index].exitStatus.map(String.init) ?? "")
                case 5: return plainCell(jobs[index].duration.map(durationCell) ?? "")
                default: return shownCell(jobs[index].group ?? "")
                }
            }
            if column >= 4 { column -= extra }
            switch column {
            case -1: return shownCell(jobs[index].computer ?? "")
            case 0: return plainCell(String(jobs[index].id))
            case 1: return shownCell(jobs[index].name)
            case 2: return shownCell(jobs[index].type)
            case 3: return plainCell(jobs[index].state.rawValue)
            case 4: return plainCell(jobs[index].hasMoreData ? "True" : "False")
            case 5: return shownCell(jobs[index].location)
            default: return shownCell(jobs[index].command)
            }
        }
        var widths = columns.map(\.count)
        for index in jobs.indices {
            for column in 0..<count { widths[column] = max(widths[column], cell(index, column).width) }
        }
        let offset = tagged ? 1 : 0
        var shown = Array(0..<count)
        if let width {
            shown = fit(
                &widths, into: width, columns: columns,
                cuttable: [1 + offset, 5 + offset + extra, 6 + offset + extra])
        }
        let last = shown.last ?? 0
        var out: [UInt8] = []
        out.reserveCapacity((widths.reduce(0, +) + 2 * widths.count + 1) * (jobs.count + 2))
        func row(_ cells: (Int) -> (text: String, width: Int), state: JobState? = nil) {
            let start = out.count
            for column in shown {
                var (text, textWidth) = cells(column)
                if textWidth > widths[column] {
                    text = cut(text, to: widths[column])
                    textWidth = cellWidth(text)
                }
                if colors, column == stateColumn, let state, let color = color(of: state) {
                    out.append(contentsOf: ("\u{1B}[" + color + "m" + text + "\u{1B}[0m").utf8)
                    if column != last {
                        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: widths[column] - textWidth + 2))
                    }
                    continue
                }
                out.append(contentsOf: text.utf8)
                if column != last {
                    out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: widths[column] - textWidth + 2))
                }
            }
            while out.count > start && out.last == UInt8(ascii: " ") { out.removeLast() }
            out.append(UInt8(ascii: "\n"))
        }
        row { (columns[$0], columns[$0].count) }
        row { (String(repeating: "-", count: columns[$0].count), columns[$0].count) }
        for index in jobs.indices { row({ cell(index, $0) }, state: jobs[index].state) }
        return out
    }

    /// The SGR colour of a state: green done, red failed, yellow stopped or stopping, cyan
    /// running, magenta suspended; NotStarted plain.
    static func color(of state: JobState) -> String? {
        switch state {
        case .completed: "32"
        case .failed: "31"
        case .stopped, .stopping: "33"
        case .running: "36"
        case .suspended: "35"
        default: nil
        }
    }

    /// A duration as a table shows it: `0.4s`, `12s`, `3m04s`, `2h05m`, `3d04h`.
    static func durationCell(_ seconds: Double) -> String {
        func two(_ number: Int) -> String { number < 10 ? "0\(number)" : "\(number)" }
        let seconds = seconds.isNaN ? 0 : min(max(seconds, 0), 1e15)
        if seconds < 10 {
            let tenths = Int((seconds * 10).rounded())
            return "\(tenths / 10).\(tenths % 10)s"
        }
        let whole = Int(seconds.rounded(.down))
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(two(whole % 60))s" }
        if whole < 86400 { return "\(whole / 3600)h\(two(whole % 3600 / 60))m" }
        return "\(whole / 86400)d\(two(whole % 86400 / 3600))h"
    }

    /// A cell that is printable ASCII by construction, and its width.
    private static func plainCell(_ text: String) -> (text: String, width: Int) { (text, text.utf8.count) }

    /// A cell as shown (`cellText`), and its width in characters.
    private static func shownCell(_ text: String) -> (text: String, width: Int) {
        // Printable ASCII, most cells, is shown as it is, one character a byte.
        if isPrintableASCII(text) { return (text, text.utf8.count) }
        let shown = cellText(text)
        return (shown, cellWidth(shown))
    }

    /// The columns a narrow terminal loses first, when cutting Name, Location and Command to
    /// their least still leaves the row too wide: a table that wraps is unreadable, and these
    /// say the least (Id, Name, State and Command stay).
    static let dropOrder = ["Type", "HasMoreData", "Group", "Duration", "Location", "ExitStatus", "Computer"]

    /// The columns shown (indices into `columns`), and their widths to fit `total`: the least
    /// telling columns are left out until the cuttable ones (Name, Location, Command) can be
    /// shrunk enough, then the widest of those shrink until the row fits.
    @discardableResult
    static func fit(
        _ widths: inout [Int], into total: Int, columns: [String] = tableColumns, cuttable: [Int] = [1, 5, 6]
    ) -> [Int] {
        var shown = Array(columns.indices)
        func floor(_ column: Int) -> Int { max(columns[column].count, 6) }
        func rowWidth(least: Bool) -> Int {
            shown.reduce(0) { sum, column in
                sum + (least && cuttable.contains(column) ? min(widths[column], floor(column)) : widths[column])
            } + 2 * (shown.count - 1)
        }
        for name in dropOrder where rowWidth(least: true) > total {
            if let column = columns.firstIndex(of: name) { shown.removeAll { $0 == column } }
        }
        let kept = cuttable.filter { shown.contains($0) }
        while rowWidth(least: false) > total {
            guard let widest = kept.max(by: { widths[$0] < widths[$1] }), widths[widest] > floor(widest) else { break }
            widths[widest] -= 1
        }
        return shown
    }

    /// The cell cut to `width` display columns, ending in `...` when there is room for it.
    static func cut(_ cell: String, to width: Int) -> String {
        guard cellWidth(cell) > width else { return cell }
        let room = width > 3 ? width - 3 : width
        var kept = ""
        var used = 0
        for character in cell {
            let wide = columns(of: character)
            if used + wide > room { break }
            kept.append(character)
            used += wide
        }
        return width > 3 ? kept + "..." : kept
    }

    /// Whether every byte is printable ASCII, read from the string's contiguous bytes (the
    /// byte-by-byte `utf8` iterator had been a tenth of a large table).
    static func isPrintableASCII(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            for byte in bytes where byte < 0x20 || byte >= 0x7F { return false }
            return true
        }
    }

    /// How many characters a cell takes.
    static func cellWidth(_ cell: String) -> Int {
        cell.utf8.allSatisfy { $0 < 0x80 } ? cell.utf8.count : cell.reduce(0) { $0 + columns(of: $1) }
    }

    /// The columns a character takes in a terminal: 2 for East Asian wide and fullwidth ones
    /// and emoji, 1 for the rest (a base with its combining marks is one character).
    static func columns(of character: Character) -> Int {
        guard let scalar = character.unicodeScalars.first else { return 0 }
        if character.unicodeScalars.contains(where: { $0.value == 0xFE0F }) { return 2 }
        return isWide(scalar.value) ? 2 : 1
    }

    static func isWide(_ value: UInt32) -> Bool {
        switch value {
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0, 0x23F3, 0x25FD...0x25FE,
            0x2614...0x2615, 0x2648...0x2653, 0x267F, 0x2693, 0x26A1, 0x26AA...0x26AB, 0x26BD...0x26BE,
            0x26C4...0x26C5, 0x26CE, 0x26D4, 0x26EA, 0x26F2...0x26F3, 0x26F5, 0x26FA, 0x26FD, 0x2705,
            0x270A...0x270B, 0x2728, 0x274C, 0x274E, 0x2753...0x2755, 0x2757, 0x2795...0x2797, 0x27B0, 0x27BF,
            0x2B1B...0x2B1C, 0x2B50, 0x2B55, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
            0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F,
            0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x16FE0...0x16FE4, 0x17000...0x18AFF, 0x1B000...0x1B2FF,
            0x1F004, 0x1F0CF, 0x1F18E, 0x1F191...0x1F19A, 0x1F200...0x1F251, 0x1F300...0x1F64F,
            0x1F680...0x1F6FF, 0x1F7E0...0x1F7EB, 0x1F90C...0x1F9FF, 0x1FA70...0x1FAFF, 0x20000...0x2FFFD,
            0x30000...0x3FFFD:
            return true
        default:
            return false
        }
    }

    /// A cell shows control characters (a command's newlines) as spaces so a row stays a line.
    static func cellText(_ text: String) -> String {
        // Printable ASCII, most cells, is shown as it is.
        if isPrintableASCII(text) { return text }
        let text = LosslessText.shown(text)
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return text }
        return String(
            String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
    }

    /// Every property, one per line, as `Format-List *` shows them; jobs separated by a blank line.
    package static func list(_ jobs: [JobRecord], all: [JobRecord]) -> String {
        let names = Dictionary(all.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        return jobs.map { job -> String in
            let childNames = job.childIds.map { names[$0] ?? "Job\($0)" }.joined(separator: ", ")
            var fields: [(String, String)] = [
                ("Id", String(job.id)),
                ("Name", job.name),
                ("InstanceId", job.instanceId),
                ("Type", job.type),
                ("State", job.state.rawValue),
                ("HasMoreData", job.hasMoreData ? "True" : "False"),
                ("Location", job.location),
                ("Command", job.command),
                ("WorkingDirectory", job.workingDirectory),
                ("Reason", job.reason ?? ""),
                ("ExitStatus", job.exitStatus.map(String.init) ?? ""),
                ("Signal", job.signal.map(String.init) ?? ""),
                ("Pid", job.pid.map(String.init) ?? ""),
                ("BeginTime", job.beginTime.map(Timestamp.format) ?? ""),
                ("EndTime", job.endTime.map(Timestamp.format) ?? ""),
                ("ParentId", job.parentId.map(String.init) ?? ""),
                ("ChildJobs", "{\(childNames)}"),
            ]
            fields += [
                ("Group", job.group ?? "default"),
                ("Timeout", job.timeout.map(DurationText.text) ?? ""),
                ("After", job.after.map(String.init).joined(separator: ", ")),
                ("AfterAny", job.afterAny.map(String.init).joined(separator: ", ")),
                ("StartAt", job.startAt.map(Timestamp.format) ?? ""),
                ("MaxOutput", job.maxOutput.map(SizeText.text) ?? ""),
                ("Restarts", String(job.restarts ?? 0)),
                ("History", job.history.joined(separator: ", ")),
            ]
            if let computer = job.computer { fields.append(("Computer", computer)) }
            if let id = job.schedulerJobId { fields.append(("SchedulerJobId", id)) }
            let width = fields.map(\.0.count).max() ?? 0
            return fields.map { key, value in
                key + String(repeating: " ", count: width - key.count) + " : " + value
            }.joined(separator: "\n") + "\n"
        }.joined(separator: "\n")
    }

    /// The JSON array of the job model's section 7, keys in its order; `[]` when empty.
    package static func json(_ jobs: [JobRecord]) -> String {
        String(decoding: jsonBytes(jobs), as: UTF8.self)
    }

    /// The JSON array's bytes.
    package static func jsonBytes(_ jobs: [JobRecord]) -> [UInt8] {
        guard !jobs.isEmpty else { return Array("[]\n".utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(jobs.count * 600)
        func pair(_ key: StaticString, _ value: String, last: Bool = false) {
            out.append(contentsOf: "    \"".utf8)
            key.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(contentsOf: "\": ".utf8)
            out.append(contentsOf: value.utf8)
            out.append(contentsOf: (last ? "\n" : ",\n").utf8)
        }
        out.append(contentsOf: "[\n".utf8)
        for (index, job) in jobs.enumerated() {
            out.append(contentsOf: "  {\n".utf8)
            pair("id", String(job.id))
            pair("parentId", JSONText.optional(job.parentId))
            pair("childIds", "[" + job.childIds.map(String.init).joined(separator: ", ") + "]")
            pair("name", JSONText.string(job.name))
            pair("instanceId", JSONText.string(job.instanceId))
            pair("type", JSONText.string(job.type))
            pair("state", JSONText.string(job.state.rawValue))
            pair("hasMoreData", job.hasMoreData ? "true" : "false")
            pair("location", JSONText.string(job.location))
            pair("command", JSONText.string(job.command))
            pair("workingDirectory", JSONText.string(job.workingDirectory))
            pair("reason", JSONText.optional(job.reason))
            pair("exitStatus", JSONText.optional(job.exitStatus))
            pair("signal", JSONText.optional(job.signal))
            pair("pid", JSONText.optional(job.pid))
            pair("beginTime", JSONText.optional(job.beginTime.map(Timestamp.format)))
            pair("endTime", JSONText.optional(job.endTime.map(Timestamp.format)))
            pair("group", JSONText.string(job.group ?? "default"))
            pair("timeout", job.timeout.map(DurationText.number) ?? "null")
            pair("after", "[" + job.after.map(String.init).joined(separator: ", ") + "]")
            pair("afterAny", "[" + job.afterAny.map(String.init).joined(separator: ", ") + "]")
            pair("startAt", JSONText.optional(job.startAt.map(Timestamp.format)))
            pair("maxOutput", job.maxOutput.map(String.init) ?? "null")
            pair("restarts", String(job.restarts ?? 0))
            pair(
                "history", "[" + job.history.map(JSONText.string).joined(separator: ", ") + "]",
                last: job.computer == nil && job.schedulerJobId == nil)
            if let computer = job.computer {
                pair("computer", JSONText.string(computer), last: job.schedulerJobId == nil)
            }
            // Only on children a scheduler runs.
            if let id = job.schedulerJobId { pair("schedulerJobId", JSONText.string(id), last: true) }
            out.append(contentsOf: (index == jobs.count - 1 ? "  }\n" : "  },\n").utf8)
        }
        out.append(contentsOf: "]\n".utf8)
        return out
    }
}
