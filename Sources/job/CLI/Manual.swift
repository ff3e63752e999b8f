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

import JobProtocol

/// The manual page job(1), in roff, made from the verbs' specs (`job help --man`;
/// `scripts/install` and the package install it).
enum Manual {
    static let exitStatuses: [(String, String)] = [
        ("0", "success"),
        (
            "1",
            "an operation failed or was refused: a selector that matches nothing, a running job not removed, "
                + "an agent that cannot be reached"
        ),
        (
            "2",
            "bad usage: an unknown verb or option, a bad value, a missing selector, a relative JOB_HOME"
        ),
        ("124", "a wait timed out; receive --wait on a job that its --timeout stopped"),
        (
            "N",
            "receive --wait on one job that did not complete: its exit status, or 128+N when signal N ended it"
        ),
    ]

    static let environment: [(String, String)] = [
        (
            "JOB_HOME",
            "where the jobs, their output and the agent's socket live; an absolute path. Default "
                + "$XDG_STATE_HOME/job, else ~/.local/state/job. Each home has its own agent."
        ),
        ("JOB_SSH_CONFIG", "an ssh configuration file used instead of ~/.ssh/config for other computers"),
        (
            "JOB_MAX_OUTPUT",
            "the default of --max-output (500K, 1M, 2G or bytes), read by the agent when it starts"
        ),
        (
            "JOB_REMOVE_AFTER",
            "a duration (7d, 12h): the agent removes finished jobs that ended longer ago, every minute"
        ),
        ("JOB_LOG_LEVEL", "the least the agent logs: trace, debug, info (the default), notice, warning, error"),
        ("JOB_AGENT_TIMEOUT", "seconds a client waits for a busy agent before it gives up (default 30)"),
        ("JOB_AGENT_EXECUTABLE", "the job-agent program to start (default: the one beside job)"),
        (
            "JOB_FAST_PATH",
            "0: every command through the full client; only: a plain start, wait or get that the fast "
                + "path would hand to the full client fails instead, saying why (see README)"
        ),
    ]

    static let files: [(String, String)] = [
        (
            "$XDG_CONFIG_HOME/job/config.toml",
            "the user's defaults (job config shows them); else ~/.config/job/config.toml"
        ),
        (
            "$XDG_CONFIG_HOME/job/groups",
            "groups of computers for --computer @name: a 'name: nodes' line each; else ~/.config/job/groups"
        ),
        ("JOB_HOME/jobs.sqlite", "the store: every job, its state and its queue settings"),
        ("JOB_HOME/jobs/", "each run's stdout and stderr, by InstanceId"),
        ("JOB_HOME/agent.sock", "the agent's socket"),
        (
            "JOB_HOME/agent.log",
            "what the agent did: starts, adoptions, refusals, failures (job agent log); past 1 MiB it becomes "
                + "agent.log.1"
        ),
    ]

    static func page() -> String {
        var page = """
            .TH JOB 1 "" "job \(ProtocolVersion.product)" "User Commands"
            .SH NAME
            job \\- background jobs for Unix shells, local and on other computers
            .SH SYNOPSIS
            .B job
            .RI [ VERB ]
            .RI [ OPTIONS ]
            .RI [ ARGUMENTS ]
            .SH DESCRIPTION
            \(escape("""
                job runs commands as background jobs with the job model of PowerShell: start, get, \
                receive, wait, stop and remove them, here or on other computers over ssh, one at a \
                time or through a queue. A job keeps running when the shell that started it ends; its \
                output is kept on disk until it is received or removed, and everything about it \
                survives a restart of the agent, the process that keeps the jobs of one JOB_HOME and \
                is started by the first verb that finds none. Without a verb, job lists the jobs.
                """))
            .SH VERBS

            """
        for entry in CLISpec.entries {
            for verb in entry.verbs { page += section(verb) }
        }
        page += ".SH EXIT STATUS\n" + table(exitStatuses)
        page += ".SH ENVIRONMENT\n" + table(environment)
        page += ".SH FILES\n" + table(files)
        page += """
            .SH SEE ALSO
            .BR ssh (1),
            .BR ssh_config (5),
            .BR sh (1)

            """
        return page
    }

    static func section(_ verb: VerbSpec) -> String {
        var text = ".SS \"job \(verb.name)\"\n"
        for form in verb.usage { text += ".B job " + escape(form) + "\n.br\n" }
        text += ".PP\n" + escape(flowed(verb.about)) + "\n"
        for (operand, help) in verb.operands { text += ".TP\n.I \(escape(operand))\n\(escape(help))\n" }
        for option in verb.allOptions {
            var names =
                (option.short.map { "\\fB" + escape($0) + "\\fR, " } ?? "") + "\\fB" + escape(option.name) + "\\fR"
            if let value = option.value { names += " \\fI" + escape(value) + "\\fR" }
            text += ".TP\n" + names + "\n" + escape(option.help) + "\n"
        }
        return text
    }

    static func table(_ rows: [(String, String)]) -> String {
        rows.map { ".TP\n.B \(escape($0.0))\n\(escape($0.1))\n" }.joined()
    }

    /// Paragraphs as roff wants them: one line each, `.PP` between.
    static func flowed(_ text: String) -> String {
        text.components(separatedBy: "\n\n").map { paragraph in
            paragraph.split(separator: "\n").map { String($0) }.joined(separator: " ")
        }.joined(separator: "\n.PP\n")
    }

    /// Backslashes and leading dots or quotes, which roff would read as its own.
    static func escape(_ text: String) -> String {
        text.replacing("\\", with: "\\e").split(separator: "\n", omittingEmptySubsequences: false).map {
            line in
            (line.hasPrefix(".") || line.hasPrefix("'")) && !line.hasPrefix(".PP") ? "\\&" + line : String(line)
        }.joined(separator: "\n").replacing("-", with: "\\-")
    }
}
