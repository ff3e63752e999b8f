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

import Foundation
import JobCore

/// What the agent asks of a Slurm cluster, through Slurm's own commands (`sbatch`, `squeue`,
/// `scancel`, `scontrol`, `sacct`) found on the PATH and configured as the user's are
/// (`SLURM_CONF`): the one place that knows their arguments, their output and what Slurm's
/// states mean as job states (issue 24).
///
/// Slurm sites ask tools not to hammer the controller: a caller asks for every child it
/// watches in one `statuses` call per round, and reads a finished job's end once (`ends`).
enum Slurm {
    /// One `sbatch`: a batch job, or an array job of `tasks` tasks.
    struct Submission {
        var command: String
        /// Slurm's job name (`squeue`'s NAME): the job's name.
        var name: String
        /// Each child's InstanceId, one per task: the first goes into Slurm's comment
        /// (`job:ID`), by which a later agent finds a submission it did not see answered.
        var instanceIds: [String]
        /// Each child's stdout and stderr files, one per task: Slurm writes them itself.
        var outputPaths: [String]
        var errorPaths: [String]
        var workingDirectory: String
        /// The job's environment: sbatch exports all of it (its default, `--export=ALL`).
        var environment: [String]
        /// The file every task reads as its stdin (`--input`), on a filesystem the nodes see.
        var input: String?
        /// An array job of this many tasks (`--array=0-N-1`), at most `throttle` at once.
        var tasks: Int?
        var throttle: Int?
        /// Slurm's time limit, from `--timeout` (Slurm counts whole minutes).
        var timeLimit: Double?
        /// Slurm job ids this one runs after: `afterok` (ended Completed) and `afterany`.
        var after: [String] = []
        var afterAny: [String] = []
        /// sbatch's own options, as the user gave them (`--sbatch-option`, `sbatch-options`).
        var options: [String] = []
    }

    /// How a submission failed: Slurm's words.
    struct Problem: Error, Equatable, CustomStringConvertible {
        var description: String
        /// The controller did not answer (it may come back): the submission is to be tried again.
        var unreachable = false
    }

    /// The comment that marks a submission as this child's.
    static func comment(_ instanceId: String) -> String { "job:" + instanceId }

    /// Slurm's time limit for `--timeout`: whole minutes, rounded up (at least one).
    static func timeLimit(_ seconds: Double) -> String {
        let minutes = max(1, Int((seconds / 60).rounded(.up)))
        return String(minutes)
    }

    /// The arguments of the `sbatch` for a submission. An array's tasks write to the files
    /// `taskFiles` names by their index (`%a`, sbatch's patterns): the children's own files, or
    /// a folder of links to them, made by `submit`.
    static func sbatchArguments(_ submission: Submission, taskFiles: (output: String, error: String)?) -> [String] {
        var arguments = [
            "sbatch", "--parsable", "--job-name=" + submission.name,
            "--comment=" + comment(submission.instanceIds.first ?? ""),
            "--chdir=" + submission.workingDirectory, "--export=ALL",
        ]
        if let tasks = submission.tasks, let taskFiles {
            let throttle = submission.throttle.map { $0 > 0 ? "%\($0)" : "" } ?? ""
            arguments += ["--array=0-\(max(0, tasks - 1))\(throttle)"]
            arguments += ["--output=" + taskFiles.output, "--error=" + taskFiles.error]
        } else {
            arguments += [
                "--output=" + literal(submission.outputPaths.first ?? "/dev/null"),
                "--error=" + literal(submission.errorPaths.first ?? "/dev/null"),
            ]
        }
        if let limit = submission.timeLimit { arguments.append("--time=" + timeLimit(limit)) }
        if let input = submission.input { arguments.append("--input=" + literal(input)) }
        var dependencies: [String] = []
        if !submission.after.isEmpty { dependencies.append("afterok:" + submission.after.joined(separator: ":")) }
        if !submission.afterAny.isEmpty {
            dependencies.append("afterany:" + submission.afterAny.joined(separator: ":"))
        }
        if !dependencies.isEmpty {
            // A dependency that can never be met cancels the job instead of leaving it pending.
            arguments += ["--dependency=" + dependencies.joined(separator: ","), "--kill-on-invalid-dep=yes"]
        }
        arguments += submission.options
        arguments += ["--wrap", submission.command]
        return arguments
    }

    /// The InstanceIds of an array's children when they are named by their task index (the
    /// 30 characters they share, then the index in six digits: still a UUID's form), so that
    /// sbatch's `%6a` names each task's own files; nil when they are not (a restart renews some).
    static func taskPrefix(_ instanceIds: [String]) -> String? {
        guard let first = instanceIds.first, first.count == 36 else { return nil }
        let prefix = String(first.prefix(30))
        for (index, id) in instanceIds.enumerated() where id != prefix + taskSuffix(index) { return nil }
        return prefix
    }

    /// A task's index as the last six digits of its child's InstanceId.
    static func taskSuffix(_ index: Int) -> String {
        let digits = String(index)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// A path as sbatch's file options take it literally: `%` starts one of its patterns
    /// (`%j`, `%a`), `%%` is a `%`.
    static func literal(_ path: String) -> String {
        path.replacingOccurrences(of: "%", with: "%%")
    }

    /// What `squeue` says of one job or array task.
    struct Status: Equatable {
        /// `42`, or `42_3` for an array's task.
        var id: String
        /// Slurm's own id of it (an array task has one of its own, which the completion
        /// records use).
        var rawId: String
        /// `PENDING`, `RUNNING`, `COMPLETED`...
        var state: String
        /// Why it waits or how it ended (`Resources`, `Dependency`, `NonZeroExitCode`...);
        /// nil for Slurm's `None`.
        var reason: String?
        /// The nodes it runs on, once it has them.
        var nodes: String?
        var comment: String?
    }

    /// The format of `squeue -o`: fields between `|`, which none of them holds.
    static let statusFormat = "%i|%A|%T|%r|%N|%k"

    static func parseStatus(_ line: String) -> Status? {
        let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 6, !fields[0].isEmpty else { return nil }
        func present(_ text: String) -> String? { text.isEmpty || text == "None" || text == "(null)" ? nil : text }
        return Status(
            id: fields[0], rawId: fields[1], state: fields[2], reason: present(fields[3]), nodes: present(fields[4]),
            comment: present(fields[5]))
    }

    /// How a finished job ended: its exit status, or the signal that ended it, and Slurm's
    /// final state when the answer had it.
    struct End: Equatable {
        var exitStatus: Int?
        var signal: Int?
        var state: String?
    }

    /// A wait status as Slurm keeps it (`exit_code`): the exit status in the high byte, or the
    /// signal in the low bits.
    static func end(waitStatus: Int) -> End {
        waitStatus & 0x7f != 0 ? End(signal: waitStatus & 0x7f) : End(exitStatus: (waitStatus >> 8) & 0xff)
    }

    /// An end as Slurm writes it: `ExitCode` is `STATUS:SIGNAL`; the state's first word
    /// (`CANCELLED by 0`).
    static func end(exitCode: String, state: String) -> End? {
        let parts = exitCode.split(separator: ":").compactMap { Int($0) }
        guard parts.count == 2 else { return nil }
        var end = parts[1] != 0 ? End(signal: parts[1]) : End(exitStatus: parts[0])
        end.state = state.split(separator: " ").first.map(String.init)
        return end
    }

    /// What a Slurm state means as a job's state, with the Reason to show. `end` is how it
    /// ended, when it has.
    static func jobState(of status: Status, end: End? = nil) -> (state: JobState, reason: String?) {
        switch status.state {
        case "PENDING":
            if status.reason == "JobHeldUser" { return (.suspended, "held in Slurm's queue: resume releases it") }
            if let reason = status.reason, reason.hasPrefix("JobHeld") {
                return (.suspended, "held in Slurm's queue by an administrator (\(reason))")
            }
            return (.notStarted, status.reason.map { "pending in Slurm (\($0))" })
        case "RUNNING", "COMPLETING", "CONFIGURING", "RESIZING", "STAGE_OUT", "SIGNALING":
            return (.running, nil)
        case "SUSPENDED":
            return (.suspended, "suspended in Slurm")
        case "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED":
            return (.notStarted, "requeued in Slurm")
        case "COMPLETED":
            return (.completed, nil)
        case "CANCELLED":
            // Slurm cancels a job whose dependency can never be met (`--kill-on-invalid-dep`):
            // the queue's rule says such a job failed, and never ran.
            if let reason = status.reason, reason.contains("Dependency") {
                return (.failed, "never ran: a job it runs after did not end as it needed (\(reason))")
            }
            return (.stopped, "cancelled in Slurm")
        case "TIMEOUT":
            return (.failed, "timed out (Slurm's time limit)")
        case "OUT_OF_MEMORY":
            return (.failed, "out of memory")
        case "NODE_FAIL":
            return (.failed, "its node failed")
        case "BOOT_FAIL":
            return (.failed, "its node failed to boot")
        case "PREEMPTED":
            return (.failed, "preempted")
        case "DEADLINE":
            return (.failed, "its deadline passed")
        default:
            // FAILED, SPECIAL_EXIT, REVOKED, and a state a later Slurm adds.
            if let signal = end?.signal { return (.failed, "killed by signal \(signal) (\(SignalName.of(signal)))") }
            if let code = end?.exitStatus, code != 0 { return (.failed, "exited with status \(code)") }
            return (.failed, "failed in Slurm (\(status.state.lowercased()))")
        }
    }

    /// Whether Slurm is done with it: it will not run (again).
    static func isFinal(_ state: String) -> Bool {
        switch state {
        case "PENDING", "RUNNING", "COMPLETING", "CONFIGURING", "RESIZING", "STAGE_OUT", "SIGNALING", "SUSPENDED",
            "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED":
            false
        default: true
        }
    }

    static func find(_ name: String, path: String?) -> String? {
        let path = path ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") where access(folder + "/" + name, X_OK) == 0 {
            return folder + "/" + name
        }
        return nil
    }

    /// Why `scontrol ACTION` did nothing to a child, in the user's words.
    static func refusal(of action: String, name: String, id: String, problem: Problem) -> String {
        let verb = action == "suspend" || action == "uhold" ? "suspend" : "resume"
        if problem.description.contains("Access/permission denied") || problem.description.contains("Invalid user id") {
            if action == "suspend" || action == "resume" {
                return "Slurm refused to \(verb) \(name) (\(id)): suspending and resuming a running job is an "
                    + "operator's right in Slurm (scontrol \(action): \(problem.description)); stop it instead, or "
                    + "suspend a job while it waits in the queue, which holds it"
            }
            return "Slurm refused to \(verb) \(name) (\(id)): \(problem.description) (a hold an administrator "
                + "placed is theirs to release)"
        }
        return "could not \(verb) \(name) (Slurm \(id)): \(problem.description)"
    }

    /// A failed command's words, as the user is to read them.
    static func problem(_ result: ChildProgram.Result, doing what: String) -> Problem {
        let words = result.errors.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: "; ")
        // Slurm's words when the controller does not answer.
        let unreachable =
            words.contains("Unable to contact slurm controller") || words.contains("Socket timed out")
            || words.contains("Connection refused")
        return Problem(
            description: words.isEmpty ? "\(what) failed with status \(result.status)" : words,
            unreachable: unreachable)
    }
}

extension Slurm {
    /// Slurm's commands as this agent runs them: with its environment (its PATH, and the
    /// `SLURM_CONF` of the cluster, when the site does not use the default).
    struct Client {
        /// `NAME=value` entries; the agent's own.
        var environment: [String]

        /// The PATH of `environment`.
        var path: String? {
            environment.first { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
        }

        /// Submits; the Slurm job id (`42`; an array's tasks are `42_0`, `42_1`...).
        func submit(_ submission: Submission) -> Swift.Result<String, Problem> {
            var taskFiles: (output: String, error: String)?
            if let tasks = submission.tasks {
                // Slurm names an array task's files by a pattern: the children's own files when
                // their InstanceIds end in their index; else each task's name is a link to its
                // child's file. Either way Slurm writes straight into it.
                guard tasks >= 1, submission.outputPaths.count == tasks, submission.errorPaths.count == tasks,
                    let first = submission.instanceIds.first, let jobs = submission.outputPaths.first
                else { return .failure(Problem(description: "an array job needs one child per task")) }
                let jobsFolder = (jobs as NSString).deletingLastPathComponent
                if tasks <= 1_000_000, let prefix = Slurm.taskPrefix(submission.instanceIds),
                    jobs == jobsFolder + "/" + first + ".out"
                {
                    let pattern = Slurm.literal(jobsFolder + "/" + prefix) + "%6a"
                    taskFiles = (pattern + ".out", pattern + ".err")
                } else {
                    let folder = jobsFolder + "/slurm-" + first
                    mkdir(folder, 0o700)
                    for index in 0..<tasks {
                        unlink(folder + "/\(index).out")
                        unlink(folder + "/\(index).err")
                        guard symlink(submission.outputPaths[index], folder + "/\(index).out") == 0,
                            symlink(submission.errorPaths[index], folder + "/\(index).err") == 0
                        else {
                            return .failure(
                                Problem(
                                    description:
                                        "cannot link the task's output files: \(String(cString: strerror(errno)))"))
                        }
                    }
                    taskFiles = (Slurm.literal(folder) + "/%a.out", Slurm.literal(folder) + "/%a.err")
                }
            }
            let result = run(
                "sbatch", Slurm.sbatchArguments(submission, taskFiles: taskFiles), job: submission.environment)
            let id = result.output.split(separator: ";").first.map(String.init)?.trimmingCharacters(
                in: .whitespacesAndNewlines)
            guard result.status == 0, let id, !id.isEmpty, id.allSatisfy(\.isNumber) else {
                return .failure(Slurm.problem(result, doing: "sbatch"))
            }
            return .success(id)
        }

        /// The state of the given jobs (Slurm ids; an array's id covers all its tasks), finished
        /// ones included while Slurm keeps them (MinJobAge). One `squeue` for all of them.
        func statuses(_ ids: [String]) -> Swift.Result<[Slurm.Status], Slurm.Problem> {
            guard !ids.isEmpty else { return .success([]) }
            let result = run(
                "squeue",
                ["squeue", "-h", "-r", "-t", "all", "-j", ids.joined(separator: ","), "-o", Slurm.statusFormat])
            // squeue refuses ids it no longer knows ("Invalid job id specified") when all are gone.
            if result.status != 0 && result.errors.contains("Invalid job id") { return .success([]) }
            guard result.status == 0 else { return .failure(Slurm.problem(result, doing: "squeue")) }
            return .success(result.output.split(separator: "\n").compactMap { Slurm.parseStatus(String($0)) })
        }

        /// This user's jobs that carry a comment of ours (`job:ID`), finished ones included
        /// while Slurm keeps them: how an agent finds what a submission it did not see answered
        /// made. One `squeue` for all of them.
        func marked() -> Swift.Result<[Slurm.Status], Slurm.Problem> {
            let user = String(cString: getpwuid(getuid())?.pointee.pw_name ?? strdup("root"))
            let result = run("squeue", ["squeue", "-h", "-r", "-t", "all", "-u", user, "-o", Slurm.statusFormat])
            guard result.status == 0 else { return .failure(Slurm.problem(result, doing: "squeue")) }
            return .success(
                result.output.split(separator: "\n").compactMap { Slurm.parseStatus(String($0)) }.filter {
                    $0.comment?.hasPrefix("job:") == true
                })
        }

        /// The ends of finished jobs by their raw ids, read where it costs the controller least:
        /// the completion records (`sacct -c`, a file, with `JobCompType=jobcomp/filetxt`), then
        /// the accounting database (`sacct`, with slurmdbd), and for what neither has, the
        /// controller itself, one `scontrol -o show job ID` each (once per job: its end is
        /// stored). Not `squeue --json`: Slurm 22.05 ignores its `-j` and answers with every job
        /// it knows, megabytes on a busy cluster.
        func ends(_ rawIds: [String]) -> [String: Slurm.End] {
            guard !rawIds.isEmpty else { return [:] }
            var ends: [String: Slurm.End] = [:]
            for source in [["sacct", "-c"], ["sacct"]] {
                let missing = rawIds.filter { ends[$0] == nil }
                guard !missing.isEmpty else { break }
                let records = run(
                    "sacct", source + ["-n", "-P", "-j", missing.joined(separator: ","), "-o", "JobID,ExitCode,State"])
                for line in records.output.split(separator: "\n") {
                    let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                    guard fields.count == 3, let end = Slurm.end(exitCode: fields[1], state: fields[2]) else {
                        continue
                    }
                    ends[fields[0]] = end
                }
            }
            for id in rawIds where ends[id] == nil {
                let shown = run("scontrol", ["scontrol", "-o", "show", "job", id])
                guard shown.status == 0 else { continue }
                var fields: [Substring: Substring] = [:]
                for word in shown.output.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
                    guard let equals = word.firstIndex(of: "=") else { continue }
                    fields[word[..<equals]] = word[word.index(after: equals)...]
                }
                guard let code = fields["ExitCode"], let state = fields["JobState"], Slurm.isFinal(String(state)),
                    let end = Slurm.end(exitCode: String(code), state: String(state))
                else { continue }
                ends[id] = end
            }
            return ends
        }

        /// Cancels jobs, or with `signal` only signals their steps (`scancel --signal`).
        func cancel(_ ids: [String], signal: Int32? = nil) -> Slurm.Problem? {
            guard !ids.isEmpty else { return nil }
            var arguments = ["scancel"]
            if let signal { arguments += ["--signal=\(signal)", "--full"] }
            let result = run("scancel", arguments + ids)
            return result.status == 0 ? nil : Slurm.problem(result, doing: "scancel")
        }

        /// `scontrol ACTION ID`: uhold, release, suspend, resume.
        func control(_ action: String, _ id: String) -> Slurm.Problem? {
            let result = run("scontrol", ["scontrol", action, id])
            return result.status == 0 ? nil : Slurm.problem(result, doing: "scontrol " + action)
        }

        /// Runs one of Slurm's commands, by the PATH of the agent's environment (Slurm's own
        /// clients are where the site put them), with that environment, or with a job's (`job`:
        /// sbatch exports it to the job), to which the cluster's `SLURM_CONF` is added when it lacks
        /// one.
        func run(_ name: String, _ argv: [String], job: [String] = []) -> ChildProgram.Result {
            let variables = Dictionary(
                environment.compactMap { entry in
                    entry.firstIndex(of: "=").map { (String(entry[..<$0]), String(entry[entry.index(after: $0)...])) }
                },
                uniquingKeysWith: { _, last in last })
            guard let program = Slurm.find(name, path: variables["PATH"]) else {
                return ChildProgram.Result(
                    status: 127, output: "", errors: "\(name) was not found on the PATH: is this a Slurm submit host?")
            }
            var used = job.isEmpty ? environment : job
            if !job.isEmpty, !job.contains(where: { $0.hasPrefix("SLURM_CONF=") }), let conf = variables["SLURM_CONF"] {
                used.append("SLURM_CONF=" + conf)
            }
            return ChildProgram.run(program, argv, environment: used)
        }

    }
}
