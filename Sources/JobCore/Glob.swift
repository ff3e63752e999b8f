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

/// Shell-style wildcard matching (`*`, `?`, `[abc]`, `[a-z]`, `[!x]`), case-insensitive,
/// as PowerShell matches job names.
package struct Glob: Sendable, Equatable {
    package let pattern: String
    private let characters: [Character]

    package init(_ pattern: String) {
        self.pattern = pattern
        self.characters = Array(pattern.lowercased())
    }

    /// Whether the pattern holds any wildcard; a plain name that matches nothing is an error.
    package var hasWildcards: Bool {
        pattern.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    package func matches(_ text: String) -> Bool {
        let subject = Array(text.lowercased())
        return Self.match(characters[...], subject[...])
    }

    private static func match(_ pattern: ArraySlice<Character>, _ text: ArraySlice<Character>) -> Bool {
        var p = pattern.startIndex
        var t = text.startIndex
        var starP: Int? = nil
        var starT = 0
        while t < text.endIndex {
            if p < pattern.endIndex {
                let c = pattern[p]
                if c == "*" {
                    starP = p
                    starT = t
                    p += 1
                    continue
                }
                if c == "?" {
                    p += 1
                    t += 1
                    continue
                }
                if c == "[", let (matched, next) = matchClass(pattern, from: p, against: text[t]) {
                    if matched {
                        p = next
                        t += 1
                        continue
                    }
                } else if c == text[t] {
                    p += 1
                    t += 1
                    continue
                }
            }
            guard let star = starP else { return false }
            p = star + 1
            starT += 1
            t = starT
        }
        while p < pattern.endIndex && pattern[p] == "*" { p += 1 }
        return p == pattern.endIndex
    }

    /// Matches one bracket expression; nil when the bracket is not closed (then it is literal).
    private static func matchClass(
        _ pattern: ArraySlice<Character>, from start: Int, against c: Character
    ) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < pattern.endIndex && (pattern[i] == "!" || pattern[i] == "^") {
            negate = true
            i += 1
        }
        var matched = false
        var first = true
        while i < pattern.endIndex && (pattern[i] != "]" || first) {
            first = false
            if i + 2 < pattern.endIndex && pattern[i + 1] == "-" && pattern[i + 2] != "]" {
                if pattern[i] <= c && c <= pattern[i + 2] { matched = true }
                i += 3
            } else {
                if pattern[i] == c { matched = true }
                i += 1
            }
        }
        guard i < pattern.endIndex else { return nil }
        return (matched != negate, i + 1)
    }
}
