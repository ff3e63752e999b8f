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

/// What an operand or an option's value completes to in the shells' completions.
enum Completion: Sendable, Equatable {
    /// Free text: nothing is offered.
    case none
    /// One of these words.
    case choices([String])
    /// Job Ids and names, from the agent.
    case jobs
    /// Session Ids and names, from the agent.
    case sessions
    /// Queue groups, from the agent.
    case groups
    /// Computer names, from the user's ssh configuration and known hosts.
    case computers
    /// Signal names.
    case signals
    /// Job states.
    case states
    case files
    case directories
    /// A command line: programs, then files.
    case command
    /// The verbs of a family (`set`, `get`...).
    case subverbs
}

/// One option of a verb: its name, a short spelling, the value it takes, and one line of help.
/// The parser, `--help`, the completions and the man page are all made from these.
struct OptionSpec: Sendable {
    var name: String
    var short: String?
    /// The value's name in help (`SECONDS`, `table|list|json`); nil for a flag.
    var value: String?
    /// What the value completes to, when not what `value` implies (`completion`).
    var completes: Completion?
    var help: String

    var isFlag: Bool { value == nil }

    /// What the value completes to: `completes`, else the words of a value written as
    /// lowercase words joined by `|` (`table|list|json`), else nothing. Worked out when asked
    /// (by completions only), so that making a verb's table costs a start nothing.
    var completion: Completion {
        if let completes { return completes }
        guard let value else { return .none }
        let words = value.split(separator: "|").map(String.init)
        let choices = words.count > 1 && words.allSatisfy { $0.allSatisfy { $0.isLowercase || $0 == "-" } }
        return choices ? .choices(words) : .none
    }

    /// A flag: no value.
    static func flag(_ name: String, short: String? = nil, _ help: String) -> OptionSpec {
        OptionSpec(name: name, short: short, value: nil, completes: Completion.none, help: help)
    }

    /// An option with a value. A value written as lowercase words joined by `|`
    /// (`table|list|json`) completes to those words unless `completes` says otherwise.
    static func option(
        _ name: String, _ value: String, short: String? = nil, completes: Completion? = nil, _ help: String
    ) -> OptionSpec {
        OptionSpec(name: name, short: short, value: value, completes: completes, help: help)
    }
}

struct VerbSpec: Sendable {
    /// `stop`, `group set`.
    var name: String
    /// One line, for the list of verbs.
    var summary: String
    /// Its forms, each after `job ` (`stop SELECTOR... [OPTIONS]`).
    var usage: [String]
    /// What it does: paragraphs, for `--help` and the man page.
    var about: String
    /// Operands described before the options (`SELECTOR...`), and what they complete to.
    var operands: [(String, String)] = []
    var operandCompletion: Completion = .none
    var options: [OptionSpec] = []
    /// Options end at the first positional argument (the command of `start`).
    var stopsAtFirstPositional = false

    /// Its options, and `--color` where it prints tables.
    var allOptions: [OptionSpec] { printsTables ? options + [CLISpec.color] : options }

    /// Whether its `--format` offers a table (`table|...`), which `--color` colours.
    var printsTables: Bool { options.contains { $0.name == "--format" && $0.value?.hasPrefix("table|") == true } }

    /// The option of this name or short spelling. A plain scan with `==`, no list built: every
    /// verb runs it for each option it is given.
    func option(_ name: String) -> OptionSpec? {
        if let found = options.first(where: { $0.name == name || $0.short == name }) { return found }
        return name == "--color" && printsTables ? CLISpec.color : nil
    }

    /// The text of `job VERB --help`.
    var help: String { HelpText.verb(self) }
}

/// Verbs with verbs of their own: `session`, `group`, `agent`.
struct VerbFamily: Sendable {
    var name: String
    var summary: String
    var about: String
    var verbs: [VerbSpec]

    var help: String { HelpText.family(self) }

    /// The verb named by its last word (`set` of `group set`).
    func verb(_ word: String) -> VerbSpec? { verbs.first { $0.name == name + " " + word } }
}

/// Everything `job` accepts: the verbs, in the order `job --help` lists them.
enum CLISpec {
    enum Entry: Sendable {
        case verb(VerbSpec)
        case family(VerbFamily)

        var name: String {
            switch self {
            case .verb(let verb): verb.name
            case .family(let family): family.name
            }
        }
        var summary: String {
            switch self {
            case .verb(let verb): verb.summary
            case .family(let family): family.summary
            }
        }
        /// The verb itself, or those of the family.
        var verbs: [VerbSpec] {
            switch self {
            case .verb(let verb): [verb]
            case .family(let family): family.verbs
            }
        }
    }

    static var entries: [Entry] {
        [
            .verb(StartVerb.spec), .verb(InvokeVerb.spec), .verb(GetVerb.spec), .verb(ReceiveVerb.spec),
            .verb(LogVerb.spec), .verb(EventsVerb.spec), .verb(WaitVerb.spec), .verb(StopVerb.spec),
            .verb(RemoveVerb.spec), .verb(RenameVerb.spec),
            .family(SessionVerb.family), .verb(EnterVerb.spec), .verb(RestartVerb.spec),
            .verb(SuspendVerb.suspendSpec), .verb(SuspendVerb.resumeSpec), .verb(SuspendVerb.signalSpec),
            .family(GroupVerb.family), .family(AgentVerb.family), .verb(ConfigVerb.spec), .verb(HelpVerb.spec),
            .verb(CompletionsVerb.spec),
        ]
    }

    /// `--color`, on every verb that prints tables.
    static let color = OptionSpec.option(
        "--color", "auto|always|never",
        "colour the State column: auto (the default) when stdout is a terminal and NO_COLOR is not set")

    /// Every verb, those of families too.
    static var allVerbs: [VerbSpec] { entries.flatMap(\.verbs) }
}
