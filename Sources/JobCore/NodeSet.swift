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

/// Computer names written as node sets, as pdsh and ClusterShell write them: ranges in
/// brackets (`web[01-20,25]`, zero padding kept), several of them in one name
/// (`rack[1-2]-n[01-16]`: every combination), groups (`@db`, from a groups file, which may
/// name groups), all joined by commas. `expand` lists the names in the order written (a name
/// written twice is listed twice: twice the work on that computer); `fold` writes a list
/// back in the short form.
package enum NodeSet {
    /// A node set that cannot be read, and where (1 is the first character).
    package struct SyntaxError: Error, CustomStringConvertible, Equatable, Sendable {
        package var text: String
        package var position: Int
        package var problem: String
        package var description: String { "bad computer list '\(text)': \(problem) at character \(position)" }
    }

    /// The names of a node set, in order. `groups` gives a group's node set by its name (nil:
    /// no such group).
    package static func expand(_ text: String, groups: (String) -> String? = { _ in nil }) throws(SyntaxError)
        -> [String]
    {
        var names: [String] = []
        try expand(text, groups: groups, visiting: [], into: &names)
        return names
    }

    private static func expand(
        _ text: String, groups: (String) -> String?, visiting: [String], into names: inout [String]
    ) throws(SyntaxError) {
        let characters = Array(text)
        func fail(_ problem: String, at index: Int) -> SyntaxError {
            SyntaxError(text: text, position: index + 1, problem: problem)
        }
        var start = 0
        var depth = 0
        var parts: [(Int, Int)] = []
        for (index, character) in characters.enumerated() {
            switch character {
            case "[":
                if depth > 0 { throw fail("a '[' inside brackets", at: index) }
                depth += 1
            case "]":
                if depth == 0 { throw fail("a ']' without its '['", at: index) }
                depth -= 1
            case ",":
                if depth == 0 {
                    parts.append((start, index))
                    start = index + 1
                }
            default: break
            }
        }
        if depth > 0 { throw fail("a '[' that is not closed", at: characters.lastIndex(of: "[") ?? 0) }
        parts.append((start, characters.count))
        for (from, to) in parts {
            guard from < to else { throw fail("an empty name", at: from) }
            let part = String(characters[from..<to])
            if part.hasPrefix("@") {
                let name = String(part.dropFirst())
                guard !name.isEmpty else { throw fail("a group without a name", at: from) }
                guard !visiting.contains(name) else {
                    throw fail(
                        "group @\(name) names itself (through " + visiting.map { "@" + $0 }.joined(separator: ", ")
                            + ")", at: from)
                }
                guard let members = groups(name) else { throw fail("no group is named @\(name)", at: from) }
                do {
                    try expand(members, groups: groups, visiting: visiting + [name], into: &names)
                } catch {
                    throw SyntaxError(
                        text: text, position: from + 1, problem: "in group @\(name): \(error.problem) in '\(members)'")
                }
                continue
            }
            names += try expandName(characters, from: from, to: to, text: text)
        }
    }

    /// One name with its bracketed ranges: every combination, the last range varying fastest.
    private static func expandName(_ characters: [Character], from: Int, to: Int, text: String) throws(SyntaxError)
        -> [String]
    {
        var results = [""]
        var index = from
        while index < to {
            let character = characters[index]
            guard character == "[" else {
                results = results.map { $0 + String(character) }
                index += 1
                continue
            }
            guard let close = characters[index..<to].firstIndex(of: "]") else {
                throw SyntaxError(text: text, position: index + 1, problem: "a '[' that is not closed")
            }
            let values = try rangeValues(characters, from: index + 1, to: close, text: text)
            results = results.flatMap { prefix in values.map { prefix + $0 } }
            index = close + 1
        }
        return results
    }

    /// `01-03,7` inside brackets: `01`, `02`, `03`, `7` (a range keeps its first bound's width).
    private static func rangeValues(_ characters: [Character], from: Int, to: Int, text: String) throws(SyntaxError)
        -> [String]
    {
        func fail(_ problem: String, at index: Int) -> SyntaxError {
            SyntaxError(text: text, position: index + 1, problem: problem)
        }
        guard from < to else { throw fail("empty brackets", at: from - 1) }
        var values: [String] = []
        var start = from
        for end in (from...to) where end == to || characters[end] == "," {
            let item = characters[start..<end]
            guard !item.isEmpty else { throw fail("an empty range", at: start) }
            let bounds = item.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else {
                throw fail("a range must be numbers, as 1-5 or 01-20", at: start)
            }
            let low = String(bounds[0])
            let high = String(bounds.count == 2 ? bounds[1] : bounds[0])
            guard let first = Int(low), let last = Int(high), low.count <= 9, high.count <= 9 else {
                throw fail("a number too large", at: start)
            }
            guard first <= last else { throw fail("a range that goes down (\(low)-\(high))", at: start) }
            guard last - first < 100_000, values.count + last - first < 100_000 else {
                throw fail("more than 100000 names", at: start)
            }
            // `01-20` pads to two digits; `1-20` does not.
            for number in first...last { values.append(padded(number, low.count)) }
            start = end + 1
        }
        return values
    }

    static func padded(_ number: Int, _ width: Int) -> String {
        let digits = String(number)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    // MARK: - Folding

    /// A name cut into its text and its numbers (each with its width: `01` is not `1`).
    private struct Cut: Hashable {
        var texts: [String]
        var widths: [Int]
    }

    private static func cut(_ name: String) -> (Cut, [Int])? {
        var texts: [String] = []
        var widths: [Int] = []
        var numbers: [Int] = []
        var text = ""
        var digits = ""
        func endDigits() -> Bool {
            guard !digits.isEmpty else { return true }
            guard digits.count <= 9, let number = Int(digits) else { return false }
            texts.append(text)
            // Padded (`01`) keeps its width; plain numbers (`1`, `10`) have none.
            widths.append(digits.count > 1 && digits.first == "0" ? digits.count : 0)
            numbers.append(number)
            text = ""
            digits = ""
            return true
        }
        for character in name {
            if character.isASCII && character.isNumber {
                digits.append(character)
            } else {
                guard endDigits() else { return nil }
                text.append(character)
            }
        }
        guard endDigits() else { return nil }
        texts.append(text)
        return (Cut(texts: texts, widths: widths), numbers)
    }

    /// The names written short: names that differ only in their numbers share brackets, in
    /// the order their first name came; a list with nothing to share is left as it was.
    /// `web01,web02,web03` is `web[01-03]`; `rack1-n01,rack1-n02,rack2-n01,rack2-n02` is
    /// `rack[1-2]-n[01-02]`; `localhost,db1` stays so.
    package static func fold(_ names: [String]) -> String {
        enum Entry {
            case plain(String)
            case shape(Cut)
        }
        var order: [Entry] = []
        var groups: [Cut: [[Int]]] = [:]
        for name in names {
            guard let (shape, numbers) = cut(name), !numbers.isEmpty else {
                order.append(.plain(name))
                continue
            }
            if groups[shape] == nil { order.append(.shape(shape)) }
            if !(groups[shape]?.contains(numbers) ?? false) { groups[shape, default: []].append(numbers) }
        }
        // Plain numbers as wide as a padded shape's (`10` beside `08`) belong to it.
        for case .shape(let plain) in order where plain.widths.contains(0) {
            guard let vectors = groups[plain] else { continue }
            let target = groups.keys.first { padded in
                padded != plain && padded.texts == plain.texts
                    && padded.widths.indices.allSatisfy { index in
                        padded.widths[index] == plain.widths[index]
                            || (plain.widths[index] == 0
                                && vectors.allSatisfy { String($0[index]).count >= padded.widths[index] })
                    }
            }
            guard let target else { continue }
            groups[target, default: []] += vectors.filter { !(groups[target]?.contains($0) ?? false) }
            groups[plain] = nil
        }
        var parts: [String] = []
        for entry in order {
            switch entry {
            case .plain(let name): parts.append(name)
            case .shape(let shape):
                guard groups[shape] != nil else { continue }
                for folded in foldVectors(groups[shape] ?? [], widths: shape.widths) {
                    var text = ""
                    for (index, field) in folded.enumerated() { text += shape.texts[index] + field }
                    parts.append(text + shape.texts[folded.count])
                }
            }
        }
        return parts.joined(separator: ",")
    }

    /// Vectors of numbers folded into rows of fields (`5`, or `[01-03,7]`), the last number
    /// folded first, then rows that share it folded on the ones before.
    private static func foldVectors(_ vectors: [[Int]], widths: [Int]) -> [[String]] {
        guard let dimensions = vectors.first?.count, dimensions > 0 else { return [[]] }
        if dimensions == 1 { return [[field(vectors.map { $0[0] }, width: widths[0])]] }
        // The last numbers of each prefix.
        var prefixes: [[Int]] = []
        var lasts: [[Int]: [Int]] = [:]
        for vector in vectors {
            let prefix = Array(vector.dropLast())
            if lasts[prefix] == nil { prefixes.append(prefix) }
            lasts[prefix, default: []].append(vector[dimensions - 1])
        }
        // Prefixes whose last numbers fold to the same field, folded together.
        var fieldsInOrder: [String] = []
        var byField: [String: [[Int]]] = [:]
        for prefix in prefixes {
            let last = field(lasts[prefix]!, width: widths[dimensions - 1])
            if byField[last] == nil { fieldsInOrder.append(last) }
            byField[last, default: []].append(prefix)
        }
        return fieldsInOrder.flatMap { last in
            foldVectors(byField[last]!, widths: Array(widths.dropLast())).map { $0 + [last] }
        }
    }

    /// Numbers as one field: `7`, or `[01-03,07]` in brackets.
    private static func field(_ numbers: [Int], width: Int) -> String {
        let sorted = Array(Set(numbers)).sorted()
        guard sorted.count > 1 else { return padded(sorted[0], width) }
        var ranges: [String] = []
        var low = sorted[0]
        var high = sorted[0]
        for number in sorted.dropFirst() + [Int.max] {
            if number == high + 1 {
                high = number
                continue
            }
            ranges.append(low == high ? padded(low, width) : padded(low, width) + "-" + padded(high, width))
            low = number
            high = number
        }
        return "[" + ranges.joined(separator: ",") + "]"
    }

    // MARK: - Groups

    /// The groups of a groups file: `name: nodes` on each line, `#` starting a comment.
    /// Errors name the line.
    package static func groups(file text: String, path: String) throws(SyntaxError) -> [String: String] {
        var groups: [String: String] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let trimmed = line.trimmingWhitespace()
            guard !trimmed.isEmpty else { continue }
            guard let colon = trimmed.firstIndex(of: ":") else {
                throw SyntaxError(
                    text: String(raw), position: 1, problem: "\(path) line \(index + 1) is not 'name: nodes'")
            }
            let name = trimmed[..<colon].trimmingWhitespace()
            let nodes = trimmed[trimmed.index(after: colon)...].trimmingWhitespace()
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw SyntaxError(
                    text: String(raw), position: 1,
                    problem: "\(path) line \(index + 1): a group's name is letters, digits, - _ .")
            }
            groups[name] = nodes.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: ",")
        }
        return groups
    }
}

extension StringProtocol {
    fileprivate func trimmingWhitespace() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
