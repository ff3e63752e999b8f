import Foundation
import JobTestSupport
import Testing

/// The queue through the built binary: timeouts, dependencies and start times, also across a
/// `kill -9` of the agent.
@Suite("the queue")
struct QueueTests {
    static func time(_ value: Any?) throws -> Date {
        let text = try #require(value as? String)
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return try #require(format.date(from: text))
    }

    @Test("a timeout stops the job's whole group and fails it; receive --wait exits 124")
    func timeout() throws {
        let home = try TestHome()
        #expect(try home.job("start", "--quiet", "--timeout", "1s", "sleep 300 & sleep 300; wait").stdout == "1\n")
        let record = try home.record(2)
        #expect(record["timeout"] as? Double == 1)
        let pid = Int32(try #require(record["pid"] as? Int))
        let result = try home.job("receive", "1", "--wait")
        #expect(result.status == 124)
        #expect(result.stderr.contains("timed out after 1s"))
        let ended = try home.record(2)
        #expect(ended["state"] as? String == "Failed")
        #expect(ended["reason"] as? String == "timed out after 1s")
        #expect(try home.record(1)["reason"] as? String == "Job2 failed: timed out after 1s")
        #expect(liveMembers(ofGroup: pid).isEmpty)
        // It ran its second, not less.
        #expect(try Self.time(ended["endTime"]).timeIntervalSince(try Self.time(ended["beginTime"])) >= 1)
        // A job that ends in time is not touched.
        #expect(try home.job("start", "--quiet", "--timeout", "1h", "echo fine").status == 0)
        #expect(try home.job("receive", "3", "--wait").stdout == "fine\n")
        #expect(try home.record(4)["state"] as? String == "Completed")
    }

    @Test("a timeout outlives kill -9 of the agent: the next agent stops the job when it is due")
    func timeoutAcrossRestart() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "--timeout", "2s", "sleep 300")
        let agent = try #require(try home.agentPid())
        kill(agent, SIGKILL)
        try TestHome.eventually("the agent to be gone") { !processIsLive(agent) }
        let result = try home.job("receive", "1", "--wait")
        #expect(result.status == 124)
        #expect(try home.record(2)["reason"] as? String == "timed out after 2s")
    }

    @Test("--after waits for Completed, and a failed dependency fails it unstarted; --after-any takes any end")
    func dependencies() throws {
        let home = try TestHome()
        let gate = try home.fifo("gate")
        let marker = home.scratch + "/ran"
        try home.job("start", "--quiet", "read x < \(gate); exit 3")  // 1, 2
        try home.job("start", "--quiet", "--after", "1", "touch \(marker)")  // 3, 4
        try home.job("start", "--quiet", "--after-any", "1", "echo any")  // 5, 6
        try home.job("start", "--quiet", "--after", "5", "echo chained")  // 7, 8
        let waiting = try home.record(3)
        #expect(waiting["state"] as? String == "NotStarted")
        #expect(waiting["reason"] as? String == "waiting for 1")
        #expect(waiting["after"] as? [Int] == [1])
        #expect(try home.record(6)["reason"] as? String == "waiting for 1")
        #expect(try home.record(8)["reason"] as? String == "waiting for 5")
        try home.release(gate)
        #expect(try home.job("wait", "3", "5", "7").status == 0)
        let failed = try home.record(4)
        #expect(failed["state"] as? String == "Failed")
        #expect(failed["reason"] as? String == "job 1, which it waited for, ended Failed")
        #expect(failed["beginTime"] is NSNull && failed["pid"] is NSNull)
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(try home.job("receive", "5").stdout == "any\n")
        #expect(try home.job("receive", "7").stdout == "chained\n")
    }

    @Test("a dependency stopped: the job waiting for it never starts, unless any end will do; one that ended may go")
    func stoppedOrRemoved() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "sleep 300")  // 1, 2
        try home.job("start", "--quiet", "--after", "1", "true")  // 3, 4
        try home.job("start", "--quiet", "sleep 300")  // 5, 6
        try home.job("start", "--quiet", "--after-any", "5", "echo went")  // 7, 8
        #expect(try home.job("stop", "1").status == 0)
        #expect(try home.job("wait", "3").status == 0)
        #expect(try home.record(4)["reason"] as? String == "job 1, which it waited for, ended Stopped")
        // Removing a running dependency stops it first: an end that --after-any takes.
        #expect(try home.job("remove", "--force", "5").status == 0)
        #expect(try home.job("receive", "7", "--wait").stdout == "went\n")
        // A dependency that ended Completed may be removed while the job still waits for
        // another, also across a restart of the agent.
        let gate = try home.fifo("gate")
        try home.job("start", "--quiet", "true")  // 9, 10
        try home.job("wait", "9")
        try home.job("start", "--quiet", "read x < \(gate)")  // 11, 12
        try home.job("start", "--quiet", "--after", "9,11", "echo both")  // 13, 14
        #expect(try home.job("remove", "9").status == 0)
        #expect(try home.record(14)["reason"] as? String == "waiting for 11")
        #expect(try home.job("agent", "stop").status == 0)
        try home.release(gate)
        #expect(try home.job("receive", "13", "--wait").stdout == "both\n")
        let unknown = try home.job("start", "--after", "99", "true")
        #expect(unknown.status == 1 && unknown.stderr.contains("no job has Id 99"))
        #expect(try home.job("get", "9").status == 1)
    }

    @Test("--delay and --at: NotStarted until then, never earlier; a time in the past starts at once")
    func schedules() throws {
        let home = try TestHome()
        let asked = Date()
        try home.job("start", "--quiet", "--delay", "1.5", "echo later")
        let record = try home.record(2)
        #expect(record["state"] as? String == "NotStarted")
        #expect((record["reason"] as? String)?.hasPrefix("starts at ") == true)
        #expect(try home.job("receive", "1", "--wait").stdout == "later\n")
        let begin = try Self.time(try home.record(2)["beginTime"])
        #expect(begin.timeIntervalSince(asked) >= 1.5)
        // In the past (ISO 8601, UTC): at once.
        #expect(try home.job("start", "--quiet", "--at", "2020-01-01T00:00:00Z", "echo past").status == 0)
        #expect(try home.job("receive", "3", "--wait").stdout == "past\n")
        // A clock time already passed today means tomorrow: it waits, and stop cancels it.
        try home.job("start", "--quiet", "--at", "00:00", "echo tomorrow")  // 5, 6
        let tomorrow = try home.record(6)
        #expect(tomorrow["state"] as? String == "NotStarted")
        #expect(try Self.time(tomorrow["startAt"] ?? NSNull()) > Date())
        #expect(try home.job("stop", "5").status == 0)
        #expect(try home.record(6)["state"] as? String == "Stopped")
    }

    @Test("a start time outlives kill -9 of the agent: the next agent starts the job, once")
    func scheduleAcrossRestart() throws {
        let home = try TestHome()
        let marker = home.scratch + "/count"
        try home.job("start", "--quiet", "--delay", "2s", "echo x >> \(marker)")
        let agent = try #require(try home.agentPid())
        kill(agent, SIGKILL)
        try TestHome.eventually("the agent to be gone") { !processIsLive(agent) }
        #expect(try home.job("wait", "1").status == 0)
        #expect(try home.record(2)["state"] as? String == "Completed")
        #expect(try String(contentsOfFile: marker, encoding: .utf8) == "x\n")
    }

    @Test(
        "bad queue options are refused before anything starts, with what to write",
        arguments: [
            (["--timeout", "0"], "--timeout takes a duration"), (["--timeout", "5x"], "--timeout takes a duration"),
            (["--after", "a"], "--after takes job Ids"), (["--after-any", "1,,2"], "--after-any takes job Ids"),
            (["--at", "25:00"], "--at takes a time"), (["--at", "tomorrow"], "--at takes a time"),
            (["--delay", "-1"], "--delay takes a duration"),
            (["--at", "02:00", "--delay", "1m"], "do not go together"),
            (["--input", "/dev/null", "--after", "1"], "--input does not go with --after"),
        ] as [([String], String)])
    func badOptions(arguments: [String], message: String) throws {
        let home = try TestHome()
        let result = try home.job(["start"] + arguments + ["true"])
        #expect(result.status == 2)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(try home.job("get", "--format", "json").stdout == "[]\n")
    }
}
