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

#if canImport(Glibc)
    import Glibc
#endif

enum StartVerb {
    static let spec = VerbSpec(
        name: "start", summary: "start a command as a background job", usage: ["start [OPTIONS] [--] COMMAND..."],
        about: """
            Start a command as a background job and print the job. One argument is a shell
            command line (job start 'make -j4 && make test'); several are a command and its
            arguments, each quoted for the shell (job start -- printf '%s\\n' 'a b'). Options go
            before the command. The job runs under /bin/sh -c in this folder with this
            environment, in its own session and process group, with stdin from /dev/null. A
            command line of plain words (sleep 30, make -j4 test) runs its program directly,
            as the shell would have run it, one process fewer.
            """,
        operandCompletion: .command,
        options: [
            .option("--name", "NAME", "the job's name (default Job<Id>)"),
            .option(
                "--working-directory", "DIR", short: "-C", completes: .directories, "run there instead of here"),
            .option("--env", "KEY=VALUE", "set a variable in the job's environment (repeatable)"),
            .option("--shell", "PATH", completes: .files, "the shell that runs the command line with -c"),
            .option(
                "--input", "FILE|-", completes: .files, "the job's stdin: a file, or - for this command's stdin"),
            .option(
                "--session", "ID|NAME", completes: .sessions,
                "run it in this session (job session new), after the session's earlier commands, in its state"),
        ]
            + SchedulerArguments.options(
                what: "submit it to a cluster scheduler (Slurm: sbatch) instead of running it here", computer: true)
            + [.option("--ssh-option", "OPTION", "with --computer: an option for ssh, e.g. -oPort=2222 (repeatable)")]
            + [
                .flag("--quiet", short: "-q", "print only the new job's Id"),
                SelectionArguments.format("how to print the job"),
            ] + QueueArguments.options,
        stopsAtFirstPositional: true)

    /// `--input FILE|-`: the file opened, or stdin (refused when it is a terminal).
    static func openInput(_ input: String) throws -> Int32 {
        if input == "-" {
            // Typing meant for this shell would go to a background job instead.
            guard isatty(0) == 0 else {
                throw CLIFailure.usage(
                    "--input - reads this command's stdin, which is a terminal; pipe data in, or use --input FILE")
            }
            return 0
        }
        let fd = open(input, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CLIFailure.failed("cannot read --input \(input): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        if fstat(fd, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR {
            close(fd)
            throw CLIFailure.usage("--input \(input) is a folder; it takes a file, or - for stdin")
        }
        return fd
    }

    static func run(_ parsed: ParsedArguments) throws {
        let words = parsed.positionals
        guard !words.isEmpty else { throw CLIFailure.usage("job start needs a command, e.g. job start 'make test'") }
        let text = try ShellQuote.commandLine(words)
        let format = try Terminal.format(parsed)
        let queue = try QueueArguments.parse(parsed)
        if let session = parsed.value("--session") {
            for option in QueueArguments.options.map(\.name) where parsed.value(option) != nil {
                throw CLIFailure.usage("\(option) does not go with --session: a session runs its commands in turn")
            }
            for option in ["--working-directory", "--env", "--shell", "--input"] where parsed.value(option) != nil {
                throw CLIFailure.usage("\(option) does not go with --session: the command runs in the session's shell")
            }
            let job = try JobClient().start(text, inSessions: [session], name: try parsed.newName())
            if parsed.flag("--quiet") { Terminal.out("\(job.id)\n") } else { Terminal.show([job], format: format) }
            return
        }
        if let scheduler = parsed.value("--scheduler") {
            try startInScheduler(scheduler, text, parsed, format: format, timeout: queue.timeout)
            return
        }
        for option in ["--tasks", "--throttle", "--sbatch-option"] where parsed.value(option) != nil {
            throw CLIFailure.usage("\(option) goes with --scheduler slurm")
        }
        var environment = ProcessEnvironment.entries()
        for entry in parsed.all("--env") {
            let key = try CLIFailure.checking { try InputCheck.environmentEntry(entry) } + "="
            environment.removeAll { $0.hasPrefix(key) }
            environment.append(entry)
        }
        let shell = try parsed.value("--shell") ?? UserSettings.current().shell.value
        guard shell.hasPrefix("/") else { throw CLIFailure.usage("--shell takes an absolute path, not '\(shell)'") }
        let here = JobHome.currentDirectory()
        var directory = parsed.value("--working-directory") ?? here
        if !directory.hasPrefix("/") { directory = here + "/" + directory }
        var inputFD: Int32? = nil
        if let input = parsed.value("--input") {
            for option in ["--after", "--after-any", "--at", "--delay", "--group"] where parsed.value(option) != nil {
                throw CLIFailure.usage(
                    "--input does not go with \(option): a job that may wait to start has no input to read yet")
            }
            inputFD = try openInput(input)
        }
        let client = try JobClient()
        let job = try client.start(
            text, name: try parsed.newName(), workingDirectory: directory, environment: environment,
            shell: shell, input: inputFD, queue: queue)
        if parsed.flag("--quiet") {
            Terminal.out("\(job.id)\n")
        } else {
            Terminal.show([job], format: format)
        }
    }
}

extension StartVerb {
    /// `start --scheduler slurm`: submitted, and the parent printed as for every start.
    static func startInScheduler(
        _ scheduler: String, _ command: String, _ parsed: ParsedArguments, format: JobFormat, timeout: Double?
    ) throws {
        let job = try submit(scheduler, command, parsed, timeout: timeout)
        if parsed.flag("--quiet") { Terminal.out("\(job.id)\n") } else { Terminal.show([job], format: format) }
    }

    /// The SlurmJob a `start --scheduler` or `invoke --scheduler` asks for, submitted.
    static func submit(_ scheduler: String, _ command: String, _ parsed: ParsedArguments, timeout: Double?) throws
        -> Job
    {
        guard scheduler == "slurm" else {
            throw CLIFailure.usage("--scheduler takes slurm, not '\(scheduler)'")
        }
        let computers = try Terminal.computers(parsed, required: false)
        if !computers.isEmpty { return try submitThrough(computers, scheduler, command, parsed, timeout: timeout) }
        for option in ["--at", "--delay", "--max-output", "--shell"] where parsed.value(option) != nil {
            throw CLIFailure.usage(
                "\(option) does not go with --scheduler: Slurm decides when and how it runs (sbatch's --begin and "
                    + "the batch shell are --sbatch-option's)")
        }
        let tasks = try parsed.integer("--tasks") ?? 0
        guard parsed.value("--tasks") == nil || (1...100_000).contains(tasks) else {
            throw CLIFailure.usage("--tasks takes a number of tasks, 1 to 100000")
        }
        let throttle = try parsed.integer("--throttle") ?? 0
        guard throttle >= 0 else { throw CLIFailure.usage("--throttle takes 0 (no limit) or more tasks") }
        var environment = ProcessEnvironment.entries()
        for entry in parsed.all("--env") {
            let key = try CLIFailure.checking { try InputCheck.environmentEntry(entry) } + "="
            environment.removeAll { $0.hasPrefix(key) }
            environment.append(entry)
        }
        let here = JobHome.currentDirectory()
        var directory = parsed.value("--working-directory") ?? here
        if !directory.hasPrefix("/") { directory = here + "/" + directory }
        let options = try UserSettings.current().sbatchOptions.value + parsed.all("--sbatch-option")
        let queue = try QueueArguments.parse(parsed)
        let client = try JobClient()
        // The input is copied into the jobs folder: Slurm starts the job later, on a node that
        // reads it there, and `-` may be a pipe.
        let input = try parsed.value("--input").map {
            try InvokeVerb.copyInput(StartVerb.openInput($0), home: client.home)
        }
        defer { if let input { close(input) } }
        return try client.start(
            command, scheduler: scheduler, tasks: tasks, throttle: throttle, options: options,
            name: try parsed.newName(), workingDirectory: directory, environment: environment,
            timeout: timeout.map { .milliseconds(Int64(($0 * 1000).rounded(.up))) }, after: queue.after,
            afterAny: queue.afterAny, input: input, group: queue.group)
    }
}

extension StartVerb {
    /// `--scheduler` with `--computer`: each computer's agent submits it (a durable child per
    /// computer mirrors it here), so that this computer may sleep or lose its link.
    static func submitThrough(
        _ computers: [String], _ scheduler: String, _ command: String, _ parsed: ParsedArguments, timeout: Double?
    ) throws -> Job {
        for option in ["--at", "--delay", "--max-output", "--shell", "--tasks", "--throttle", "--group"]
        where parsed.value(option) != nil {
            throw CLIFailure.usage(
                "\(option) does not go with --scheduler and --computer (the computer's agent submits one batch job)")
        }
        var environment: [String] = []
        for entry in parsed.all("--env") {
            try CLIFailure.checking { try InputCheck.environmentEntry(entry) }
            environment.append(entry)
        }
        // The time limit goes as sbatch's own option, in whole minutes (rounded up).
        let limit = timeout.map { ["--time=\(max(1, Int(($0 / 60).rounded(.up))))"] } ?? []
        let options = try limit + UserSettings.current().sbatchOptions.value + parsed.all("--sbatch-option")
        var queue = try QueueArguments.parse(parsed)
        queue.timeout = nil
        queue.maxOutput = nil
        let client = try JobClient()
        let input = try parsed.value("--input").map {
            try InvokeVerb.copyInput(StartVerb.openInput($0), home: client.home)
        }
        defer { if let input { close(input) } }
        return try client.invoke(
            command, on: computers, name: try parsed.newName(), sshOptions: try parsed.sshOptions(),
            remoteEnvironment: environment, queue: queue, input: input,
            scheduler: (scheduler, options))
    }
}

/// The options of `start --scheduler` and `invoke --scheduler`.
enum SchedulerArguments {
    static func options(what: String, computer: Bool = false) -> [OptionSpec] {
        (computer
            ? [
                .option(
                    "--computer", "NAMES", completes: .computers,
                    "with --scheduler: submit through these computers' agents (submit hosts with job installed), "
                        + "one durable child each, followed here through lost links")
            ] : [])
            + [
                .option("--scheduler", "slurm", what + "; JOB_HOME must be on a filesystem the nodes see"),
                .option("--tasks", "N", "with --scheduler: an array of N tasks, one child each ($SLURM_ARRAY_TASK_ID)"),
                .option("--throttle", "K", "with --tasks: at most K tasks at once"),
                .option(
                    "--sbatch-option", "OPT",
                    "with --scheduler: one of sbatch's options, such as --mem=4G (repeatable; added to the config's "
                        + "sbatch-options)"),
            ]
    }
}

/// Quoting of one word for a POSIX shell, so an argument vector survives `sh -c` unchanged.
enum ShellQuote {
    static func quote(_ word: String) -> String {
        if !word.isEmpty && word.utf8.allSatisfy(ShellWords.isPlain) { return word }
        var quoted = "'"
        for character in word {
            quoted += character == "'" ? "'\\''" : String(character)
        }
        return quoted + "'"
    }

    /// A verb's command line from its words: one word is a shell command line as it is,
    /// several are a command and its arguments, each quoted. Refused when blank.
    static func commandLine(_ words: [String]) throws -> String {
        let text = words.count == 1 ? words[0] : words.map(quote).joined(separator: " ")
        try refuseBlank(text)
        return text
    }

    /// A command line of nothing but white space is a usage error.
    static func refuseBlank(_ text: String) throws {
        // A printable ASCII byte settles it without a look at Unicode's properties.
        guard text.utf8.contains(where: { $0 > 0x20 && $0 < 0x7F }) || !text.allSatisfy(\.isWhitespace) else {
            throw CLIFailure.usage("the command is empty")
        }
    }
}
