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

import CJobSupport
import Foundation
import JobCore
import JobProtocol
import JobStore

/// A child a Slurm cluster runs: a batch job, or one task of an array job. Slurm starts it in
/// its own order (its queue, its throttle), writes its output files itself, and says how it is
/// doing when asked: the agent's Slurm watcher asks for every such child in one `squeue` per
/// round (`SlurmWatch`), and applies what it hears through the child's named transitions.
struct SlurmBackend: JobBackend {
    /// Submits one child on its own (a restart): handed to the watcher, which submits it
    /// outside the lock (sbatch may wait for a slow controller) at once, with no lookup first
    /// (its InstanceId is new). An array's task keeps its index (`--array=I`), so
    /// `$SLURM_ARRAY_TASK_ID` is what it was.
    func launch(_ job: inout StoredJob, _ plan: LaunchPlan, in state: RegistryState) {
        if job.state == .running && job.pid == nil { job.unbegin() }
        job.follow(scheduler: .notStarted, reason: "being submitted to Slurm", location: nil)
        state.slurm.fresh.insert(job.id)
        state.slurm.wake()
    }

    /// `scancel --signal`: to the job's steps (and its batch shell); Slurm runs it on. KILL
    /// (a stop's last word) cancels it.
    func signal(_ job: StoredJob, _ signal: Int32, in state: RegistryState) {
        guard let id = job.schedulerJobId else { return }
        state.slurm.send(job.id, id, signal: signal == SIGKILL ? nil : signal)
    }

    func refusesSignals(_ job: StoredJob, verb: String, in state: RegistryState) -> String? {
        job.schedulerJobId == nil ? "\(state.messageName(of: job)) is not in Slurm yet" : nil
    }

    /// One waiting in Slurm's queue is held; a running one suspended. A held or suspended one
    /// is resumed.
    func pausable(_ job: StoredJob, suspending: Bool) -> Bool {
        suspending ? job.state == .running || job.state == .notStarted : job.state == .suspended
    }

    /// `scontrol uhold` while it waits (a hold its owner may release), `scontrol suspend` once it
    /// runs (an operator's right in Slurm: a refusal is said in plain words), `release` or
    /// `resume` back; then its state as squeue says it, which the watcher follows on.
    func pause(_ job: inout StoredJob, suspending: Bool, at time: Date, in state: RegistryState) -> Pause {
        guard let id = job.schedulerJobId else { return .done }
        let client = state.slurm.client
        let name = state.messageName(of: job)
        let action =
            job.beginTime == nil ? (suspending ? "uhold" : "release") : (suspending ? "suspend" : "resume")
        state.slurm.wake()
        return .outside {
            if let problem = client.control(action, id) {
                return PauseOutcome(refusal: Slurm.refusal(of: action, name: name, id: id, problem: problem))
            }
            guard case .success(let statuses) = client.statuses([id]),
                let status = statuses.first(where: { $0.id == id }), !Slurm.isFinal(status.state)
            else { return PauseOutcome() }
            return PauseOutcome { job in
                let (state, reason) = Slurm.jobState(of: status)
                job.follow(scheduler: state, reason: reason, location: status.nodes)
            }
        }
    }

    /// Slurm stops it: `scancel` (Slurm's own SIGTERM, then SIGKILL after its KillWait). With
    /// `stop --signal`, a running one gets that signal first (`scancel --signal`, delivered as
    /// a stop's first signal) and is cancelled once the grace period is over (a stop's KILL).
    /// One that Slurm does not have yet is Stopped at once.
    func prepareStop(_ job: inout StoredJob, first: Int32, grace: Double, in state: RegistryState) -> StopStart {
        guard let id = job.schedulerJobId else {
            _ = job.requestStop()
            return .neverStarted
        }
        job.stopDelivered(grace: grace)
        state.slurm.wake()
        if first != SIGTERM && job.beginTime != nil { return .signalled }
        state.slurm.send(job.id, id, signal: nil)
        return .handedOver
    }

    /// Slurm keeps it whatever the agent does: the watcher follows it again.
    func adopt(_ job: inout StoredJob, in state: RegistryState) -> Adoption {
        state.slurm.wake()
        return .watched
    }

    func forget(_ job: StoredJob, in state: RegistryState) {
        state.slurm.forget(job)
    }

    /// Removing it here would leave it to run in Slurm, unseen.
    func removalProblem(_ job: StoredJob, in state: RegistryState) -> String? {
        guard !job.state.isFinished, let id = job.schedulerJobId else { return nil }
        return "\(state.messageName(of: job)) is \(job.state.rawValue) in Slurm (\(id)) and not cancelled yet: "
            + "stop it first"
    }

    var startsInItsOwnOrder: Bool { true }
}

/// The agent's part for Slurm: the client it runs Slurm's commands with, the raw ids of the
/// array tasks it has seen (the completion records know them by those), and the watcher's
/// thread, started when there is something to watch and woken by a submission or a stop.
struct SlurmWatch {
    var client = Slurm.Client(environment: ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" })
    /// An array task's own id by its `42_3` (its end is read by it).
    var rawIds: [String: String] = [:]
    /// Since when the controller has not answered, while it does not.
    var unreachableSince: Date?
    /// Whether the watcher's thread runs.
    var running = false
    /// Children whose sbatch is under way (the start's, or the watcher's): not looked for nor
    /// submitted again meanwhile.
    var inFlight: Set<Int> = []
    /// Children to submit at the next round without looking for them first (a restart's: their
    /// InstanceId is new, so no submission can carry it).
    var fresh: Set<Int> = []
    /// Children in Slurm that squeue no longer lists and whose end was not found, by how many
    /// rounds in a row: their end is unknown after two.
    var gone: [Int: Int] = [:]
    /// Children not submitted, by how many rounds in a row their submission was looked for in
    /// Slurm and not found: submitted again only after two (a controller that comes back may
    /// still be taking the sbatch it got while it did not answer).
    var notFound: [Int: Int] = [:]
    /// Children held here until jobs they run after, which are not in Slurm, end; submitted at
    /// once when they have (no submission can carry them: this agent held them).
    var held: Set<Int> = []
    /// Starts the watcher's thread (set by the registry).
    var spawn: (() -> Void)?
    /// Wakes the watcher between its rounds.
    let wakeFD = cjob_eventfd_create()

    /// Cancels and signals to send (`scancel`, with `--signal` for a signal), by the watcher
    /// outside the lock at its next round, which they start at once: a controller slow to
    /// answer holds up no verb.
    var outbox: [(job: Int, slurmId: String, signal: Int32?)] = []

    /// Queues a cancel (`signal` nil) or a signal of a child for the watcher, and wakes it.
    mutating func send(_ job: Int, _ slurmId: String, signal: Int32?) {
        outbox.append((job, slurmId, signal))
        wake()
    }

    /// Starts the watcher if it does not run; else wakes it for a round now.
    mutating func wake() {
        if !running, let spawn {
            running = true
            spawn()
        } else if wakeFD >= 0 {
            cjob_eventfd_signal(wakeFD)
        }
    }

    mutating func forget(_ job: StoredJob) {
        if let id = job.schedulerJobId { rawIds[id] = nil }
        held.remove(job.id)
    }

    /// The Reason of a child while the controller does not answer: one not submitted yet waits
    /// to be (and is, once it answers); one in Slurm keeps its last state.
    func unreachableReason(since: Date, submitted: Bool) -> String {
        let time = Timestamp.format(unreachableSince ?? since)
        return submitted
            ? "Slurm controller not answering since \(time)"
            : "\(Self.waitingToSubmit): the Slurm controller is not answering since \(time)"
    }

    static let waitingToSubmit = "waiting to be submitted"

    func close() {
        if wakeFD >= 0 { Glibc.close(wakeFD) }
    }
}

/// Where the jobs a Slurm job runs after stand (`RegistryState.slurmDependencies`).
struct SlurmDependencies {
    /// Slurm ids it runs after once they completed (`afterok`), or ended in any way (`afterany`).
    var after: [String] = []
    var afterAny: [String] = []
    /// Jobs not in Slurm (here, or on another computer) it waits for before it is submitted, by
    /// the name messages give them; and Slurm jobs not submitted yet, which it waits for to be.
    var waitingFor: [String] = []
    var waitingSubmission: [String] = []
    /// Why it can never run (one it runs after did not complete, or was removed).
    var never: String?
    /// Ids that name no job, with whether they were given with `--after-any`.
    var unknown: [(Int, Bool)] = []

    /// Its Reason while it waits here.
    var waitingReason: String? {
        func list(_ names: [String]) -> String {
            names.count == 1 ? names[0] : names.dropLast().joined(separator: ", ") + " and " + (names.last ?? "")
        }
        if !waitingFor.isEmpty { return "waiting for \(list(waitingFor)) to end before it is submitted to Slurm" }
        if !waitingSubmission.isEmpty { return "waiting for \(list(waitingSubmission)) to be submitted to Slurm first" }
        return nil
    }
}

/// `start --scheduler slurm`: the job stored first, answered, then submitted (outside the
/// lock: sbatch may wait for a slow controller), and the submission's id stored.
extension SchedulerStartRequest: Handled {
    func handle(_ context: RequestContext, answer: (Result<any TaggedMessage, Failure>) -> Void) {
        if hasInput && context.fds.isEmpty {
            return answer(.failure(Failure(.badRequest, "bad request: input announced but not attached")))
        }
        let input = hasInput ? context.fds.first : nil
        let made: Result<(StartReply, Slurm.Submission?, [Int]), Failure> = context.registry.withState { state in
            state.makeSlurmJob(self, input: input)
        }
        switch made {
        case .failure(let failure):
            answer(.failure(failure))
        case .success(let (reply, submission, children)):
            answer(.success(reply))
            guard let submission else { return }
            FaultPoint.startAfterAnswer.reached()
            let client = context.registry.withState { $0.slurm.client }
            let submitted = client.submit(submission)
            FaultPoint.startAfterLaunch.reached()
            context.registry.withState { $0.recordSubmission(submitted, children: children) }
        }
    }
}

extension RegistryState {
    /// A SlurmJob and its children (one, or one per task), stored NotStarted; what to submit.
    /// Lock held.
    func makeSlurmJob(_ request: SchedulerStartRequest, input: Int32? = nil) -> Result<
        (StartReply, Slurm.Submission?, [Int]), Failure
    > {
        guard request.scheduler == "slurm" else {
            return .failure(Failure(.refused, "no scheduler '\(request.scheduler)' is known; the one known is slurm"))
        }
        switch startedBefore(request.instanceId) {
        case .failure(let failure): return .failure(failure)
        case .success(let existing?): return .success((StartReply(job: existing), nil, []))
        case .success(nil): break
        }
        guard !request.command.isEmpty else { return .failure(Failure(.refused, "the command is empty")) }
        guard (0...100_000).contains(request.tasks) else {
            return .failure(Failure(.refused, "--tasks takes 1 to 100000 tasks"))
        }
        guard request.throttle >= 0 else { return .failure(Failure(.refused, "--throttle takes 0 (no limit) or more")) }
        for option in request.options where !option.hasPrefix("-") || option.contains("\n") || option.contains("\0") {
            return .failure(
                Failure(.refused, "'\(option)' is not an sbatch option (each --sbatch-option is one, such as --mem=4G)")
            )
        }
        do {
            if let name = request.name { try InputCheck.jobName(name) }
            if let group = request.group { try InputCheck.groupName(group) }
        } catch {
            return .failure(Failure(.refused, "\(error)"))
        }
        // The input: a file the nodes read (Slurm's --input), the client's copy in the jobs
        // folder becoming the job's.
        var inputPath: String?
        if let input {
            guard let path = Self.regularFile(input) else {
                return .failure(
                    Failure(.refused, "--input with --scheduler takes a file (its copy is made in the jobs folder)"))
            }
            inputPath = path
        }
        guard Slurm.find("sbatch", path: slurm.client.path) != nil else {
            return .failure(
                Failure(
                    .refused,
                    "sbatch is not on the agent's PATH: this computer is not a Slurm submit host (or the agent was "
                        + "started without Slurm's commands on its PATH; restart it with `job agent stop`)"))
        }
        let dependencies = slurmDependencies(after: request.after, afterAny: request.afterAny)
        if let (id, anyEnd) = dependencies.unknown.first {
            return .failure(Failure(.refused, "\(anyEnd ? "--after-any" : "--after") \(id): no job has that Id"))
        }
        let count = max(1, request.tasks)
        var (parent, made) = makeJob(
            type: JobType.slurm, name: request.name, command: request.command,
            children: (0..<count).map { _ in
                ChildPlan(
                    location: "slurm", workingDirectory: request.workingDirectory, shell: "/bin/sh",
                    placement: .slurm)
            }, instanceId: request.instanceId?.lowercased())
        if request.tasks > 0 {
            // An array's children are named by their task index, so that Slurm writes each
            // task's own files by its pattern (no link made per task).
            let prefix = String(InstanceIdentifier.random().prefix(30))
            for index in made.indices { made[index].instanceId = prefix + Slurm.taskSuffix(index) }
        }
        parent.scheduler = "slurm"
        parent.queueGroup = request.group == Scheduler.defaultGroup ? nil : request.group
        if let path = inputPath {
            let kept = home.inputPath(parent.instanceId)
            inputPath = path.hasPrefix(home.jobsPath + "/.input-") && rename(path, kept) == 0 ? kept : path
        }
        parent.throttleLimit = request.throttle
        parent.after = request.after
        parent.afterAny = request.afterAny
        // The time limit goes with the options, so that a restart submits it again.
        parent.schedulerOptions =
            (request.timeout.map { ["--time=" + Slurm.timeLimit($0)] } ?? []) + request.options
        for index in made.indices {
            made[index].scheduler = "slurm"
            made[index].inputFile = inputPath
            made[index].follow(
                scheduler: .notStarted, reason: dependencies.waitingReason ?? "being submitted to Slurm", location: nil)
            // The queue's rule: a job after one that did not complete never runs.
            if let never = dependencies.never { made[index].neverStarted(never) }
        }
        if let failure = storeAndRegister(parent, made, environment: request.environment) {
            return .failure(failure)
        }
        let ids = made.map(\.id)
        guard dependencies.never == nil else { return .success((StartReply(job: record(parent)), nil, ids)) }
        guard dependencies.waitingReason == nil else {
            // Held here until what it waits for ends: the watcher submits it then.
            slurm.held.formUnion(ids)
            slurm.wake()
            return .success((StartReply(job: record(parent)), nil, ids))
        }
        slurm.inFlight.formUnion(ids)
        var submission = slurmSubmission(parent: parent, children: made, environment: request.environment)
        if request.tasks > 0 {
            submission.tasks = count
            submission.throttle = request.throttle
        }
        submission.after = dependencies.after
        submission.afterAny = dependencies.afterAny
        return .success((StartReply(job: record(parent)), submission, ids))
    }

    /// Where the jobs a Slurm job runs after stand (`--after`: to complete; `--after-any`: to
    /// end in any way), each job by its children: those in Slurm are Slurm's dependencies (one
    /// that already ended as needed is none any more); those not in Slurm (here, on another
    /// computer, or not submitted yet) it waits for here, held, before it is submitted. Lock held.
    func slurmDependencies(after: [Int], afterAny: [Int]) -> SlurmDependencies {
        var found = SlurmDependencies()
        for (id, anyEnd) in after.map({ ($0, false) }) + afterAny.map({ ($0, true) }) {
            guard let job = jobs[id] else {
                found.unknown.append((id, anyEnd))
                if found.never == nil { found.never = "never ran: job \(id), which it runs after, was removed" }
                continue
            }
            let kids = job.parentId == nil ? childIds(of: id).compactMap { jobs[$0] } : [job]
            for kid in kids {
                if kid.state.isFinished {
                    if !anyEnd && kid.state != .completed && found.never == nil {
                        found.never =
                            "never ran: \(messageName(of: kid)), which it runs after, ended \(kid.state.rawValue)"
                    }
                } else if kid.placement == .slurm, let slurmId = kid.schedulerJobId {
                    if anyEnd { found.afterAny.append(slurmId) } else { found.after.append(slurmId) }
                } else if kid.placement == .slurm {
                    if !found.waitingSubmission.contains(messageName(of: job)) {
                        found.waitingSubmission.append(messageName(of: job))
                    }
                } else if !found.waitingFor.contains(messageName(of: job)) {
                    found.waitingFor.append(messageName(of: job))
                }
            }
        }
        return found
    }

    /// What sbatch is given for these children of a SlurmJob.
    func slurmSubmission(parent: StoredJob, children: [StoredJob], environment: [String]) -> Slurm.Submission {
        Slurm.Submission(
            command: parent.command, name: parent.name, instanceIds: children.map(\.instanceId),
            outputPaths: children.map { home.outputPath($0.instanceId) },
            errorPaths: children.map { home.errorPath($0.instanceId) },
            workingDirectory: children.first?.workingDirectory ?? parent.workingDirectory, environment: environment,
            input: children.first?.inputFile, options: parent.schedulerOptions)
    }

    /// Stores what sbatch answered for the children of one submission (an array's tasks in
    /// order, or one child, `index` its task's when it is one). Lock held.
    func recordSubmission(_ submitted: Result<String, Slurm.Problem>, children: [Int], index: Int? = nil) {
        var changed: [StoredJob] = []
        slurm.inFlight.subtract(children)
        for (offset, id) in children.enumerated() {
            slurm.notFound[id] = nil
            guard var job = jobs[id], !job.state.isFinished, job.schedulerJobId == nil else { continue }
            switch submitted {
            case .success(let slurmId):
                let taskId =
                    children.count > 1 ? "\(slurmId)_\(offset)" : index.map { "\(slurmId)_\($0)" } ?? slurmId
                if job.stopRequested {
                    // Stopped while sbatch ran: cancelled now.
                    slurm.send(id, taskId, signal: nil)
                }
                job.submitted(as: taskId, reason: "submitted to Slurm (\(taskId))")
            case .failure(let problem) where problem.unreachable:
                if slurm.unreachableSince == nil { slurm.unreachableSince = Date() }
                job.follow(
                    scheduler: .notStarted, reason: slurm.unreachableReason(since: Date(), submitted: false),
                    location: nil)
            case .failure(let problem):
                job.launchFailed("sbatch refused it: \(problem.description)")
            }
            jobs[id] = job
            changed.append(job)
        }
        if case .success(let slurmId) = submitted, let first = children.first, let parentId = jobs[first]?.parentId {
            log.write("submitted \(jobs[parentId]?.name ?? "a job") to Slurm as \(slurmId)")
        }
        persist(changed)
        slurm.wake()
    }

    /// The children the Slurm watcher follows: unfinished, run by Slurm. Lock held.
    func slurmChildren() -> [StoredJob] {
        table.allSlots.lazy.map(\.job).filter { $0.placement == .slurm && $0.parentId != nil && !$0.state.isFinished }
    }

    /// One round's question: the Slurm ids to ask about, and the children to submit again (the
    /// controller did not take them). nil when the agent stops or nothing is left to watch
    /// (the watcher's thread then ends). Lock held.
    func slurmRound() -> (ids: [String], lookup: [Int], submit: [Int])? {
        let children = slurmChildren()
        guard !stopping, !children.isEmpty else {
            slurm.running = false
            return nil
        }
        var ids: [String] = []
        var seen = Set<String>()
        var lookup: [Int] = []
        var submit: [Int] = []
        var changed: [StoredJob] = []
        slurm.held.formIntersection(children.map(\.id))
        for var child in children {
            guard let id = child.schedulerJobId else {
                guard !slurm.inFlight.contains(child.id) && !child.stopRequested, let parentId = child.parentId,
                    let parent = jobs[parentId]
                else { continue }
                // What it runs after first: it waits here for what is not in Slurm, and never
                // runs after one that failed.
                let dependencies = slurmDependencies(after: parent.after, afterAny: parent.afterAny)
                if let never = dependencies.never {
                    child.neverStarted(never)
                    changed.append(child)
                    continue
                }
                if let waiting = dependencies.waitingReason {
                    slurm.held.insert(child.id)
                    if child.reason != waiting {
                        child.follow(scheduler: .notStarted, reason: waiting, location: nil)
                        changed.append(child)
                    }
                    continue
                }
                // Not submitted, or submitted by an agent that died before it stored the id: looked
                // for in Slurm by its comment first, but for a restart's and one this agent held
                // (no submission can carry them).
                if slurm.fresh.contains(child.id) || slurm.held.contains(child.id) {
                    submit.append(child.id)
                } else {
                    lookup.append(child.id)
                }
                continue
            }
            // An array's tasks are asked about by the array's id, once.
            let base = String(id.prefix { $0 != "_" })
            if seen.insert(base).inserted { ids.append(base) }
        }
        slurm.fresh.subtract(submit)
        slurm.held.subtract(submit)
        for job in changed { jobs[job.id] = job }
        persist(changed)
        return (ids, lookup, submit)
    }

    /// Children not submitted that a submission in Slurm carries (found by the comment of
    /// theirs or of their array's first child): their ids stored; what is left, by how many
    /// rounds it was not found. Lock held.
    func adoptMarked(_ ids: [Int], marked: [Slurm.Status]) -> [Int] {
        var byComment: [String: [Slurm.Status]] = [:]
        for status in marked { byComment[status.comment ?? "", default: []].append(status) }
        var left: [Int] = []
        var changed: [StoredJob] = []
        for id in ids {
            guard var job = jobs[id], job.schedulerJobId == nil, !job.state.isFinished,
                let parentId = job.parentId
            else { continue }
            let siblings = childIds(of: parentId)
            let index = siblings.firstIndex(of: id) ?? 0
            let first = siblings.first.flatMap { jobs[$0]?.instanceId } ?? job.instanceId
            let own = byComment[Slurm.comment(job.instanceId)]?.first
            let inArray = byComment[Slurm.comment(first)]?.first { status in
                siblings.count == 1 ? !status.id.contains("_") : status.id.hasSuffix("_\(index)")
            }
            guard let found = own ?? inArray else {
                slurm.notFound[id, default: 0] += 1
                if slurm.notFound[id, default: 0] >= 2 { left.append(id) }
                continue
            }
            slurm.notFound[id] = nil
            job.submitted(as: found.id, reason: "submitted to Slurm (\(found.id))")
            log.write("found Job\(id) in Slurm as \(found.id): its submission was not recorded")
            jobs[id] = job
            changed.append(job)
        }
        persist(changed)
        return left
    }

    /// What to submit for children Slurm does not have (a restart's, a released hold's, or
    /// ones a silent controller did not take): all the children of an array at once as the
    /// array again, else one child each (an array's task keeping its index); each with its
    /// Slurm dependencies as they stand now. They are in flight until recorded. Lock held.
    func resubmissions(_ ids: [Int]) -> [(children: [Int], index: Int?, submission: Slurm.Submission)] {
        var plans: [(children: [Int], index: Int?, submission: Slurm.Submission)] = []
        var wanted = ids.filter { id in
            guard let job = jobs[id] else { return false }
            return job.schedulerJobId == nil && !job.state.isFinished && !job.stopRequested
                && !slurm.inFlight.contains(id) && job.parentId.flatMap { jobs[$0] } != nil
        }
        while let id = wanted.first, let job = jobs[id], let parentId = job.parentId, let parent = jobs[parentId] {
            let siblings = childIds(of: parentId)
            let whole = siblings.count > 1 && Set(siblings).isSubset(of: wanted)
            let children = whole ? siblings : [id]
            wanted.removeAll { children.contains($0) }
            slurm.inFlight.formUnion(children)
            let environment = (try? database.environment(of: id)) ?? []
            var submission = slurmSubmission(
                parent: parent, children: children.compactMap { jobs[$0] }, environment: environment)
            let dependencies = slurmDependencies(after: parent.after, afterAny: parent.afterAny)
            (submission.after, submission.afterAny) = (dependencies.after, dependencies.afterAny)
            let index = siblings.count > 1 && !whole ? siblings.firstIndex(of: id) : nil
            if whole {
                submission.tasks = siblings.count
                submission.throttle = parent.throttleLimit
            } else if let index {
                submission.options.insert("--array=\(index)", at: 0)
            }
            plans.append((children, index, submission))
        }
        return plans
    }

    /// Applies what squeue said, and the ends read for those that finished; true when a child
    /// changed. Lock held.
    func applySlurm(_ statuses: Result<[Slurm.Status], Slurm.Problem>, ends: [String: Slurm.End]) -> Bool {
        let children = slurmChildren()
        var changed: [StoredJob] = []
        let now = Date()
        switch statuses {
        case .failure(let problem) where problem.unreachable:
            if slurm.unreachableSince == nil { slurm.unreachableSince = now }
            for var child in children where child.schedulerJobId != nil {
                let reason = slurm.unreachableReason(since: now, submitted: true)
                guard child.reason != reason else { continue }
                child.follow(scheduler: child.state, reason: reason, location: nil)
                jobs[child.id] = child
                changed.append(child)
            }
        case .failure(let problem):
            log.warning("squeue failed: \(problem)")
        case .success(let statuses):
            slurm.unreachableSince = nil
            let byId = Dictionary(statuses.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
            for status in statuses { slurm.rawIds[status.id] = status.rawId }
            for var child in children {
                guard let id = child.schedulerJobId else { continue }
                guard let status = byId[id] ?? expired(id: id, ends: ends) else {
                    // Not listed and no end found: its record expired (MinJobAge) while no agent
                    // looked, or the controller lost it. After two rounds its end is unknown.
                    slurm.gone[child.id, default: 0] += 1
                    if slurm.gone[child.id, default: 0] >= 2 {
                        slurm.gone[child.id] = nil
                        child.fail(
                            "Slurm no longer knows it (\(id)): its record expired before its end was read, or the "
                                + "controller lost it; its end is unknown", at: now)
                        refreshSizes(&child)
                        jobs[child.id] = child
                        changed.append(child)
                    }
                    continue
                }
                slurm.gone[child.id] = nil
                let before = child
                if Slurm.isFinal(status.state) {
                    let end = ends[status.rawId]
                    var (state, reason) = Slurm.jobState(of: status, end: end)
                    if child.stopRequested && state == .stopped { reason = "stopped by request" }
                    child.remoteEnded(
                        state, exitStatus: end?.exitStatus, signal: end?.signal, reason: reason,
                        timedOut: status.state == "TIMEOUT", at: now)
                    if let nodes = status.nodes { child.follow(location: nodes) }
                    refreshSizes(&child)
                    log.write("Job\(child.id) (Slurm \(id)) ended \(child.state.rawValue.lowercased())")
                } else {
                    let (state, reason) = Slurm.jobState(of: status)
                    child.follow(scheduler: state, reason: reason, location: status.nodes)
                }
                guard child != before else { continue }
                jobs[child.id] = child
                changed.append(child)
            }
        }
        persist(changed)
        return !changed.isEmpty
    }

    /// The raw ids to read ends by: of the finished jobs among these statuses (but cancelled
    /// ones), and of the children squeue no longer lists (their end is in the completion
    /// records). Lock held.
    func slurmEndsWanted(_ statuses: [Slurm.Status]) -> [String] {
        let watched = Set(slurmChildren().compactMap(\.schedulerJobId))
        let listed = Set(statuses.map(\.id))
        let missing = watched.subtracting(listed).compactMap { id in
            slurm.rawIds[id] ?? (id.contains("_") ? nil : id)
        }
        // A cancelled one's state says all (Stopped): no end is read for it, so that a cancelled
        // array of thousands costs no lookup per task.
        return statuses.filter { Slurm.isFinal($0.state) && $0.state != "CANCELLED" && watched.contains($0.id) }
            .map(\.rawId) + missing
    }

    /// A status made from the end the completion records have of a child squeue no longer
    /// lists; nil when they have none.
    private func expired(id: String, ends: [String: Slurm.End]) -> Slurm.Status? {
        guard let raw = slurm.rawIds[id] ?? (id.contains("_") ? nil : id), let end = ends[raw], let state = end.state
        else { return nil }
        return Slurm.Status(id: id, rawId: raw, state: state, reason: nil, nodes: nil)
    }

    /// How long the watcher waits before its next round: a second while a child runs (an end
    /// may come at any moment) or changed lately; two once all have only waited in Slurm's
    /// queue for ten rounds. Never less than a second: the controller gets at most one squeue
    /// a second from this agent, however many children it follows.
    func slurmInterval(quietRounds: Int) -> Double {
        let children = slurmChildren()
        if children.contains(where: { $0.state != .notStarted && $0.state != .suspended }) { return 1 }
        return quietRounds < 10 ? 1 : 2
    }
}

extension StoredJob {
    /// Where a scheduler's child runs, as the scheduler says once it runs (its nodes).
    mutating func follow(location nodes: String) {
        location = nodes
    }
}

extension JobRegistry {
    /// The Slurm watcher: while any child runs in Slurm, one `squeue` for all of them per round,
    /// the ends of those that finished read once, and what changed stored. Runs on a thread of
    /// its own, outside the lock but for each round's question and answer. Rounds are at least
    /// a second apart, however often it is woken; cancels and signals go at once.
    func watchSlurm() {
        var quiet = 0
        var lastRound = Date.distantPast
        let wake = withState { $0.slurm.wakeFD }
        func pause(_ seconds: Double) {
            var ready = pollfd(fd: wake, events: Int16(POLLIN), revents: 0)
            if poll(&ready, 1, Int32(max(0, seconds) * 1000)) > 0 {
                var value: UInt64 = 0
                _ = read(wake, &value, 8)
            }
        }
        while true {
            // Cancels and signals first, outside the lock: a stop's word goes before anything
            // else, also when this is the last round.
            let since = Date().timeIntervalSince(lastRound)
            let (next, outbox, client) = withState { state in
                defer { state.slurm.outbox = [] }
                return (since < 1 ? nil : state.slurmRound(), state.slurm.outbox, state.slurm.client)
            }
            sendOutbox(outbox, client)
            if since < 1 {
                // Woken within a second of the last round: the next waits for its second.
                pause(1 - since)
                continue
            }
            guard let round = next else {
                // The last round: what was queued meanwhile goes before the thread ends.
                sendOutbox(
                    withState { state in
                        defer { state.slurm.outbox = [] }
                        return state.slurm.outbox
                    }, client)
                return
            }
            lastRound = Date()
            // Looked for first (by comment), then submitted outside the lock: sbatch waits for a
            // controller that is slow to answer.
            var resubmit = round.submit
            if !round.lookup.isEmpty, case .success(let marked) = client.marked() {
                resubmit += withState { $0.adoptMarked(round.lookup, marked: marked) }
            }
            for plan in withState({ $0.resubmissions(resubmit) }) {
                let submitted = client.submit(plan.submission)
                withState { $0.recordSubmission(submitted, children: plan.children, index: plan.index) }
            }
            let statuses = client.statuses(round.ids)
            let wanted = withState { state in (try? statuses.get()).map { state.slurmEndsWanted($0) } ?? [] }
            let ends = client.ends(wanted)
            let (changed, interval) = withState { state in
                let changed = state.applySlurm(statuses, ends: ends)
                return (changed, state.slurmInterval(quietRounds: quiet))
            }
            quiet = changed ? 0 : quiet + 1
            pause(interval)
        }
    }

    /// Sends the cancels and signals queued for Slurm (`scancel`), each on its own: one that
    /// fails is logged, and the watcher's next round sees where the job stands.
    private func sendOutbox(_ outbox: [(job: Int, slurmId: String, signal: Int32?)], _ client: Slurm.Client) {
        for (job, slurmId, signal) in outbox {
            let problem = signal.map { client.cancel([slurmId], signal: $0) } ?? client.cancel([slurmId])
            if let problem {
                withState { state in
                    state.log.warning(
                        "could not \(signal == nil ? "cancel" : "signal") Job\(job) (Slurm \(slurmId)): \(problem)")
                }
            }
        }
    }
}
