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
import JobStore
import Synchronization

/// The agent's side of the per-job monitors (`Sources/CJobSupport/JobMonitor.c`).
///
/// Every running local or remote child has a monitor, its parent process, which the agent
/// reaches through the abstract socket named after the job's InstanceId. The agent holds one
/// connection per running child, watched by `JobRegistry.watchEnds()`: the monitor's END becomes the job's
/// outcome, and once that is stored the agent says ACK and the monitor exits. A monitor that
/// ends without an END was killed: its job, if it still lives (same pid, same start time), is
/// watched through a pidfd and recorded Failed with an unknown status when it ends.
///
/// After a restart, `adopt()` finds every monitor again by name, whatever happened in between:
/// ends that came while no agent ran are waiting in their monitors.
extension RegistryState {
    /// Connects to a child's monitor and watches the connection; false when the monitor is
    /// gone. A connection that fails for want of resources (descriptors) is tried again every
    /// second: the monitor is there, only out of reach for now. Lock held.
    @discardableResult
    func attachMonitor(_ job: StoredJob) -> Bool {
        if links.link(job.id) != nil { return true }
        var peer: pid_t = 0
        let fd = cjob_monitor_connect(home.monitorName(job.instanceId), &peer)
        guard fd >= 0 else {
            // EPERM: the name is held by a process of another user, so it is not this job's
            // monitor (one bound the name of a monitor that a power loss ended): the job's end
            // is then decided by its boot and its pid, as for a monitor that is gone.
            guard errno != ECONNREFUSED && errno != ENOENT && errno != EPERM else {
                if errno == EPERM {
                    log.warning("the monitor name of Job\(job.id) is held by another user's process; ignored")
                }
                return false
            }
            log.write("cannot reach the monitor of Job\(job.id) for now: \(String(cString: strerror(errno)))")
            links.unreached.insert(job.id)
            return true
        }
        links.attach(job.id, link: fd)
        return true
    }

    /// Tries again to reach the monitors that were out of reach. Lock held.
    private func reachUnreached() {
        for id in links.unreached.sorted() {
            guard let job = jobs[id], !job.state.isFinished else {
                links.unreached.remove(id)
                continue
            }
            if !attachMonitor(job) {
                links.unreached.remove(id)
                var lost = job
                monitorLost(&lost)
                jobs[id] = lost
                persist([lost])
            }
        }
    }

    /// How long a launched child's pid and start time may wait to be stored, in seconds: those
    /// of the children launched meanwhile go in one transaction, and a child that ends
    /// sooner has them stored with its end. Short: should the agent and the monitor both be
    /// killed before, the job would run on where `stop` cannot reach it.
    static let pidStoreDelay = 0.01

    /// Notes a launched child whose pid and start time are known and not stored. Lock held.
    func pidUnsaved(_ id: Int) {
        if links.unsavedPids.isEmpty {
            let now = Monitor.now()
            links.unsavedSince = now
            // The watcher sleeps with a timeout taken before, so it is woken when the pid is
            // due, by a timer: a job's end usually comes first and wakes it anyway (each wake-up
            // of its own was two context switches a start), and it then takes the new timeout.
            if links.watcherWakesAt > now + Self.pidStoreDelay {
                if pidTimerFD >= 0 {
                    cjob_timer_set(pidTimerFD, Int32((Self.pidStoreDelay * 1000).rounded(.up)))
                    links.pidTimerSet = true
                } else if wakeFD >= 0 {
                    cjob_eventfd_signal(wakeFD)
                }
            }
        }
        links.unsavedPids.insert(id)
    }

    /// Disarms the timer of launched pids once none waits to be stored (their jobs ended, or
    /// they were stored): it would only wake the watcher for nothing. Lock held.
    func settlePidTimer() {
        guard links.pidTimerSet, links.unsavedPids.isEmpty else { return }
        cjob_timer_set(pidTimerFD, 0)
        links.pidTimerSet = false
    }

    /// How long the watcher may sleep before launched pids are due to be stored, in
    /// milliseconds (-1: any).
    var pidWake: Int32 {
        guard !links.unsavedPids.isEmpty else { return -1 }
        return Int32(max(0, ((links.unsavedSince + Self.pidStoreDelay - Monitor.now()) * 1000).rounded(.up)))
    }

    /// Stores the pids and start times of launched children that run on, once due (at once
    /// with `now`). Those the store refused are tried again after the same delay. Lock held.
    func storeLaunchedPids(now: Bool = false) {
        guard !links.unsavedPids.isEmpty, now || Monitor.now() >= links.unsavedSince + Self.pidStoreDelay else {
            return
        }
        let running = links.unsavedPids.sorted().compactMap { jobs[$0] }.filter { !$0.state.isFinished }
        links.unsavedPids = []
        guard persist(running) else {
            for job in running { pidUnsaved(job.id) }
            return
        }
        for job in running {
            log.debug("Job\(job.id)'s process \(job.pid ?? 0) and its start time are stored")
        }
    }

    /// Stops watching a child's monitor and closes the connection. Lock held.
    func detachMonitor(_ id: Int) {
        links.detach(id)
    }

    /// Lets go of everything watched for a job that is being removed: its monitor, told its
    /// end need not be kept, and any pidfd. Lock held.
    func forgetWatches(_ id: Int) {
        links.send(id, UInt32(CJOB_MONITOR_ACK))
        links.forget(id)
    }

    /// A child's monitor ended without reporting its end, or could not be found. Its job is
    /// watched on if it still lives, else recorded Failed. The caller stores the job. Lock held.
    func monitorLost(_ job: inout StoredJob) {
        detachMonitor(job.id)
        guard !job.state.isFinished else { return }
        if let pid = job.pid, let start = job.pidStart, ProcFS.startTime(pid) == start {
            let fd = cjob_pidfd_open(pid_t(pid))
            // Checked again once the pidfd is held: the pid cannot change hands after that.
            if fd >= 0, ProcFS.startTime(pid) == start {
                log.write("the monitor of Job\(job.id) is gone; watching its process \(pid)")
                links.watchOrphan(job.id, pidfd: fd)
                return
            }
            if fd >= 0 { close(fd) }
        }
        finish(
            &job, record: nil,
            reason: job.pid == nil && job.waiterPid == nil
                ? "the agent stopped before the job could start"
                : "its monitor ended without recording an exit status")
    }

    /// Whether ends wait to be stored or monitors to be reached again, which the watch of
    /// ends then retries every second. Lock held.
    var isRetrying: Bool { links.isRetrying }

    /// Starts watching for the agent's own children to end (the supervisors it started).
    func watchChildSignals() -> Int32 {
        let childSignals = cjob_signalfd_child()
        links.watchAgent(childSignals, as: .childSignals)
        links.watchAgent(wakeFD, as: .wake)
        links.watchAgent(pidTimerFD, as: .wake, number: 1)
        return childSignals
    }

    /// Handles what epoll reported: ends a monitor sent, killed monitors, orphaned jobs that
    /// ended, the agent's children; and with `retrying`, the ends and monitors left for later.
    /// Lock held.
    func handleWatched(_ tags: ArraySlice<UInt64>, retrying: Bool, childSignals: Int32) {
        if retrying {
            storeUnacknowledged()
            reachUnreached()
        }
        for tag in tags {
            let (id, what) = MonitorLinks.watched(tag)
            switch what {
            case .childSignals: OwnChildren.reap(signals: childSignals)
            case .monitor: readMonitor(id)
            case .orphan: orphanEnded(id)
            case .wake:
                if id == 1 {
                    links.pidTimerSet = false
                    cjob_eventfd_drain(pidTimerFD)
                } else {
                    cjob_eventfd_drain(wakeFD)
                }
            case nil: break
            }
        }
    }

    /// Reads what a monitor sent. Lock held.
    private func readMonitor(_ id: Int) {
        guard let fd = links.link(id) else { return }
        var message = cjob_monitor_message()
        while true {
            let status = cjob_monitor_receive(fd, &message)
            if status == 1 { return }
            guard status == 0 else {
                guard var job = jobs[id] else { return detachMonitor(id) }
                detachMonitor(id)
                // A monitor with more peers than it keeps drops the oldest: if it is still
                // there, this is only a new connection (it greets again, with its END if any).
                if !job.state.isFinished && attachMonitor(job) { return }
                monitorLost(&job)
                jobs[id] = job
                persist([job])
                return
            }
            switch Int(message.kind) {
            case Int(CJOB_MONITOR_HELLO):
                // The job's start time (which the launch's answer leaves out), and its pid too
                // after a restart that came between the launch and storing it. Both are stored
                // now, after the start was answered: should the agent and the monitor both be
                // killed later, the next agent finds the job by them and can still stop it.
                guard var job = jobs[id], message.pid > 0, job.pid == nil || job.pidStart == nil else { continue }
                let learned = job.pid == nil
                job.pid = Int(message.pid)
                job.pidStart = message.time_sec > 0 ? message.time_sec : nil
                jobs[id] = job
                // Its pid is new only after a restart between the launch and storing it.
                if persist([job]) {
                    if learned {
                        log.write("Job\(id) runs as process \(message.pid)")
                    } else {
                        log.debug("Job\(id)'s process \(message.pid) and its start time are stored")
                    }
                }
            case Int(CJOB_MONITOR_END):
                let time = Date(timeIntervalSince1970: Double(message.time_sec) + Double(message.time_nsec) / 1e9)
                let end: JobEnd
                switch Int(message.how) {
                case Int(CJOB_END_SIGNAL): end = .signaled(Int(message.value))
                case Int(CJOB_END_LAUNCH):
                    let job = jobs[id]
                    end = .launchFailed(
                        reason: Supervisor.launchReason(
                            stage: Int(message.value), error: message.error, shell: job?.shell ?? "",
                            workingDirectory: job?.workingDirectory ?? ""))
                default: end = .exited(Int(message.value))
                }
                if ended(id: id, record: ExitRecord(end: end, time: time)) {
                    acknowledge(id)
                    return
                }
                links.unacknowledged.insert(id)
            default:
                continue
            }
        }
    }

    /// Records a child's end; false when the store could not take it. Lock held.
    private func ended(id: Int, record: ExitRecord) -> Bool {
        guard var job = jobs[id] else { return true }
        if job.state.isFinished { return !links.unacknowledged.contains(id) || persist([job]) }
        finish(&job, record: record, reason: nil)
        jobs[id] = job
        if !waits.isEmpty { answerWaits() }
        FaultPoint.endAfterAnswer.reached()
        let stored = persist([job])
        // Its pid and start time went with its end: not due to be stored again, nor to wake
        // the watcher for (`settlePidTimer`).
        if stored { links.unsavedPids.remove(id) }
        if let parent = job.parentId { startQueued(parentId: parent) }
        return stored
    }

    /// Tells a monitor its job's end is stored, so it can exit. Lock held.
    private func acknowledge(_ id: Int) {
        links.unacknowledged.remove(id)
        links.send(id, UInt32(CJOB_MONITOR_ACK))
        links.detach(id)
    }

    /// Tries again to store the ends the store refused (a full disk). Lock held.
    private func storeUnacknowledged() {
        let waiting = links.unacknowledged.sorted().compactMap { jobs[$0] }
        guard !waiting.isEmpty else { return links.unacknowledged.removeAll() }
        if persist(waiting) {
            for job in waiting { acknowledge(job.id) }
        }
    }

    /// A job whose monitor was killed has ended: nobody could learn its status. Lock held.
    private func orphanEnded(_ id: Int) {
        guard links.forgetOrphan(id) else { return }
        guard var job = jobs[id], !job.state.isFinished else { return }
        finish(&job, record: nil, reason: "its monitor was killed, so its exit status is unknown")
        jobs[id] = job
        persist([job])
        if let parent = job.parentId { startQueued(parentId: parent) }
    }

    // MARK: - After a restart

    /// Takes over the jobs of the last agent. Each running child's monitor is found by name
    /// (its end, if it came meanwhile, arrives as its first messages); a child whose monitor is
    /// gone is watched on if its process lives, else recorded Failed; one the queue had chosen
    /// but that was never launched waits again. A job never stays Running with nothing behind
    /// it. Then monitors left over from finished jobs are told to exit,
    /// and output files of jobs the store does not know (an interrupted `remove`) are deleted.
    func adopt() {
        var changed: [StoredJob] = []
        var found: [Int] = []
        var linking = 0
        for id in jobs.ids {
            // A durable child that a scheduler there holds is NotStarted once launched (it has begun here).
            guard var job = jobs[id], job.parentId != nil, !job.state.isFinished,
                job.state != .notStarted || (job.durable && job.scheduler != nil && job.beginTime != nil)
            else { continue }
            switch backend(for: job).adopt(&job, in: self) {
            case .found: found.append(id)
            case .changed:
                jobs[id] = job
                changed.append(job)
            case .watched: break
            case .linking: linking += 1
            }
        }
        persist(changed)
        if !found.isEmpty {
            log.write(
                "adopted \(found.count) running job\(found.count == 1 ? "" : "s") of the last agent: "
                    + found.map { "Job\($0)" }.joined(separator: ", "))
        }
        // Each monitor greets at once, its END right behind if the job ended while no agent
        // ran: read them now, so that no client is shown an ended job Running.
        awaitGreetings(found)
        if linking > 0 {
            log.write("linking again to \(linking) durable remote job\(linking == 1 ? "" : "s")")
        }
        let strangers = releaseStrayMonitors()
        settleStrayFiles(adopting: strangers)
        restoreQueue()
        // Children in Slurm, waiting there or running: followed again.
        if !slurmChildren().isEmpty { slurm.wake() }
        for slot in table.allSlots { watchOutputCap(slot.job) }
    }

    /// Monitors of this home whose job is finished in the store (the last agent stored the end
    /// but died before it said so): told to exit. Returns the InstanceIds of monitors whose job
    /// the store does not know. Lock held.
    private func releaseStrayMonitors() -> [(instanceId: String, link: Int32)] {
        // Read as bytes, decoded leniently: another program's socket name that is not UTF-8
        // (abstract names are any bytes) had made the whole listing unreadable, and so every
        // stray monitor unseen.
        guard let sockets = readText("/proc/net/unix", limit: 1 << 30) else { return [] }
        let prefix = "@" + home.monitorPrefix
        var known: [String: Int] = [:]
        for slot in table.allSlots where slot.job.parentId != nil { known[slot.job.instanceId] = slot.job.id }
        var seen = Set<String>()
        var strangers: [(instanceId: String, link: Int32)] = []
        for line in sockets.split(separator: "\n") {
            guard let path = line.split(separator: " ").last, path.hasPrefix(prefix) else { continue }
            let instanceId = String(path.dropFirst(prefix.count))
            guard seen.insert(instanceId).inserted else { continue }
            if let id = known[instanceId], links.watches(id) { continue }
            if let id = known[instanceId], jobs[id]?.state.isFinished == false { continue }
            // A job no stored row knows (rows are stored before launches): taken in below, if
            // its monitor is this user's (another user may bind such a name).
            guard known[instanceId] != nil else {
                var peer: pid_t = 0
                let link = cjob_monitor_connect(home.monitorName(instanceId), &peer)
                if link >= 0 {
                    strangers.append((instanceId, link))
                } else if errno == EPERM {
                    log.warning("a monitor name of this home is held by another user's process: \(instanceId)")
                }
                continue
            }
            var peer: pid_t = 0
            let fd = cjob_monitor_connect(home.monitorName(instanceId), &peer)
            guard fd >= 0 else { continue }
            _ = cjob_monitor_send(fd, UInt32(CJOB_MONITOR_ACK), 0)
            close(fd)
        }
        return strangers
    }

    /// Monitors of this home whose job no stored row knows: rows are stored before launches,
    /// so the store lost them (a log deleted or damaged, a copy put back, a damaged store set
    /// aside), or they are another store's at this path. Their jobs are someone's work, so
    /// each is taken in as a new job (its command and folder read from its process) whose end
    /// is recorded as any other's, and said in the log and in `agent status`. Lock held.
    private func adoptStrangers(_ strangers: [(instanceId: String, link: Int32)]) {
        guard !strangers.isEmpty else { return }
        var adopted: [Int] = []
        for (instanceId, link) in strangers {
            var (parent, made) = makeJob(
                type: JobType.background, name: nil, command: Self.unknownCommand,
                children: [ChildPlan(location: "localhost", workingDirectory: "/", shell: "/bin/sh", placement: .local)]
            )
            var child = made[0]
            child.instanceId = instanceId
            child.begin()
            parent.beginTime = child.beginTime
            if storeAndRegister(parent, [child], environment: []) != nil {
                close(link)
                continue
            }
            links.attach(child.id, link: link)
            adopted.append(child.id)
        }
        awaitGreetings(adopted)
        var changed: [StoredJob] = []
        for id in adopted {
            guard var child = jobs[id], let parentId = child.parentId, var parent = jobs[parentId] else { continue }
            if let pid = child.pid, let (command, folder) = Self.commandOf(pid) {
                (child.command, child.workingDirectory) = (command, folder)
                (parent.command, parent.workingDirectory) = (command, folder)
                jobs[id] = child
                jobs[parentId] = parent
                changed += [parent, child]
            }
        }
        persist(changed)
        let names = adopted.compactMap { jobs[$0]?.parentId }.map { "Job\($0)" }
        let count = strangers.count
        let notice =
            "\(count) running job\(count == 1 ? "" : "s") that this store did not know (it may have lost its "
            + "history, or \(count == 1 ? "it belongs" : "they belong") to another store at this path) "
            + (names.isEmpty
                ? "could not be taken in"
                : "\(names.count == 1 ? "is" : "are") kept again as " + names.joined(separator: ", "))
        log.warning(notice)
        notices.append(notice)
    }

    /// The command of a job taken in without its row, until its process says more.
    static let unknownCommand = "(unknown: taken in without its record)"

    /// What a job's process runs and where: `CMD` of `sh -c CMD`, else its whole command
    /// line; its working directory. Nil when the process is gone.
    static func commandOf(_ pid: Int) -> (command: String, folder: String)? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else {
            return nil
        }
        let words = data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
            String(decoding: $0, as: UTF8.self)
        }
        let command = words.count == 3 && words[1] == "-c" ? words[2] : words.joined(separator: " ")
        let folder = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")) ?? "/"
        return (command, folder)
    }

    /// Waits, at most 2 s in all, for the greetings of newly found monitors, and reads what
    /// each sent. Lock held.
    private func awaitGreetings(_ ids: [Int]) {
        var pending = ids
        let deadline = Monitor.now() + 2
        while !pending.isEmpty && Monitor.now() < deadline {
            var entries = pending.map { pollfd(fd: links.link($0) ?? -1, events: Int16(POLLIN), revents: 0) }
            let left = (deadline - Monitor.now()).pollMilliseconds(minimum: 1)
            guard poll(&entries, nfds_t(entries.count), left) > 0 else { continue }
            var waiting: [Int] = []
            for (id, entry) in zip(pending, entries) {
                if entry.revents != 0 { readMonitor(id) } else { waiting.append(id) }
            }
            pending = waiting
        }
    }

    /// Deletes the files whose removal the store noted (a `remove` or `restart` cut short
    /// between its commit and its deletions), and moves every other file that no stored job
    /// knows to `jobs/lost+found`: a store that lost its history (a log deleted, a copy put
    /// back, a damaged file set aside) must never delete output on its word. Lock held.
    ///
    /// Either sign that the store lost jobs (`strangers`, monitors of jobs it does not know,
    /// or such files) moves the Id counter past every Id reserved before the jobs are taken in.
    private func settleStrayFiles(adopting strangers: [(instanceId: String, link: Int32)]) {
        let noted = (try? database.pendingRemovals()) ?? []
        for instanceId in noted { files.delete(instanceId) }
        if !noted.isEmpty { try? database.clearRemovals() }
        var known = Set(table.allSlots.map(\.job.instanceKey))
        for slot in table.allSlots { for old in slot.job.history { known.insert(InstanceKey(old)) } }
        for stranger in strangers { known.insert(InstanceKey(stranger.instanceId)) }
        let stray = files.strayNames(keeping: known)
        if !strangers.isEmpty || !stray.isEmpty {
            skipLostIds("the store does not know jobs whose monitors or files are in \(home.path)")
        }
        adoptStrangers(strangers)
        let moved = files.moveToLostAndFound(stray)
        guard moved > 0 else { return }
        let notice =
            "\(moved) output file\(moved == 1 ? "" : "s") of jobs this store does not know "
            + "\(moved == 1 ? "was" : "were") moved to \(files.lostAndFound) (kept, not deleted: the store may "
            + "have lost its history)"
        log.warning(notice)
        notices.append(notice)
    }
}

/// The processes the agent started itself (supervisors, session wrappers), which it reaps.
/// Only these: an agent that shares its process (a test's) leaves the others' children alone.
enum OwnChildren {
    private static let pids = Mutex<Set<pid_t>>([])

    static func add(_ pid: pid_t) { pids.withLock { _ = $0.insert(pid) } }

    /// Drains the SIGCHLD signalfd and reaps those of ours that ended.
    static func reap(signals: Int32) {
        cjob_drain_signalfd(signals)
        pids.withLock { pids in
            for pid in pids {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid { pids.remove(pid) }
            }
        }
    }
}

extension StoredJob {
    /// A child run on another computer over ssh (not in a session).
    var isRemote: Bool { placement == .remote }
}
