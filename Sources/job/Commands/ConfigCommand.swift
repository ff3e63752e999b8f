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

/// `job config`: the settings in effect and where each came from.
enum ConfigVerb {
    static let spec = VerbSpec(
        name: "config", summary: "the settings in effect, and where each comes from",
        usage: ["config [--format table|json]"],
        about: """
            Print the defaults job uses where the command line gives none, and where each came
            from: built in (default), the config file (its path and line), or the environment.
            The file is $XDG_CONFIG_HOME/job/config.toml (else ~/.config/job/config.toml), TOML
            with one key per setting: grace (seconds or "10s"), throttle-limit, shell,
            ssh-options (a list), color (auto, always, never), max-output ("1G"), remove-after
            ("7d"), reconnect-for (how long a durable child whose link is lost keeps trying to
            reach its computer, "1h" by default), sbatch-options (a list of sbatch's options for
            start --scheduler slurm). JOB_MAX_OUTPUT, JOB_REMOVE_AFTER and
            JOB_RECONNECT_FOR override the file; an option on the command line overrides both. An unknown key or a bad value is an error (exit 2)
            naming the file, the line and the key.
            """,
        options: [.option("--format", "table|json", "how to print them")])

    static func run(_ parsed: ParsedArguments) throws {
        let format = parsed.value("--format") ?? "table"
        guard format == "table" || format == "json" else {
            throw CLIFailure.usage("--format takes table or json, not '\(format)'")
        }
        let settings = try UserSettings.current()
        let path = JobSettings.path(environment: ProcessEnvironment.variable) ?? ""
        let rows: [(String, String, JobSettings.Source)] = [
            ("grace", DurationText.text(settings.grace.value), settings.grace.source),
            ("throttle-limit", String(settings.throttleLimit.value), settings.throttleLimit.source),
            ("shell", settings.shell.value, settings.shell.source),
            ("ssh-options", settings.sshOptions.value.joined(separator: " "), settings.sshOptions.source),
            ("color", settings.color.value, settings.color.source),
            ("max-output", settings.maxOutput.value.map(SizeText.text) ?? "", settings.maxOutput.source),
            ("remove-after", settings.removeAfter.value.map(DurationText.text) ?? "", settings.removeAfter.source),
            ("reconnect-for", DurationText.text(settings.reconnectFor.value), settings.reconnectFor.source),
            ("sbatch-options", settings.sbatchOptions.value.joined(separator: " "), settings.sbatchOptions.source),
        ]
        if format == "json" {
            let items = rows.map { name, value, source in
                "  {\"setting\": \(JSONText.string(name)), \"value\": \(JSONText.string(value)), "
                    + "\"source\": \(JSONText.string(source.description))}"
            }
            Terminal.out("[\n" + items.joined(separator: ",\n") + "\n]\n")
            return
        }
        let table = TextTable.render(
            columns: ["Setting", "Value", "Source"], rows: rows.map { [$0.0, $0.1, $0.2.description] })
        let present = JobSettings.stamp(of: path) != nil
        Terminal.out("File: \(path)\(present ? "" : " (none)")\n\n" + table)
    }
}
