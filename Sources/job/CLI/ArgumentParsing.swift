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

/// A parsed command line: flags given, option values in order, positional arguments.
struct ParsedArguments {
    var flags: Names = []
    var values: KeyValueList<[String]> = [:]
    var positionals: [String] = []

    func flag(_ name: String) -> Bool { flags.contains(name) }
    func value(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }

    /// `--name` where it names a new job or session: checked (length, control characters).
    func newName() throws -> String? {
        guard let name = value("--name") else { return nil }
        try CLIFailure.checking { try InputCheck.jobName(name) }
        return name
    }

    /// `--ssh-option`s, each checked to be one ssh option, then the config file's
    /// `ssh-options` (ssh keeps the first value of an option, so the command line wins).
    func sshOptions() throws -> [String] {
        let options = all("--ssh-option")
        for option in options { try CLIFailure.checking { try InputCheck.sshOption(option) } }
        return options + (try UserSettings.current().sshOptions.value)
    }

    /// A number of seconds (0 allowed), at most `DurationText.longest`, or a usage error that
    /// says what was expected and the range.
    func number(_ name: String) throws -> Double? {
        guard let text = value(name) else { return nil }
        guard let number = Double(text), DurationText.isAllowed(number, zero: true), !text.hasPrefix("-") else {
            throw CLIFailure.usage(
                "\(name) takes a number of seconds, 0 or more and at most \(Int(DurationText.longest)) (ten years), "
                    + "not '\(text)'")
        }
        return number
    }

    /// The most any whole-number option takes (a count, a limit, lines).
    static let largestInteger = 1_000_000_000

    func integer(_ name: String) throws -> Int? {
        guard let text = value(name) else { return nil }
        guard text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let number = Int(text),
            number <= Self.largestInteger
        else {
            throw CLIFailure.usage(
                "\(name) takes a whole number from 0 to \(Self.largestInteger), not '\(text)'")
        }
        return number
    }
}

/// The command line is parsed by hand rather than with swift-argument-parser: measured here,
/// that library's reflection was 38% of the CPU time of a whole `job get`, and the client's
/// start-up is most of what a `job start` costs. What each verb accepts is its `VerbSpec`.
enum ArgumentParsing {
    /// Parses a verb's arguments. `--help` prints the verb's help and ends with status 0.
    static func parse(_ arguments: ArraySlice<String>, _ spec: VerbSpec) throws -> ParsedArguments {
        var parsed = ParsedArguments()
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                parsed.positionals += arguments[index...]
                break
            }
            guard argument.hasPrefix("-"), argument != "-" else {
                parsed.positionals.append(argument)
                if spec.stopsAtFirstPositional {
                    // A script (its first word holds a space) followed by one of this verb's
                    // options: the option was meant for the verb, not as words of the script.
                    if argument.utf8.contains(0x20),
                        let late = arguments[index...].first(where: { word in
                            word.hasPrefix("-") && spec.option(String(word.prefix { $0 != "=" })) != nil
                        })
                    {
                        throw CLIFailure.usage(
                            "'\(late)' comes after the command, where it would become part of it; put the "
                                + "options of job \(spec.name) before the command (or the command after --, "
                                + "to pass '\(late)' on to it)")
                    }
                    parsed.positionals += arguments[index...]
                    break
                }
                continue
            }
            if argument == "--help" || argument == "-h" {
                throw CLIFailure(status: 0, message: "", output: spec.help)
            }
            var name = argument
            var inline: String? = nil
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                name = String(argument[..<equals])
                inline = String(argument[argument.index(after: equals)...])
            }
            guard let option = spec.option(name) else {
                throw CLIFailure.usage("unknown option '\(argument)' for job \(spec.name); see job \(spec.name) --help")
            }
            name = option.name
            if option.isFlag {
                guard inline == nil else { throw CLIFailure.usage("\(name) takes no value") }
                parsed.flags.insert(name)
            } else if let inline {
                parsed.values[name, default: []].append(inline)
            } else {
                guard index < arguments.endIndex else {
                    throw CLIFailure.usage("\(name) needs a value; see job \(spec.name) --help")
                }
                parsed.values[name, default: []].append(arguments[index])
                index += 1
            }
        }
        if let when = parsed.value("--color") {
            guard let choice = Terminal.ColorChoice(rawValue: when) else {
                throw CLIFailure.usage("--color takes auto, always or never, not '\(when)'")
            }
            Terminal.colorChoice = choice
        }
        return parsed
    }
}

/// The selectors and filters every verb but `start` takes.
enum SelectionArguments {
    static let operands = [
        ("SELECTOR...", "Ids, InstanceIds or names (shell wildcards, case-insensitive); % is the newest job")
    ]
    static let options: [OptionSpec] = [
        .option("--name", "PATTERN", completes: .jobs, "parents whose name matches (repeatable; also all digits)"),
        .option("--state", "STATE", completes: .states, "jobs in this state (repeatable)"),
        .flag("--all", "every job"),
        .option("--newest", "N", "only the N newest of the jobs selected (of every job when nothing else is given)"),
    ]
    /// `--format table|list|json`: how jobs are printed.
    static func format(_ what: String = "how to print them") -> OptionSpec {
        .option("--format", "table|list|json", what)
    }
    static let passThru = OptionSpec.flag("--pass-thru", "print the jobs")
}

extension ParsedArguments {
    /// The arguments again, without the named flags and options: what `--computer` passes on
    /// to the other computers' `job`. Values go as `--option=value`, selectors after `--`.
    func arguments(without names: Names, adding extra: [String] = []) -> [String] {
        var result = flags.list.filter { !names.contains($0) }.sorted() + extra
        for (name, values) in values.pairs.sorted(by: { $0.key < $1.key }) where !names.contains(name) {
            result += values.map { name + "=" + $0 }
        }
        if !positionals.isEmpty { result += ["--"] + positionals }
        return result
    }
}

/// A few option names. A list, not a `Set<String>`: the first `Set` or `Dictionary` of strings
/// a Swift program makes costs a search of the runtime's protocol conformances (about half a
/// millisecond here), and a verb has at most a few dozen names to look through.
struct Names: ExpressibleByArrayLiteral, Sendable {
    private(set) var list: [String]

    init(arrayLiteral names: String...) { list = names }
    init(_ names: [String]) { list = names }

    func contains(_ name: String) -> Bool { list.contains(name) }

    mutating func insert(_ name: String) { if !contains(name) { list.append(name) } }

    func union(_ other: Names) -> Names { Names(list + other.list.filter { !contains($0) }) }
}

/// Values by name, for a few names (see `Names` for why not a `Dictionary`).
struct KeyValueList<Value: Sendable>: ExpressibleByDictionaryLiteral, Sendable {
    private(set) var pairs: [(key: String, value: Value)]

    init(dictionaryLiteral elements: (String, Value)...) { pairs = elements.map { (key: $0.0, value: $0.1) } }

    subscript(key: String) -> Value? { pairs.first { $0.key == key }?.value }

    subscript(key: String, default fallback: @autoclosure () -> Value) -> Value {
        get { self[key] ?? fallback() }
        set {
            if let index = pairs.firstIndex(where: { $0.key == key }) {
                pairs[index].value = newValue
            } else {
                pairs.append((key: key, value: newValue))
            }
        }
    }
}
