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
import JobClient
import JobTestSupport
import Testing

/// What the fault probes of issue 21 found, each seen from a user's side: extreme numbers, a
/// store that lost its history or was damaged, descriptors used up.
@Suite("fault probes: extreme values, a store that lost its history or was damaged", .timeLimit(.minutes(10)))
struct ProbeTests {
    /// Texts no number option may take: too large, not finite, negative zero, not numbers.
    static let extremes = [
        "1e16", "9e18", "1e308", "-0", "inf", "nan", "0x", "-1", "99999999999999999999", "3651d",
    ]

    @Test("every option that takes a number refuses the extremes with exit 2 and its range; nothing is made")
    func extremeNumbersOnTheCommandLine() throws {
        let home = try TestHome()
        let verbs: [(String, [String])] = [
            ("--delay", ["start", "--delay"]), ("--timeout", ["start", "--timeout"]),
            ("--grace", ["start", "--timeout", "1h", "--grace"]), ("--max-output", ["start", "--max-output"]),
            ("--timeout", ["wait", "--timeout"]), ("--grace", ["stop", "--grace"]),
            ("--grace", ["remove", "--grace"]), ("--older-than", ["remove", "--older-than"]),
            ("--throttle-limit", ["invoke", "--computer", "localhost", "--throttle-limit"]),
            ("--tail", ["log", "--tail"]), ("--newest", ["get", "--newest"]),
            ("--limit", ["group", "set", "g", "--limit"]),
        ]
        for (option, words) in verbs {
            for value in Self.extremes where !(option == "--max-output" && value == "99999999999999999999") {
                // A size that large is refused too, but as a size, not a duration.
                let tail = words.first == "start" || words.first == "invoke" ? ["true"] : ["1"]
                let result = try home.job(words + [value] + (words.first == "group" ? [] : tail))
                #expect(result.status == 2, "\(words.joined(separator: " ")) \(value): \(result.stderr)")
                #expect(result.stderr.contains(option), "\(words.joined(separator: " ")) \(value): \(result.stderr)")
                #expect(!result.stderr.contains("Fatal"))
            }
        }
        let duration = try home.job("start", "--delay", "1e16", "true")
        #expect(duration.stderr.contains("at most 3650d"))
        #expect(duration.stderr.contains("units s, m, h, d"))
        #expect(try home.job("start", "--at", "9999-12-31T00:00Z", "true").status == 2)
        #expect(try home.job("get", "--format", "json").stdout == "[]\n")
        // The longest duration allowed is taken, and the agent lives on with it.
        #expect(try home.job("start", "--quiet", "--delay", "3650d", "--timeout", "3650d", "true").status == 0)
        #expect(try home.record(1)["state"] as? String == "NotStarted")
        #expect(try home.job("stop", "1").status == 0)
        #expect(try home.job("remove", "1").status == 0)
    }

    @Test("a request with an extreme number from a library caller is refused, and the agent serves on")
    func extremeNumbersOnTheWire() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "true")
        let client = try JobClient(home: JobHome(path: home.path))
        for notBefore in [1e16, 1e10] {
            var start = StartRequest(command: "true", workingDirectory: "/", environment: [], umask: 0o022)
            start.notBefore = Date(timeIntervalSinceNow: notBefore)
            #expect(throws: JobError.self) { try client.send(start) }
        }
        for timeout in [9e18, 4e8, -1] {
            var start = StartRequest(command: "true", workingDirectory: "/", environment: [], umask: 0o022)
            start.timeout = timeout
            #expect(throws: JobError.self) { try client.send(start) }
        }
        #expect(throws: JobError.self) { try client.send(StopRequest(JobSelection(selectors: ["1"]), grace: 1e16)) }
        #expect(throws: JobError.self) { try client.send(RemoveRequest(JobSelection(selectors: ["1"]), grace: 4e8)) }
        // Nothing was made, and every verb still answers.
        #expect(try home.job("get", "--format", "json").stdout.contains("\"id\": 1,"))
        #expect(!(try home.job("get", "--format", "json").stdout.contains("\"id\": 3,")))
        #expect(try home.job("wait", "1").status == 0)
        #expect(try home.job("remove", "1").status == 0)
    }

    @Test("a row an older agent stored with absurd numbers loads, and get, stop and remove work on it")
    func storedAbsurdNumbers() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "--delay", "1h", "--timeout", "1h", "true")  // 1, 2
        #expect(try home.job("agent", "stop").status == 0)
        _ = try home.sql("UPDATE job SET notBefore = 1e16, timeout = 9e18, stopGrace = 1e308 WHERE id = 2")
        let listed = try home.job("get", "--include-children", "--format", "json")
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(try TestHome.jobs(listed).count == 2)
        #expect(try home.job("stop", "1").status == 0)
        #expect(try home.record(1)["state"] as? String == "Stopped")
        #expect(try home.job("remove", "1").status == 0)
        #expect(try home.job("get", "--format", "json").stdout == "[]\n")
    }

    @Test("numbers in the config file, the environment and the cache: refused with the key and range, never a crash")
    func extremeSettings() throws {
        let home = try TestHome()
        let folder = home.scratch + "/config"
        try FileManager.default.createDirectory(atPath: folder + "/job", withIntermediateDirectories: true)
        let file = folder + "/job/config.toml"
        func config(_ environment: [String: String] = [:]) throws -> CommandResult {
            try home.job(["config"], environment: environment.merging(["XDG_CONFIG_HOME": folder]) { $1 })
        }
        for (key, value) in [
            ("grace", "1e308"), ("grace", "-1"), ("grace", "\"1e16\""), ("remove-after", "9.3e18"),
            ("remove-after", "\"99999999999d\""), ("reconnect-for", "1e300"), ("reconnect-for", "nan"),
            ("throttle-limit", "9223372036854775807"), ("throttle-limit", "0"), ("remove-after", "-0.0"),
        ] {
            try "\(key) = \(value)\n".write(toFile: file, atomically: true, encoding: .utf8)
            let result = try config()
            #expect(result.status == 2, "\(key) = \(value): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains(":1: \(key):"), "\(key) = \(value): \(result.stderr)")
        }
        try? FileManager.default.removeItem(atPath: file)
        for name in ["JOB_REMOVE_AFTER", "JOB_RECONNECT_FOR"] {
            for value in ["9.3e18", "1e308", "nan", "-5"] {
                let result = try config([name: value])
                #expect(result.status == 2, "\(name)=\(value): \(result.status) \(result.stderr)")
                #expect(result.stderr.contains(name))
            }
        }
        // A cache with values the file would not allow, or cut short, is made anew from the file.
        try "grace = \"7s\"\nremove-after = \"2h\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try config().stdout.contains("7s"))
        let cache = home.path + "/config.cache"
        let good = try String(contentsOfFile: cache, encoding: .utf8)
        for damaged in [
            good.replacingOccurrences(of: "\t7.0", with: "\tnan"), good.replacingOccurrences(of: "\t7.0", with: "\t-5"),
            good.replacingOccurrences(of: "\t7.0", with: "\t1e308"),
            String(good.split(separator: "\n", omittingEmptySubsequences: false).first!) + "\n",
        ] {
            #expect(damaged != good)
            try damaged.write(toFile: cache, atomically: false, encoding: .utf8)
            let shown = try config()
            #expect(shown.status == 0, "\(shown.stderr)")
            #expect(shown.stdout.contains("grace           7s"), "cache \(damaged): \(shown.stdout)")
            #expect(shown.stdout.contains("remove-after    2h"), "cache \(damaged): \(shown.stdout)")
        }
    }

    // MARK: - The store

    /// The files in a home's jobs folder and its lost+found, by name.
    static func outputFiles(_ home: TestHome) -> Set<String> {
        let jobs = home.path + "/jobs"
        let here = (try? FileManager.default.contentsOfDirectory(atPath: jobs)) ?? []
        let kept = (try? FileManager.default.contentsOfDirectory(atPath: jobs + "/lost+found")) ?? []
        return Set((here + kept).filter { $0.hasSuffix(".out") || $0.hasSuffix(".err") })
    }

    @Test("after a clean stop the main file alone holds every job: a copy of it is a whole backup")
    func checkpointAtStop() throws {
        let home = try TestHome()
        for index in 1...50 { try home.job("start", "--quiet", "echo \(index)") }
        try home.job("wait")
        #expect(try home.job("agent", "stop").status == 0)
        let wal = home.path + "/jobs.sqlite-wal"
        let logSize = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
        #expect(logSize == 0)
        // The main file copied alone (what a backup of jobs.sqlite takes) into a new home.
        let copy = try TestHome()
        try FileManager.default.createDirectory(atPath: copy.path, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: home.path + "/jobs.sqlite", toPath: copy.path + "/jobs.sqlite")
        let listed = try TestHome.jobs(try copy.job("get", "--format", "json"))
        #expect(listed.count == 50)
        #expect(listed.last?["id"] as? Int == 99)
    }

    @Test("the main file is checkpointed while the agent idles: a log lost after a kill -9 takes nothing back")
    func checkpointWhileIdle() throws {
        let home = try TestHome()
        for index in 1...5 { try home.job("start", "--quiet", "echo \(index)") }
        try home.job("wait")
        // The ledger beside the store says when the main file held Ids through 10.
        try TestHome.eventually("a checkpoint") {
            (try? String(contentsOfFile: home.path + "/last-id", encoding: .utf8))?.hasPrefix("10 ") == true
        }
        let agent = try #require(try home.agentPid())
        kill(agent, SIGKILL)
        try home.awaitAgentGone()
        unlink(home.path + "/jobs.sqlite-wal")
        let listed = try TestHome.jobs(try home.job("get", "--format", "json"))
        #expect(listed.count == 5)
        #expect(try home.job("receive", "9").stdout == "5\n")
    }

    @Test("the ledger of Ids is written in place: no file is made or freed per block of Ids, and it reads back")
    func ledgerInPlace() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "true")
        func inode() throws -> UInt64 {
            var info = stat()
            guard stat(home.path + "/last-id", &info) == 0 else { throw POSIXError(.ENOENT) }
            return UInt64(info.st_ino)
        }
        let first = try inode()
        // 60 starts of two Ids each: past the first block of 100 reserved.
        for _ in 1...60 { try home.job("start", "--quiet", "true") }
        try home.job("wait")
        let text = try String(contentsOfFile: home.path + "/last-id", encoding: .utf8)
        let numbers = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        #expect(numbers.count == 2 && numbers[1] >= 122, "\(text)")
        #expect(try inode() == first)
        #expect(!FileManager.default.fileExists(atPath: home.path + "/last-id.new"))
        // The next agent goes on from it, after a clean stop.
        #expect(try home.job("agent", "stop").status == 0)
        #expect(try home.job("start", "--quiet", "true").stdout == "123\n")
    }

    /// A listening socket whose abstract name is not UTF-8, as another program may hold: the
    /// agent's reading of /proc/net/unix must not stop at it. Closed by the caller.
    static func socketWithByteName() throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let name: [UInt8] = [0] + Array("job-probe-".utf8) + [0xFF, 0xFE] + Array(String(getpid()).utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in name.enumerated() { raw[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + name.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard fd >= 0, bound == 0, listen(fd, 1) == 0 else { throw TestFailure("cannot bind the probe socket") }
        return fd
    }

    @Test(
        "a store put back from an older copy: no output deleted, running jobs taken in with their exact end, no Id given twice"
    )
    func storePutBack() throws {
        let home = try TestHome()
        let oddSocket = try Self.socketWithByteName()
        defer { close(oddSocket) }
        try home.job("start", "--quiet", "echo kept")  // 1, 2
        try home.job("wait")
        #expect(try home.job("agent", "stop").status == 0)
        let backup = home.scratch + "/jobs.sqlite.backup"
        try FileManager.default.copyItem(atPath: home.path + "/jobs.sqlite", toPath: backup)
        let gate = try home.fifo("gate")
        try home.job("start", "--quiet", "echo finished")  // 3, 4
        try home.job("start", "--quiet", "echo running; read x < \(gate); echo done; exit 5")  // 5, 6
        try TestHome.eventually("the running job's first line") {
            try home.job("receive", "5", "--keep").stdout == "running\n"
        }
        try home.job("wait", "3")
        let before = Self.outputFiles(home)
        #expect(before.count == 6)
        let agent = try #require(try home.agentPid())
        kill(agent, SIGKILL)
        try home.awaitAgentGone()
        // The copy put back: it knows job 1 only.
        for suffix in ["", "-wal", "-shm"] { unlink(home.path + "/jobs.sqlite" + suffix) }
        try FileManager.default.copyItem(atPath: backup, toPath: home.path + "/jobs.sqlite")

        let first = try home.job("get", "--format", "json")
        #expect(first.stderr.contains("notice:"), "\(first.stderr)")
        let listed = try TestHome.jobs(first)
        // Job 1, and the running job taken in under a new Id past every Id reserved before
        // (Ids are reserved 100 at a time).
        #expect(listed.map { $0["id"] as? Int } == [1, 105])
        #expect(listed.last?["command"] as? String == "echo running; read x < \(gate); echo done; exit 5")
        #expect(listed.last?["state"] as? String == "Running")
        #expect(Self.outputFiles(home) == before)
        #expect(FileManager.default.fileExists(atPath: home.path + "/jobs/lost+found"))
        let status = try home.job("agent", "status").stdout
        #expect(status.contains("Notice") && status.contains("lost+found"), "\(status)")
        try home.release(gate)
        let end = try home.job("receive", "105", "--wait")
        #expect(end.stdout == "running\ndone\n")
        #expect(end.status == 5)
        #expect(try home.job("start", "--quiet", "true").stdout == "107\n")
        #expect(try home.job("receive", "1").stdout == "kept\n")
    }

    /// Each way a store was found damaged by the probes, done to a stopped home's store.
    enum Damage: String, CaseIterable, CustomTestStringConvertible {
        case header = "its header overwritten"
        case emptied = "cut to nothing"
        case truncated = "cut to half a page"
        case page = "a page in the middle zeroed"
        case logGarbage = "its write-ahead log overwritten"
        case removed = "deleted"
        var testDescription: String { rawValue }

        func apply(to path: String, pageOfJobs: Int? = nil) throws {
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            switch self {
            case .header:
                try handle.write(contentsOf: Data("garbage!garbage!garbage!".utf8))
            case .emptied: try handle.truncate(atOffset: 0)
            case .truncated: try handle.truncate(atOffset: 2048)
            case .page:
                // A page of job rows in the middle of the table (not an index's or a free page,
                // which a read of the jobs need not touch), found through SQLite's dbstat.
                let size = try handle.seekToEnd()
                let page = UInt64(pageOfJobs ?? Int(size / 4096 / 2 + 1))
                try handle.seek(toOffset: (page - 1) * 4096)
                try handle.write(contentsOf: Data(repeating: 0, count: 4096))
            case .logGarbage:
                // A stopped agent closed the store, which removed its log: garbage takes its place.
                if !FileManager.default.fileExists(atPath: path + "-wal") {
                    _ = FileManager.default.createFile(atPath: path + "-wal", contents: nil)
                }
                let log = try FileHandle(forWritingTo: URL(fileURLWithPath: path + "-wal"))
                try log.write(contentsOf: Data(repeating: 0x5A, count: 64 << 10))
                try log.close()
            case .removed: unlink(path)
            }
        }
    }

    @Test(
        "a damaged store is set aside, what can be read is kept, no output is deleted, no Id given twice",
        arguments: Damage.allCases)
    func damagedStore(_ damage: Damage) throws {
        let home = try TestHome()
        for index in 1...40 { try home.job("start", "--quiet", "echo \(index)") }
        try home.job("wait")
        #expect(try home.job("agent", "stop").status == 0)
        let before = Self.outputFiles(home)
        #expect(before.count == 80)
        let leaves = "FROM dbstat WHERE name = 'job' AND pagetype = 'leaf'"
        let middle = try home.sql(
            "SELECT pageno \(leaves) ORDER BY pageno LIMIT 1 OFFSET (SELECT count(*) / 2 \(leaves))")
        #expect(try home.sql("PRAGMA page_size") == "4096")
        #expect(Int(middle) ?? 0 > 1, "the jobs fill more than one page: \(middle)")
        try damage.apply(to: home.path + "/jobs.sqlite", pageOfJobs: Int(middle))

        let listed = try home.job("get", "--format", "json")
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(!listed.stderr.contains("SQLite error"))
        let jobs = try TestHome.jobs(listed)
        switch damage {
        case .header, .logGarbage:
            // The header's constant bytes are written anew; a log that is not one is ignored.
            #expect(jobs.count == 40)
            #expect(try home.job("receive", "79").stdout == "40\n")
        case .page:
            #expect(jobs.count < 40 && !jobs.isEmpty, "\(jobs.count) jobs")
        case .emptied, .truncated, .removed:
            #expect(jobs.isEmpty)
        }
        if damage != .logGarbage {
            #expect(listed.stderr.contains("notice:"), "\(listed.stderr)")
        }
        // Nothing deleted: every output file is in jobs/ or jobs/lost+found.
        #expect(Self.outputFiles(home) == before)
        // Nothing given twice, and the store is sound and serves.
        let next = try home.job("start", "--quiet", "echo after")
        #expect((Int(next.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 80, "\(next.stdout)")
        #expect(try home.job("wait", "%").status == 0)
        #expect(try home.job("agent", "stop").status == 0)
        #expect(try home.sql("PRAGMA integrity_check") == "ok")
        if damage == .header || damage == .page || damage == .truncated {
            let kept = try FileManager.default.contentsOfDirectory(atPath: home.path)
            #expect(kept.contains { $0.hasPrefix("jobs.sqlite.damaged-") }, "\(kept)")
        }
    }

    @Test("with few descriptors left, every job still gets an InstanceId of its own")
    func instanceIdsWithoutDescriptors() throws {
        let home = try TestHome()
        // The agent started under a low limit (its hard limit too, so it cannot raise it).
        let started = try home.shell("ulimit -n 40; $JOB start --quiet true")
        #expect(started.status == 0, "\(started.stderr)")
        var ids: [String] = []
        var refusal: CommandResult?
        for _ in 0..<40 {
            let result = try home.job("start", "--quiet", "sleep 60")
            if result.status != 0 {
                refusal = result
                break
            }
        }
        // Out of descriptors: a clear refusal that names the limit, not SQLite's words.
        let refused = try #require(refusal)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("used up its 40 file descriptors"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("UNIQUE constraint"))
        for job in try TestHome.jobs(try home.job("get", "--include-children", "--format", "json")) {
            if let id = job["instanceId"] as? String { ids.append(id) }
        }
        #expect(ids.count > 10)
        #expect(Set(ids).count == ids.count)
        #expect(!ids.contains("00000000-0000-4000-8000-000000000000"))
        #expect(try home.job("stop", "--all", "--grace", "0").status == 0)
    }
}

/// Readers of output under the probes of issue 21: interrupted, side by side, at a job's start,
/// and with the output deleted; clients that reach a dying agent.
@Suite("fault probes: readers and clients", .timeLimit(.minutes(10)))
struct ReaderProbeTests {
    /// A job's output, known in full: `seq 1 2000000` (14.9 MB).
    static let lines = 2_000_000
    static var expected: [UInt8] { Array((1...lines).map { "\($0)\n" }.joined().utf8) }

    @Test(
        "a consuming receive ended by SIGINT, SIGTERM or SIGHUP loses nothing it did not print",
        arguments: [SIGINT, SIGTERM, SIGHUP])
    func interruptedReceive(_ signal: Int32) throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "seq 1 \(Self.lines)")
        try home.job("wait", "1")
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: TestHome.binary)
        reader.arguments = ["receive", "1"]
        reader.environment = home.environment
        let pipe = Pipe()
        reader.standardOutput = pipe
        try reader.run()
        // The reader's first megabyte, then the signal while it is blocked writing the rest.
        let input = pipe.fileHandleForReading.fileDescriptor
        var got = Self.read(input) { $0.count >= 1 << 20 }
        kill(reader.processIdentifier, signal)
        // What it had written before it stopped is what it printed.
        got += Self.read(input)
        try TestHome.eventually("the reader to end") { !reader.isRunning }
        #expect(reader.terminationReason == .uncaughtSignal)
        #expect(reader.terminationStatus == signal)
        let expected = Self.expected
        #expect(got.count < expected.count)
        // The next receive goes on exactly where it stopped. (Compared first, so that a failure
        // does not print megabytes.)
        let rest = try home.job("receive", "1")
        #expect(rest.status == 0)
        let whole = got + rest.stdoutBytes == expected
        #expect(whole, "\(got.count) + \(rest.stdoutBytes.count) bytes of \(expected.count)")
        #expect(try home.job("receive", "1").stdoutBytes.isEmpty)
    }

    /// `job ARGUMENTS` started with its stdout on a pipe, not waited for. (A shell's `wait` is
    /// no use here: the test runner's threads block SIGCHLD, and a shell inherits that.)
    static func spawn(_ home: TestHome, _ arguments: [String]) throws -> (process: Process, output: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestHome.binary)
        process.arguments = arguments
        process.environment = home.environment
        process.currentDirectoryURL = URL(fileURLWithPath: home.scratch)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, pipe.fileHandleForReading.fileDescriptor)
    }

    /// Reads from `fd` until `enough` holds for what was read, the stream ends, or `timeout`
    /// seconds pass; returns what was read.
    static func read(_ fd: Int32, timeout: Double = 30, until enough: ([UInt8]) -> Bool = { _ in false }) -> [UInt8] {
        var got: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(timeout)
        while !enough(got) {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { break }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, Int32(left * 1000)) > 0 else { break }
            let count = Glibc.read(fd, &buffer, buffer.count)
            guard count > 0 else { break }
            got += buffer[..<count]
        }
        return got
    }

    @Test("log --follow sees every line while a receive --wait consumes the same jobs")
    func logBesideReceive() throws {
        let home = try TestHome()
        var readers: [(process: Process, output: Int32)] = []
        for id in stride(from: 1, through: 9, by: 2) {
            try home.job("start", "--quiet", "for i in 1 2 3 4 5 6 7 8; do echo line$i; sleep 0.1; done")
            readers.append(try Self.spawn(home, ["log", String(id), "--follow"]))
            readers.append(try Self.spawn(home, ["receive", String(id), "--wait"]))
        }
        let all = Array((1...8).map { "line\($0)\n" }.joined().utf8)
        for reader in readers {
            let got = Self.read(reader.output)
            reader.process.waitUntilExit()
            #expect(reader.process.terminationStatus == 0)
            #expect(got == all, "\(reader.process.arguments ?? []): \(String(decoding: got, as: UTF8.self))")
        }
    }

    @Test(
        "output written between a stream's first look and its first wait wakes it",
        arguments: [["receive", "1", "--wait"], ["log", "1", "--follow"]])
    func outputBetweenLookAndWait(_ arguments: [String]) throws {
        let home = try TestHome()
        let gate = try home.fifo("gate")
        let end = try home.fifo("end")
        try home.job("start", "--quiet", "read x < \(gate); echo first; read y < \(end); echo second")
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: TestHome.binary)
        reader.arguments = arguments
        reader.environment = home.environment.merging(["JOB_TEST_FAULT": "stream-after-first-round"]) { $1 }
        let pipe = Pipe()
        reader.standardOutput = pipe
        try reader.run()
        // Stopped after its first look (nothing yet), the job writes, then the reader goes on.
        try TestHome.eventually("the reader to stop itself") {
            let stat = (try? String(contentsOfFile: "/proc/\(reader.processIdentifier)/stat", encoding: .utf8)) ?? ""
            return stat.split(separator: ")").last?.hasPrefix(" T") == true
        }
        try home.release(gate)
        try TestHome.eventually("the first line in the job's file") {
            try home.job("log", "1").stdout == "first\n"
        }
        kill(reader.processIdentifier, SIGCONT)
        // Well within the agent's wait slice (10 s), after which a reader looks again anyway.
        let first = Self.read(pipe.fileHandleForReading.fileDescriptor, timeout: 5) { $0.contains(10) }
        #expect(String(decoding: first, as: UTF8.self) == "first\n")
        try home.release(end)
        let rest = Self.read(pipe.fileHandleForReading.fileDescriptor)
        reader.waitUntilExit()
        #expect(String(decoding: rest, as: UTF8.self) == "second\n")
    }

    @Test("a stream started at once gets a job's first line while the job still runs (50 jobs)")
    func firstLineAtOnce() throws {
        let home = try TestHome()
        var readers: [(process: Process, output: Int32)] = []
        var gates: [String] = []
        for index in 0..<50 {
            let gate = try home.fifo("gate.\(index)")
            gates.append(gate)
            let id = try home.job("start", "--quiet", "echo first; read x < \(gate); echo second")
                .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            readers.append(
                try Self.spawn(home, index % 2 == 0 ? ["receive", id, "--wait"] : ["log", id, "--follow"]))
        }
        // Each first line arrives while its job waits at its gate: none has ended. One deadline
        // for all: a reader that missed its line would wait for the gate.
        let deadline = Date().addingTimeInterval(30)
        for reader in readers {
            let first = Self.read(reader.output, timeout: max(0, deadline.timeIntervalSinceNow)) { $0.contains(10) }
            #expect(String(decoding: first, as: UTF8.self) == "first\n", "\(reader.process.arguments ?? [])")
        }
        for gate in gates { try home.release(gate) }
        for reader in readers {
            let rest = Self.read(reader.output)
            reader.process.waitUntilExit()
            #expect(String(decoding: rest, as: UTF8.self) == "second\n")
        }
    }

    @Test("output files deleted from the jobs folder are reported by receive, log and receive --wait (exit 1)")
    func deletedOutput() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "echo out; echo err >&2")
        try home.job("wait", "1")
        let instanceId = try #require(try home.record(2)["instanceId"] as? String)
        let file = home.path + "/jobs/\(instanceId).out"
        unlink(file)
        for verb in [["receive", "1"], ["log", "1"], ["receive", "1", "--wait"], ["receive", "1", "--keep"]] {
            let result = try home.job(verb)
            #expect(result.status == 1, "\(verb): \(result.status)")
            #expect(result.stderr.contains(file), "\(verb): \(result.stderr)")
            #expect(result.stderr.contains("deleted"), "\(verb): \(result.stderr)")
        }
        // A job not started yet has no files, and that is no loss.
        try home.job("start", "--quiet", "--delay", "1h", "true")
        #expect(try home.job("receive", "3").status == 0)
    }

    @Test("wait, receive --wait and log --follow go on with the next agent when theirs is killed under them")
    func waitersAcrossAnAgentRestart() throws {
        let home = try TestHome()
        let gate = try home.fifo("gate")
        try home.job("start", "--quiet", "echo before; read x < \(gate); echo after; exit 3")
        try TestHome.eventually("the first line") { try home.job("log", "1").stdout == "before\n" }
        let waiters = [
            try Self.spawn(home, ["wait", "1"]), try Self.spawn(home, ["receive", "1", "--wait"]),
            try Self.spawn(home, ["log", "1", "--follow"]),
        ]
        // Each waits in the agent (a wait) or for it (a stream), then the agent is killed.
        let agent = try #require(try home.agentPid())
        try TestHome.eventually("the waiters to wait") {
            waiters.allSatisfy { waiter in
                let channel = try? String(
                    contentsOfFile: "/proc/\(waiter.process.processIdentifier)/wchan", encoding: .utf8)
                return channel == "unix_stream_read_generic" || channel?.hasPrefix("poll_schedule_timeout") == true
            }
        }
        kill(agent, SIGKILL)
        try TestHome.eventually("the next agent") { (try home.agentPid()).map { $0 != agent } ?? false }
        try home.release(gate)
        let outputs = waiters.map { Self.read($0.output) }
        for waiter in waiters { waiter.process.waitUntilExit() }
        #expect(waiters[0].process.terminationStatus == 0)
        #expect(String(decoding: outputs[0], as: UTF8.self).contains("Failed"))
        #expect(waiters[1].process.terminationStatus == 3)
        #expect(String(decoding: outputs[1], as: UTF8.self) == "before\nafter\n")
        #expect(waiters[2].process.terminationStatus == 3)
        #expect(String(decoding: outputs[2], as: UTF8.self) == "before\nafter\n")
    }

    @Test("a request the agent never read reaches the next agent (the agent stopped, then killed under it)")
    func requestToADyingAgent() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "true")  // 1, 2
        for arguments in [["start", "--quiet", "echo once"], ["get", "1", "--format", "json"]] {
            let agent = try #require(try home.agentPid())
            kill(agent, SIGSTOP)
            // Should the test fail before it kills the stopped agent, the agent goes too.
            var killed = false
            defer { if !killed { kill(agent, SIGKILL) } }
            let client = Process()
            client.executableURL = URL(fileURLWithPath: TestHome.binary)
            client.arguments = arguments
            client.environment = home.environment
            let output = Pipe()
            let errors = Pipe()
            client.standardOutput = output
            client.standardError = errors
            try client.run()
            // The request sent and the client waiting for its reply (the agent, stopped, cannot
            // accept nor read it), then the agent killed.
            // (It waits in poll, which only data wakes.)
            try TestHome.eventually("the client to wait for its reply") {
                let channel = try? String(
                    contentsOfFile: "/proc/\(client.processIdentifier)/wchan", encoding: .utf8)
                return channel == "unix_stream_read_generic" || channel?.hasPrefix("poll_schedule_timeout") == true
            }
            kill(agent, SIGKILL)
            killed = true
            client.waitUntilExit()
            let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(client.terminationStatus == 0, "\(arguments): \(said)")
            #expect(!said.contains("lost the agent"))
            _ = output.fileHandleForReading.readDataToEndOfFile()
        }
        // The start was carried out exactly once.
        let jobs = try TestHome.jobs(try home.job("get", "--format", "json"))
        #expect(jobs.filter { $0["command"] as? String == "echo once" }.count == 1)
    }
}

/// Another user on the same computer: a monitor's name is not proof of a monitor.
@Suite("fault probes: another user", .timeLimit(.minutes(10)))
struct OtherUserProbeTests {
    @Test("a monitor name held by another user's process is not the job's monitor: the job's end is decided by its pid")
    func monitorNameHeldByAnotherUser() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "sleep 300")  // 1, 2
        let record = try home.record(2)
        let pid = try #require(record["pid"] as? Int)
        let instanceId = try #require(record["instanceId"] as? String)
        // The monitor's full abstract name, as anyone can read it in /proc/net/unix (read as
        // bytes: other programs' names need not be UTF-8).
        func monitorName() -> Substring? {
            let sockets = String(
                decoding: FileHandle(forReadingAtPath: "/proc/net/unix")?.readDataToEndOfFile() ?? Data(), as: UTF8.self
            )
            return sockets.split(separator: "\n").compactMap { $0.split(separator: " ").last }
                .first { $0.hasSuffix(instanceId) && $0.hasPrefix("@job-monitor/") }
        }
        try TestHome.eventually("the monitor's name") { monitorName() != nil }
        let name = try #require(monitorName())
        #expect(try home.job("agent", "stop").status == 0)
        // What a power loss leaves: neither the job nor its monitor.
        let monitorPid = try #require(monitorOf(pid))
        kill(Int32(pid), SIGKILL)
        kill(Int32(monitorPid), SIGKILL)
        try TestHome.eventually("the monitor's name to be free") { monitorName() == nil }
        // Another user binds that name and keeps it.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        holder.arguments = [
            "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c",
            "import socket,sys,time; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); "
                + "s.bind(b'\\0' + sys.argv[1].encode()); s.listen(); print('bound', flush=True); time.sleep(120)",
            String(name.dropFirst()),
        ]
        let said = Pipe()
        holder.standardOutput = said
        try holder.run()
        defer { holder.terminate() }
        let bound = ReaderProbeTests.read(said.fileHandleForReading.fileDescriptor) { $0.contains(10) }
        #expect(String(decoding: bound, as: UTF8.self) == "bound\n")

        // The next agent does not take the name for the monitor: the job is over.
        let shown = try home.record(2)
        #expect(shown["state"] as? String == "Failed", "\(shown)")
        #expect((shown["reason"] as? String)?.contains("monitor") == true, "\(shown)")
        #expect(try home.job("wait", "1", "--timeout", "10").status == 0)
        let log = try String(contentsOfFile: home.path + "/agent.log", encoding: .utf8)
        #expect(log.contains("held by another user"))
    }

    /// The monitor (parent) of a job's process.
    func monitorOf(_ pid: Int) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(close, offsetBy: 2)...].split(separator: " ")
        return fields.count > 1 ? Int(fields[1]) : nil
    }
}
