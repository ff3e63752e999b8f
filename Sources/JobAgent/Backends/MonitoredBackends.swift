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
import JobRemote
import JobStore

/// A child on this computer: its shell with `-c`, started by the supervisor under a monitor of
/// its own, which the agent links to (`MonitorLinks`) and which keeps its end until stored.
struct LocalBackend: JobBackend {
    func launch(_ job: inout StoredJob, _ plan: LaunchPlan, in state: RegistryState) {
        // A restarted job reads its input file again, from its start.
        var input = plan.stdinFD
        if input == nil, let path = job.inputFile {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                job.launchFailed("cannot read its input file \(path): \(String(cString: strerror(errno)))")
                state.refreshSizes(&job)
                return
            }
            input = fd
        }
        defer { if let input, input != plan.stdinFD { close(input) } }
        let (id, shell, command, workingDirectory) = (job.id, job.shell, job.command, job.workingDirectory)
        let paths = state.files.paths(job.instanceId)
        let outcome = state.launchThroughSupervisor(job) { supervisor in
            state.outsideLock(if: plan.outsideLock) {
                // A plain command line runs without the shell (`DirectCommand`).
                let direct = DirectCommand.plan(
                    command, shell: shell, environment: plan.environment, workingDirectory: workingDirectory)
                return supervisor.launch(
                    id: id, program: direct?.program ?? shell,
                    argv: direct?.argv ?? [(shell as NSString).lastPathComponent, "-c", command],
                    environment: direct?.environment ?? plan.environment, workingDirectory: workingDirectory,
                    paths: paths, umask: plan.umask, stdinFD: input)
            }
        }
        state.launchedUnderMonitor(&job, outcome, parent: plan.parent)
    }

    /// Through its monitor, which knows whether the job is still its child; to the process
    /// group directly when the monitor is gone.
    func signal(_ job: StoredJob, _ signal: Int32, in state: RegistryState) {
        if state.links.send(job.id, UInt32(CJOB_MONITOR_SIGNAL), signal) { return }
        if let pid = job.pid, ProcFS.groupHasLiveMembers(pid) { kill(pid_t(-pid), signal) }
    }

    func adopt(_ job: inout StoredJob, in state: RegistryState) -> Adoption {
        state.adoptMonitored(&job)
    }

    func forget(_ job: StoredJob, in state: RegistryState) {
        state.forgetWatches(job.id)
    }
}

/// A child on another computer over ssh (not durable): ssh runs under a monitor here, as a
/// local child does, and the command runs in a process group of its own there. Signals other
/// than KILL go to that group (the monitor writes their names to ssh's stdin); KILL ends the
/// local ssh, and the remote side then ends the command by itself, so a stop goes through even
/// when the link is dead.
struct SSHBackend: JobBackend {
    func launch(_ job: inout StoredJob, _ plan: LaunchPlan, in state: RegistryState) {
        guard let computer = try? ComputerName(job.location) else {
            job.launchFailed("'\(job.location)' is not a computer's name")
            return
        }
        let environment = plan.environment
        let configuration = environment.first { $0.hasPrefix("JOB_SSH_CONFIG=") }.map {
            String($0.dropFirst("JOB_SSH_CONFIG=".count))
        }
        let id = job.id
        let configured = configuration?.isEmpty == false ? configuration : nil
        let files = state.files
        let controlFolder = SSHCommand.controlFolder(home: state.home)
        let arguments = SSHCommand.arguments(
            computer: computer, command: job.command, remoteEnvironment: plan.parent.remoteEnvironment,
            options: plan.parent.sshOptions, diagnostics: files.sshLog(job.instanceId), configuration: configured,
            controlFolder: controlFolder, input: job.inputFile.map { _ in job.instanceId })
        var program = SSHCommand.program(environment: environment)
        var argv = arguments
        if let input = job.inputFile, access(input, R_OK) != 0 {
            job.launchFailed("cannot read its input file \(input): \(String(cString: strerror(errno)))")
            state.refreshSizes(&job)
            return
        }
        if let input = job.inputFile {
            // The input goes first, on the same shared connection; then this becomes ssh.
            let upload = SSHCommand.arguments(
                computer: computer, remoteText: SSHCommand.uploadInput(name: job.instanceId),
                options: plan.parent.sshOptions, diagnostics: files.sshLog(job.instanceId), configuration: configured,
                controlFolder: controlFolder)
            argv = [
                "sh", "-c",
                SSHCommand.launcherWithInput(program: program, upload: upload, input: input, arguments: arguments),
            ]
            program = "/bin/sh"
        }
        let paths = files.paths(job.instanceId)
        let (launchProgram, launchArgv) = (program, argv)
        let outcome = state.launchThroughSupervisor(job) { supervisor in
            supervisor.launch(
                id: id, program: launchProgram, argv: launchArgv, environment: environment, workingDirectory: "/",
                paths: paths, umask: plan.umask, stdinFD: nil, holdStdin: true)
        }
        state.launchedUnderMonitor(&job, outcome, parent: plan.parent)
    }

    func signal(_ job: StoredJob, _ signal: Int32, in state: RegistryState) {
        if signal != SIGKILL {
            state.links.send(job.id, UInt32(CJOB_MONITOR_FORWARD), signal)
            return
        }
        LocalBackend().signal(job, signal, in: state)
    }

    /// TERM closes its stdin: the remote side ends the command's process group (TERM, then
    /// KILL), and then ssh exits. Another first signal is sent there instead.
    func deliverStop(_ job: StoredJob, first: Int32, in state: RegistryState) {
        if first == SIGTERM, state.links.link(job.id) != nil {
            state.links.send(job.id, UInt32(CJOB_MONITOR_RELEASE))
            return
        }
        signal(job, first, in: state)
    }

    func adopt(_ job: inout StoredJob, in state: RegistryState) -> Adoption {
        state.adoptMonitored(&job)
    }

    func forget(_ job: StoredJob, in state: RegistryState) {
        state.forgetWatches(job.id)
    }

    /// ssh exits 255 for its own failures: its last message says what happened.
    func explainEnd(_ job: inout StoredJob, in state: RegistryState) {
        if job.state == .failed, job.exitStatus == 255,
            let diagnosis = SSHCommand.diagnosis(path: state.files.sshLog(job.instanceId))
        {
            job.reason = diagnosis
        }
    }
}

extension RegistryState {
    /// Takes over a child that ran under a monitor: its monitor is found by name (its end, if
    /// it came meanwhile, arrives as its first messages); gone, the child is watched on if its
    /// process lives, else recorded Failed; one the queue had chosen but that was never
    /// launched waits again. Lock held.
    func adoptMonitored(_ job: inout StoredJob) -> Adoption {
        if attachMonitor(job) {
            // A stop the last agent began is finished: its grace period has begun.
            if job.state == .stopping { signal(job, SIGKILL) }
            return .found
        }
        if job.state == .running, job.pid == nil, job.waiterPid == nil, !job.stopRequested, spec(of: job) != nil {
            // The queue had chosen it, and the last agent stopped before its launch (no
            // monitor, no process): it never ran, so it waits in its place again.
            job.unbegin()
            log.write("Job\(job.id) was to start when the last agent stopped; it waits again")
            return .changed
        }
        if job.bootId != bootId {
            // No monitor answers: a reboot ended it (a monitor that answers proves otherwise).
            finish(&job, record: nil, reason: "the computer restarted while the job was running")
            return .changed
        }
        monitorLost(&job)
        return job.state.isFinished ? .changed : .watched
    }
}
