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

/// `--help` texts, made from the verbs' specs.
enum HelpText {
    /// Where an option's help begins.
    static let column = 30
    /// The widest line.
    static let width = 92

    static func verb(_ verb: VerbSpec) -> String {
        var text = usage(verb.usage) + "\n" + fill(verb.about) + "\n"
        let table = operandsAndOptions(verb)
        if !table.isEmpty { text += "\n" + table }
        return text + "\n"
    }

    static func family(_ family: VerbFamily) -> String {
        usage(family.verbs.flatMap(\.usage)) + "\n" + fill(family.about) + "\n\n"
            + "`job \(family.name) VERB --help` describes each.\n\n"
    }

    static func usage(_ forms: [String]) -> String {
        forms.enumerated().map { ($0.offset == 0 ? "Usage: job " : "       job ") + $0.element }.joined(separator: "\n")
            + "\n"
    }

    /// The operands, then the options, each with its help beside it.
    static func operandsAndOptions(_ verb: VerbSpec) -> String {
        var rows = verb.operands.map { ($0.0, $0.1) }
        for option in verb.allOptions {
            var left = option.short.map { $0 + ", " } ?? ""
            left += option.name + (option.value.map { " " + $0 } ?? "")
            rows.append((left, option.help))
        }
        return rows.map { row(left: $0.0, help: $0.1) }.joined()
    }

    /// `  LEFT   help`, the help wrapped at `width` under `column`.
    static func row(left: String, help: String) -> String {
        var line = "  " + left
        var lines: [String] = []
        if line.count + 1 > column {
            lines.append(line)
            line = ""
        }
        line = line.padding(column)
        var first = true
        for word in help.split(separator: " ") {
            if !first && line.count + 1 + word.count > width {
                lines.append(line)
                line = "".padding(column)
                first = true
            }
            line += (first ? "" : " ") + word
            first = false
        }
        lines.append(line)
        return lines.joined(separator: "\n") + "\n"
    }

    /// Paragraphs filled to `width` columns (blank lines between paragraphs kept).
    static func fill(_ text: String, width: Int = 88) -> String {
        text.components(separatedBy: "\n\n").map { paragraph in
            var lines: [String] = []
            var line = ""
            for word in paragraph.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
                if !line.isEmpty && line.count + 1 + word.count > width {
                    lines.append(line)
                    line = ""
                }
                line += (line.isEmpty ? "" : " ") + word
            }
            if !line.isEmpty { lines.append(line) }
            return lines.joined(separator: "\n")
        }.joined(separator: "\n\n")
    }
}
