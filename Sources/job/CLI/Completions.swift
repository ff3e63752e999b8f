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
import JobProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// `job completions bash|zsh|fish`: a completion script made from the verbs' specs, and the
/// live values it asks `job` for (`job __complete KIND`): job Ids and names, sessions and
/// groups from the agent (nothing, at once, when no agent runs), and computer names from the
/// user's ssh configuration and known hosts.
enum CompletionsVerb {
    static let spec = VerbSpec(
        name: "completions", summary: "a completion script for bash, zsh or fish",
        usage: ["completions bash|zsh|fish"],
        about: """
            Print a script that completes job's verbs, options and values in that shell: job Ids
            and names, sessions and groups (asked of the agent, silently nothing when none runs),
            states, formats, signals, and computer names from your ssh configuration and known
            hosts. scripts/install and the package put it where each shell looks; to try it:
            source <(job completions bash).
            """,
        operandCompletion: .choices(["bash", "zsh", "fish"]))

    /// The hidden verb the scripts run for live values.
    static let valuesVerb = "__complete"

    static func run(_ parsed: ParsedArguments) throws {
        guard parsed.positionals.count == 1, let shell = parsed.positionals.first else {
            throw CLIFailure.usage("job completions takes one shell: bash, zsh or fish")
        }
        switch shell {
        case "bash": Terminal.out(bash())
        case "zsh": Terminal.out(zsh())
        case "fish": Terminal.out(fish())
        default: throw CLIFailure.usage("no completions for '\(shell)'; there are bash, zsh and fish")
        }
    }

    // MARK: - Live values

    /// `job __complete KIND`: the values of a kind, one per line. Never fails, never waits
    /// for an agent to start.
    static func values(_ arguments: [String]) {
        guard let kind = arguments.first else { return }
        var lines: [String] = []
        switch kind {
        case "jobs":
            guard let client = try? JobClient(autoStart: false),
                let reply = try? client.rows(GetRequest(.every))
            else { return }
            for job in reply.value {
                lines.append(String(job.id))
                if job.name != "Job\(job.id)" { lines.append(job.name) }
            }
        case "sessions":
            guard let client = try? JobClient(autoStart: false), let sessions = try? client.sessions() else { return }
            for session in sessions { lines += [String(session.id), session.name] }
        case "groups":
            guard let client = try? JobClient(autoStart: false), let groups = try? client.groups() else { return }
            lines = groups.map(\.name)
        case "computers":
            lines = ["localhost"] + SSHHosts.names()
        default:
            return
        }
        var seen: [String] = []
        for line in lines where !seen.contains(line) && !line.contains("\n") { seen.append(line) }
        Terminal.out(seen.map { $0 + "\n" }.joined())
    }

    // MARK: - What the scripts know

    static let signals = [
        "HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "TERM", "CONT", "STOP", "TSTP", "ALRM", "WINCH",
    ]

    /// A kind as the scripts name it: a word for the shell-side handling, or `choices:A B C`.
    static func kind(_ completion: Completion) -> String {
        switch completion {
        case .none: "none"
        case .choices(let words): "choices:" + words.joined(separator: " ")
        case .jobs: "jobs"
        case .sessions: "sessions"
        case .groups: "groups"
        case .computers: "computers"
        case .signals: "choices:" + signals.joined(separator: " ")
        case .states: "choices:" + JobState.allCases.map(\.rawValue).joined(separator: " ")
        case .files: "files"
        case .directories: "directories"
        case .command: "command"
        case .subverbs: "choices:" + CLISpec.entries.map(\.name).joined(separator: " ")
        }
    }

    /// Every option name and short spelling of a verb, for the scripts' word lists.
    static func optionWords(_ verb: VerbSpec) -> String {
        verb.allOptions.flatMap { [$0.name] + ($0.short.map { [$0] } ?? []) }.joined(separator: " ")
    }

    /// The shell functions bash and zsh share (their `case` is the same): the verbs, the
    /// options of each, the kind of each option's value, and of each verb's operands.
    static func sharedFunctions() -> String {
        let entries = CLISpec.entries
        var text = "_job_verbs() { echo '\(entries.map(\.name).joined(separator: " "))'; }\n"
        text += "_job_subverbs() {\n    case $1 in\n"
        for case .family(let family) in entries {
            let words = family.verbs.map { String($0.name.split(separator: " ").last!) }
            text += "        \(family.name)) echo '\(words.joined(separator: " "))' ;;\n"
        }
        text += "    esac\n}\n"
        text += "_job_options() {\n    case $1 in\n"
        for verb in CLISpec.allVerbs {
            text += "        '\(verb.name)') echo '\(optionWords(verb)) --help' ;;\n"
        }
        text += "    esac\n}\n"
        text += "# The kind of the value an option takes; fails for a flag.\n"
        text += "_job_value_kind() {\n    case \"$1|$2\" in\n"
        for verb in CLISpec.allVerbs {
            for option in verb.allOptions where !option.isFlag {
                let names = ([option.name] + (option.short.map { [$0] } ?? [])).map { "'\(verb.name)|\($0)'" }
                text += "        \(names.joined(separator: " | "))) echo '\(kind(option.completion))' ;;\n"
            }
        }
        text += "        *) return 1 ;;\n    esac\n}\n"
        text += "# The kind of a verb's operands; a command's later words are files.\n"
        text += "_job_operand_kind() {\n    case $1 in\n"
        for verb in CLISpec.allVerbs where verb.operandCompletion != .none {
            text += "        '\(verb.name)') echo '\(kind(verb.operandCompletion))' ;;\n"
        }
        text += "        *) echo none ;;\n    esac\n}\n"
        text += """
            # Reads the words before the cursor: sets key (the verb, "group set" for a family's)
            # and operands (how many operands came before).
            _job_scan() {
                key= operands=0
                local i=$1 word
                while [ "$i" -lt "$2" ]; do
                    eval "word=\\${$3[$i]}"
                    case $word in
                        --*=*) ;;
                        -*) if [ -n "$key" ] && _job_value_kind "$key" "$word" >/dev/null; then i=$((i + 1)); fi ;;
                        *)
                            if [ -z "$key" ]; then key=$word
                            elif [ -n "$(_job_subverbs "$key")" ]; then key="$key $word"
                            else operands=$((operands + 1)); fi ;;
                    esac
                    i=$((i + 1))
                done
            }

            """
        return text
    }

    static var header: String {
        "generated by `job completions` from job \(ProtocolVersion.product); the verbs' specs are its source"
    }

    static func bash() -> String {
        """
        # bash completion for job, \(header)
        \(sharedFunctions())
        _job_complete_kind() {
            case $1 in
                none) COMPREPLY=() ;;
                files) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
                directories) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")) ;;
                command) COMPREPLY=($(compgen -c -- "$cur" | sort -u)) ;;
                choices:*) COMPREPLY=($(compgen -W "${1#choices:}" -- "$cur")) ;;
                *) local IFS=$'\\n'; COMPREPLY=($(compgen -W "$(command job \(valuesVerb) "$1" 2>/dev/null)" -- "$cur")) ;;
            esac
        }

        _job() {
            local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} key operands kind
            _job_scan 1 "$COMP_CWORD" COMP_WORDS
            if [ -z "$key" ]; then
                COMPREPLY=($(compgen -W "$(_job_verbs) --help --version" -- "$cur"))
                return
            fi
            if [ -n "$(_job_subverbs "$key")" ]; then
                COMPREPLY=($(compgen -W "$(_job_subverbs "$key")" -- "$cur"))
                return
            fi
            if [ "$COMP_CWORD" -gt 1 ] && kind=$(_job_value_kind "$key" "$prev"); then
                _job_complete_kind "$kind"
                return
            fi
            kind=$(_job_operand_kind "$key")
            # After a command's first word, everything is the command's own.
            if [ "$kind" = command ] && [ "$operands" -gt 0 ]; then
                _job_complete_kind files
                return
            fi
            case $cur in
                -*) COMPREPLY=($(compgen -W "$(_job_options "$key")" -- "$cur")); return ;;
            esac
            _job_complete_kind "$kind"
        }
        complete -F _job job

        """
    }

    static func zsh() -> String {
        """
        #compdef job
        # zsh completion for job, \(header)
        \(sharedFunctions())
        _job_complete_kind() {
            local -a values
            case $1 in
                none) return 1 ;;
                files) _files ;;
                directories) _files -/ ;;
                command) _command_names -e ;;
                choices:*) values=(${=${1#choices:}}); compadd -a values ;;
                *) values=(${(f)"$(command job \(valuesVerb) $1 2>/dev/null)"}); compadd -a values ;;
            esac
        }

        _job() {
            local cur=${words[CURRENT]} prev=${words[CURRENT-1]} key operands kind
            local -a values
            _job_scan 2 "$CURRENT" words
            if [[ -z $key ]]; then
                values=(${=$(_job_verbs)} --help --version); compadd -a values
                return
            fi
            if [[ -n $(_job_subverbs "$key") ]]; then
                values=(${=$(_job_subverbs "$key")}); compadd -a values
                return
            fi
            if (( CURRENT > 2 )) && kind=$(_job_value_kind "$key" "$prev"); then
                _job_complete_kind "$kind"
                return
            fi
            kind=$(_job_operand_kind "$key")
            # After a command's first word, everything is the command's own.
            if [[ $kind == command && $operands -gt 0 ]]; then
                _job_complete_kind files
                return
            fi
            if [[ $cur == -* ]]; then
                values=(${=$(_job_options "$key")}); compadd -a values
                return
            fi
            _job_complete_kind "$kind"
        }

        if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
            _job "$@"
        else
            compdef _job job
        fi

        """
    }

    static func fish() -> String {
        var lines = ["# fish completion for job, \(header)", "complete -c job -f"]
        func quote(_ text: String) -> String { "'" + text.replacing("'", with: "\\'") + "'" }
        func values(_ completion: Completion) -> String {
            switch completion {
            case .none: return ""
            case .files: return " -F"
            case .directories: return " -a '(__fish_complete_directories)'"
            case .command: return " -a '(__fish_complete_command)'"
            case .jobs, .sessions, .groups, .computers:
                return " -a '(command job \(valuesVerb) \(kind(completion)) 2>/dev/null)'"
            default: return " -a " + quote(String(kind(completion).dropFirst("choices:".count)))
            }
        }
        let entries = CLISpec.entries
        let verbNames = entries.map(\.name).joined(separator: " ")
        for entry in entries {
            lines.append(
                "complete -c job -n 'not __fish_seen_subcommand_from \(verbNames)' -a \(entry.name) -d "
                    + quote(entry.summary))
        }
        lines.append(
            "complete -c job -n 'not __fish_seen_subcommand_from \(verbNames)' -s V -l version -d 'the version'")
        for entry in entries {
            var conditions: [(VerbSpec, String)] = []
            switch entry {
            case .verb(let verb): conditions = [(verb, "__fish_seen_subcommand_from \(verb.name)")]
            case .family(let family):
                let words = family.verbs.map { String($0.name.split(separator: " ").last!) }
                lines.append(
                    "complete -c job -n '__fish_seen_subcommand_from \(family.name); and not "
                        + "__fish_seen_subcommand_from \(words.joined(separator: " "))' -a "
                        + quote(words.joined(separator: " ")))
                for (verb, word) in zip(family.verbs, words) {
                    conditions.append(
                        (
                            verb,
                            "__fish_seen_subcommand_from \(family.name); and __fish_seen_subcommand_from \(word)"
                        ))
                }
            }
            for (verb, condition) in conditions {
                if verb.operandCompletion != .none {
                    lines.append("complete -c job -n '\(condition)'" + values(verb.operandCompletion))
                }
                for option in verb.allOptions {
                    var line = "complete -c job -n '\(condition)' -l \(option.name.dropFirst(2))"
                    if let short = option.short { line += " -s \(short.dropFirst())" }
                    if !option.isFlag {
                        // -x: a value, and no file names unless it is a file.
                        line += (option.completion == .files ? " -r" : " -x") + values(option.completion)
                    }
                    lines.append(line + " -d " + quote(option.help))
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Computer names the user has written down: `Host` lines of `~/.ssh/config` (no patterns)
/// and the unhashed names of `~/.ssh/known_hosts`.
enum SSHHosts {
    static func names() -> [String] {
        guard let home = ProcessEnvironment.variable("HOME"), !home.isEmpty else { return [] }
        var names: [String] = []
        if let config = readText(home + "/.ssh/config") {
            for line in config.split(separator: "\n") {
                let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "=" })
                guard words.first?.lowercased() == "host" else { continue }
                names += words.dropFirst().map(String.init).filter { !$0.contains(where: "*?!".contains) }
            }
        }
        if let known = readText(home + "/.ssh/known_hosts") {
            for line in known.split(separator: "\n") where !line.hasPrefix("|") && !line.hasPrefix("#") {
                guard let field = line.split(separator: " ").first, !field.hasPrefix("@") else { continue }
                for host in field.split(separator: ",") {
                    // [host]:port is ssh's way of writing another port.
                    var name = String(host)
                    if name.hasPrefix("["), let close = name.firstIndex(of: "]") {
                        name = String(name[name.index(after: name.startIndex)..<close])
                    }
                    names.append(name)
                }
            }
        }
        return names
    }
}
