import CJobSupport
import Foundation
import JobCore

/// How a launch went: the job runs under its waiter, or it never started and why.
enum LaunchOutcome {
    case running(pid: Int, waiterPid: Int, waiterStart: Int64?)
    case failed(reason: String)
}

/// How a job ended, as its waiter wrote it in the status file.
struct ExitRecord: Equatable {
    enum Kind: Equatable {
        case exited(Int)
        case signaled(Int)
    }
    var kind: Kind
    var time: Date

    /// Reads `exit N` or `signal N` and the end time (`SECONDS NANOSECONDS`).
    static func read(path: String) -> ExitRecord? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n")
        guard let first = lines.first else { return nil }
        let words = first.split(separator: " ")
        guard words.count == 2, let value = Int(words[1]) else { return nil }
        var time = Date()
        if lines.count > 1 {
            let parts = lines[1].split(separator: " ").compactMap { Double($0) }
            if parts.count == 2 { time = Date(timeIntervalSince1970: parts[0] + parts[1] / 1e9) }
        }
        switch words[0] {
        case "exit": return ExitRecord(kind: .exited(value), time: time)
        case "signal": return ExitRecord(kind: .signaled(value), time: time)
        default: return nil
        }
    }
}

/// Starts local jobs, each under a waiter process that outlives the agent and records the
/// exit status next to the output.
enum Launcher {
    static func launch(
        command: String, shell: String, environment: [String], workingDirectory: String, directory: String,
        stdinFD: Int32?
    ) -> LaunchOutcome {
        let argv = [(shell as NSString).lastPathComponent, "-c", command]
        let spec = LaunchPaths(directory: directory)
        return withCStrings(argv) { argvPointer in
            withCStrings(environment) { envPointer in
                shell.withCString { shellC in
                    workingDirectory.withCString { cwdC in
                        spec.stdout.withCString { outC in
                            spec.stderr.withCString { errC in
                                spec.status.withCString { statusC in
                                    spec.statusTemp.withCString { tmpC in
                                        var launch = cjob_launch_spec(
                                            shell: shellC, argv: argvPointer, envp: envPointer, cwd: cwdC,
                                            stdin_fd: stdinFD ?? -1, stdout_path: outC, stderr_path: errC,
                                            status_path: statusC, status_tmp_path: tmpC)
                                        var result = cjob_launch_result()
                                        cjob_launch(&launch, &result)
                                        return outcome(result, shell: shell, workingDirectory: workingDirectory)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static func outcome(_ result: cjob_launch_result, shell: String, workingDirectory: String)
        -> LaunchOutcome
    {
        let message = String(cString: strerror(result.error))
        switch result.stage {
        case 0:
            return .running(
                pid: Int(result.job_pid), waiterPid: Int(result.waiter_pid),
                waiterStart: ProcFS.startTime(Int(result.waiter_pid)))
        case 1:
            if result.error == ENOENT || result.error == ENOTDIR {
                return .failed(reason: "working directory \(workingDirectory) does not exist")
            }
            return .failed(reason: "cannot enter working directory \(workingDirectory): \(message)")
        case 2:
            if result.error == ENOENT { return .failed(reason: "shell \(shell) does not exist") }
            if result.error == E2BIG {
                return .failed(reason: "the command is too long to run (\(message))")
            }
            return .failed(reason: "cannot run shell \(shell): \(message)")
        case 3:
            return .failed(reason: "cannot open the job's output files: \(message)")
        default:
            return .failed(reason: "cannot start the job's waiter process: \(message)")
        }
    }

    private static func withCStrings<T>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> T)
        -> T
    {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// The files of one child job under `JOB_HOME/jobs/<InstanceId>/`.
struct LaunchPaths {
    var directory: String
    var stdout: String { directory + "/stdout" }
    var stderr: String { directory + "/stderr" }
    var status: String { directory + "/status" }
    var statusTemp: String { directory + "/status.tmp" }
}
