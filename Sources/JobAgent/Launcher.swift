import CJobSupport
import Foundation
import JobCore

/// How a launch went: the job runs under the supervisor, or it never started and why.
enum LaunchOutcome {
    case running(pid: Int)
    case failed(reason: String)
}

/// How a job ended, as the supervisor reported it or wrote it in the status file.
struct ExitRecord: Equatable {
    enum Kind: Equatable {
        case exited(Int)
        case signaled(Int)
        /// The child was made but could not become the command (the step and errno).
        case launchFailed(stage: Int, error: Int)

        var isLaunchFailure: Bool {
            if case .launchFailed = self { return true }
            return false
        }
    }
    var kind: Kind
    var time: Date

    /// Reads the exit log: the last end recorded for each InstanceId. Lines are
    /// `<InstanceId> exit|signal|launch N EXTRA SECONDS NANOSECONDS`; a torn or foreign line
    /// is skipped.
    static func readLog(path: String) -> [String: ExitRecord] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var records: [String: ExitRecord] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count == 6, let value = Int(words[2]), let extra = Int(words[3]),
                let seconds = Double(words[4]), let nanoseconds = Double(words[5])
            else { continue }
            let time = Date(timeIntervalSince1970: seconds + nanoseconds / 1e9)
            switch words[1] {
            case "exit": records[String(words[0])] = ExitRecord(kind: .exited(value), time: time)
            case "signal": records[String(words[0])] = ExitRecord(kind: .signaled(value), time: time)
            case "launch":
                records[String(words[0])] = ExitRecord(kind: .launchFailed(stage: value, error: extra), time: time)
            default: continue
            }
        }
        return records
    }
}

/// The files of one child job: its output, where its end is logged, and its key there.
struct LaunchPaths {
    var stdout: String
    var stderr: String
    var key: String
    var exitLog: String

    init(home: JobHome, instanceId: String) {
        stdout = home.outputPath(instanceId)
        stderr = home.errorPath(instanceId)
        key = instanceId
        exitLog = home.exitLogPath
    }
}

/// The agent's link to the supervisor: the small process per `JOB_HOME` that starts every
/// job (vfork + exec, so a launch costs no copy of the agent), is their parent, writes each
/// one's status file when it ends and reports the end. It outlives the agent, so a job's
/// outcome never depends on the agent being alive; the next agent connects to it again.
final class Supervisor: @unchecked Sendable {
    let requests: Int32
    let events: Int32
    let pid: Int
    let startTime: Int64?

    /// Connects to the running supervisor of the home, or starts one.
    init(socketPath: String, executable: String) throws {
        var requests = cjob_supervisor_connect(socketPath, CChar(UInt8(ascii: "R")))
        if requests < 0 {
            guard cjob_supervisor_spawn(socketPath, executable) > 0 else {
                throw AgentError(
                    "cannot start the supervisor (\(executable) agent supervise): \(String(cString: strerror(errno)))")
            }
            requests = cjob_supervisor_connect(socketPath, CChar(UInt8(ascii: "R")))
        }
        let events = cjob_supervisor_connect(socketPath, CChar(UInt8(ascii: "E")))
        guard requests >= 0, events >= 0 else {
            throw AgentError("cannot connect to the supervisor at \(socketPath): \(String(cString: strerror(errno)))")
        }
        var uid: uid_t = 0
        var peer: pid_t = 0
        _ = cjob_peer_uid(requests, &uid, &peer)
        self.requests = requests
        self.events = events
        self.pid = Int(peer)
        self.startTime = ProcFS.startTime(Int(peer))
    }

    /// Asks the supervisor to start one job. Call with the registry's lock held (one launch
    /// at a time on the request channel).
    /// Asks the supervisor to start one job: `program` with `argv` (the local shell with `-c`,
    /// or `ssh`). Call with the registry's lock held (one request at a time on the channel).
    func launch(
        id: Int, program: String, argv: [String], environment: [String], workingDirectory: String,
        paths: LaunchPaths, umask: Int, stdinFD: Int32?, holdStdin: Bool = false
    ) -> LaunchOutcome {
        let strings =
            [program, workingDirectory, paths.stdout, paths.stderr, paths.key, paths.exitLog, String(umask & 0o777)]
            + argv
            + environment
        var block: [UInt8] = []
        block.reserveCapacity(strings.reduce(0) { $0 + $1.utf8.count + 1 })
        for string in strings {
            block.append(contentsOf: string.utf8.map { $0 == 0 ? UInt8(ascii: " ") : $0 })
            block.append(0)
        }
        var reply = cjob_supervisor_reply()
        let status = block.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                cjob_supervisor_launch(
                    requests, UInt64(id), chars.baseAddress, UInt32(chars.count), UInt32(argv.count),
                    UInt32(environment.count), stdinFD ?? -1, holdStdin ? 1 : 0, &reply)
            }
        }
        guard status == 0 else { return .failed(reason: "the job supervisor is gone; restart the agent") }
        return Self.outcome(reply, shell: program, workingDirectory: workingDirectory)
    }

    /// Closes a remote job's stdin: its remote side then ends the command's whole process
    /// group. Returns whether the job had one to close.
    func release(id: Int) -> Bool {
        var reply = cjob_supervisor_reply()
        return cjob_supervisor_release(requests, UInt64(id), &reply) == 0 && reply.pid != 0
    }

    /// Reads one end event; nil when the supervisor has gone away.
    func nextEvent() -> (id: Int, kind: ExitRecord.Kind)? {
        var event = cjob_supervisor_event()
        guard cjob_supervisor_read_event(events, &event) == 0 else { return nil }
        switch event.kind {
        case 1: return (Int(event.id), .signaled(Int(event.value)))
        case 2: return (Int(event.id), .launchFailed(stage: Int(event.value), error: Int(event.error)))
        default: return (Int(event.id), .exited(Int(event.value)))
        }
    }

    private static func outcome(_ reply: cjob_supervisor_reply, shell: String, workingDirectory: String)
        -> LaunchOutcome
    {
        guard reply.stage != 0 else { return .running(pid: Int(reply.pid)) }
        return .failed(
            reason: launchReason(
                stage: Int(reply.stage), error: reply.error, shell: shell, workingDirectory: workingDirectory))
    }

    /// Why a launch failed, from the step that failed and its errno.
    static func launchReason(stage: Int, error: Int32, shell: String, workingDirectory: String) -> String {
        let message = String(cString: strerror(error))
        switch stage {
        case 1:
            if error == ENOENT || error == ENOTDIR {
                return "working directory \(workingDirectory) does not exist"
            }
            return "cannot enter working directory \(workingDirectory): \(message)"
        case 2:
            if error == ENOENT { return "shell \(shell) does not exist" }
            if error == E2BIG { return "the command is too long to run (\(message))" }
            return "cannot run shell \(shell): \(message)"
        case 3:
            return "cannot open the job's output files: \(message)"
        default:
            return "cannot start the job: \(message)"
        }
    }
}
