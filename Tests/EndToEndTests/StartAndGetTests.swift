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
import JobTestSupport
import Testing

@Suite("start and get", .timeLimit(.minutes(10)))
struct StartAndGetTests {
    @Test("the first start prints parent 1 with child 2, the next start is 3, an invoke-free home counts on")
    func idsComeFromOneCounter() throws {
        let home = try TestHome()
        let first = try home.job("start", "true")
        #expect(first.status == 0)
        let lines = first.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(
            lines[0].split(separator: " ", omittingEmptySubsequences: true) == [
                "Id", "Name", "Type", "State", "HasMoreData", "Location", "Command",
            ])
        #expect(lines[2].hasPrefix("1   Job1  BackgroundJob  "))
        let second = try home.job("start", "--quiet", "true")
        #expect(second.stdout == "3\n")
        let children = try TestHome.jobs(try home.job("get", "--include-children", "--format", "json"))
        #expect(children.map { $0["id"] as? Int } == [1, 2, 3, 4])
        #expect(children[1]["parentId"] as? Int == 1)
        #expect(children[0]["childIds"] as? [Int] == [2])
        #expect(children[1]["name"] as? String == "Job2")
        #expect(children[1]["type"] as? String == "")
    }

    @Test("start returns at once while the command runs, in the caller's folder and environment")
    func startCapturesDirectoryAndEnvironment() throws {
        let home = try TestHome()
        let started = try home.job(
            ["start", "--quiet", "--env", "EXTRA=two", "pwd; echo \"$MARKER $EXTRA\""],
            environment: ["MARKER": "one"], directory: "/tmp")
        #expect(started.status == 0)
        let id = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try home.job("wait", id)
        #expect(try home.job("receive", id).stdout == "/tmp\none two\n")
        let record = try home.record(Int(id)!)
        #expect(record["workingDirectory"] as? String == "/tmp")
        #expect(record["state"] as? String == "Completed")
    }

    @Test("the job gets the caller's umask, not the agent's")
    func umaskOfCaller() throws {
        let home = try TestHome()
        let result = try home.shell("umask 027; id=$(\"$JOB\" start --quiet umask); \"$JOB\" receive --wait $id")
        #expect(result.stdout == "0027\n")
    }

    @Test("an argument vector after -- is quoted so the shell sees the words unchanged")
    func argumentVectorIsQuoted() throws {
        let home = try TestHome()
        let id = try home.job("start", "--quiet", "--", "printf", "%s|", "a b", "it's", "$HOME", "*").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try home.job("wait", id)
        #expect(try home.job("receive", id).stdout == "a b|it's|$HOME|*|")
        #expect(try home.record(Int(id)!)["command"] as? String == "printf '%s|' 'a b' 'it'\\''s' '$HOME' '*'")
    }

    @Test("a job runs in its own session and process group with default signals and only fds 0-2")
    func jobHygiene() throws {
        let home = try TestHome()
        let script = "ps -o pid=,pgid=,sid= -p $$; exec grep -E 'SigIgn|SigBlk' /proc/self/status"
        let id = try home.job("start", "--quiet", script).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try home.job("wait", id)
        let lines = try home.job("receive", id).stdout.split(separator: "\n")
        let ids = lines[0].split(separator: " ")
        #expect(ids.count == 3 && ids[0] == ids[1] && ids[1] == ids[2])
        #expect(lines[1] == "SigBlk:\t0000000000000000")
        #expect(lines[2] == "SigIgn:\t0000000000000000")
        // ls lists its own descriptors: 0-2 and the one it reads the folder with.
        let fds = try home.job("start", "--quiet", "exec ls /proc/self/fd").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try home.job("wait", fds)
        #expect(try home.job("receive", fds).stdout == "0\n1\n2\n3\n")
        // `yes | head` ends only when SIGPIPE has its default action.
        let pipe = try home.job("start", "--quiet", "yes | head -n 2").stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(try home.job(["wait", pipe, "--timeout", "20"]).status == 0)
    }

    @Test("a plain command line runs without the shell, as the shell would have run it")
    func plainCommandsRunDirectly() throws {
        let home = try TestHome()
        // One process: the program itself, the monitor's child; stop ends it as before.
        let sleeper = try home.job("start", "--quiet", "sleep 300").stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
        let pid = Int32(try #require(try home.record(Int(sleeper)! + 1)["pid"] as? Int))
        // The pid is the job's from before its exec (it answers the launch itself).
        try TestHome.eventually("the job to be sleep") { processName(pid) == "sleep" }
        let monitor = try #require(parentPid(of: pid))
        #expect(processName(monitor) == "job-monitor")
        // Its command line too, so that `pkill -f 'job-agent supervise'` does not reach it.
        let arguments = try String(contentsOfFile: "/proc/\(monitor)/cmdline", encoding: .utf8)
        #expect(arguments.hasPrefix("job-monitor\0"), "\(arguments.debugDescription)")
        #expect(try home.job("stop", sleeper, "--grace", "1").status == 0)
        #expect(try home.record(Int(sleeper)!)["state"] as? String == "Stopped")
        // The environment as the shell passes it on: PWD names the folder it runs in.
        let folder = home.scratch + "/sub"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let env = try home.job("start", "--quiet", "-C", folder, "env").stdout.trimmingCharacters(in: .whitespaces)
        #expect(
            try home.job("receive", "--wait", env.trimmingCharacters(in: .newlines)).stdout.contains(
                "\nPWD=\(folder)\n"))
        // What only the shell does stays the shell's: its echo, its "not found" and 127, a
        // script without #! (the shell runs it), true with words.
        let echo = try home.job("start", "--quiet", "echo -e x").stdout.trimmingCharacters(in: .newlines)
        #expect(try home.job("receive", "--wait", echo).stdout == "-e x\n")
        let missing = try home.job("start", "--quiet", "no-such-program-here x").stdout.trimmingCharacters(
            in: .newlines)
        let failed = try home.job("receive", "--wait", missing)
        #expect(failed.status == 127)
        #expect(failed.stderr.contains("not found"))
        let script = folder + "/plain-script"
        try "echo from a script: $1\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let ran = try home.job("start", "--quiet", "-C", folder, "./plain-script one").stdout.trimmingCharacters(
            in: .newlines)
        #expect(try home.job("receive", "--wait", ran).stdout == "from a script: one\n")
        let broken = folder + "/broken-script"
        try "#!/no/such/interpreter\necho never\n".write(toFile: broken, atomically: true, encoding: .utf8)
        chmod(broken, 0o755)
        let missing2 = try home.job("start", "--quiet", "-C", folder, "./broken-script").stdout.trimmingCharacters(
            in: .newlines)
        #expect(try home.job("receive", "--wait", missing2).status == 127)
        let help = try home.job("start", "--quiet", "true --help").stdout.trimmingCharacters(in: .newlines)
        #expect(try home.job("receive", "--wait", help).stdout == "")
    }

    @Test("get filters: state, name glob, command glob, has-more-data, newest, children-of, times")
    func getFilters() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "--name", "Build-One", "true")
        try home.job("start", "--quiet", "--name", "test", "echo x; exit 4")
        try home.job("wait")
        func ids(_ arguments: String...) throws -> [Int] {
            try TestHome.jobs(try home.job(arguments + ["--format", "json"])).compactMap { $0["id"] as? Int }
        }
        #expect(try ids("get", "--state", "failed") == [3])
        #expect(try ids("get", "build*") == [1])
        #expect(try ids("get", "--name", "T?ST") == [3])
        #expect(try ids("get", "--command", "*EXIT*") == [3])
        #expect(try ids("get", "--newest", "1") == [3])
        #expect(try ids("get", "--children-of", "3") == [4])
        #expect(try ids("get", "--after", "2000-01-01") == [1, 3])
        #expect(try ids("get", "--before", "2000-01-01T00:00:00Z") == [])
        try home.job("receive", "1")
        #expect(try ids("get", "--has-more-data", "false") == [1])
        #expect(try ids("get", "--has-more-data", "true") == [3])
        #expect(try home.job("get", "--before", "yesterday").status == 2)
        #expect(try home.job("get", "--state", "sleeping").status == 2)
    }

    @Test("the table, list and json formats of one job")
    func formats() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "--name", "fmt", "exit 3")
        try home.job("wait", "1")
        let table = try home.job("get").stdout
        #expect(
            table == """
                Id  Name  Type           State   HasMoreData  Location   Command
                --  ----  ----           -----   -----------  --------   -------
                1   fmt   BackgroundJob  Failed  False        localhost  exit 3

                """)
        let list = try home.job("get", "1", "--format", "list").stdout
        #expect(list.contains("Reason           : exited with status 3\n"))
        #expect(list.contains("ChildJobs        : {Job2}\n"))
        let json = try TestHome.jobs(try home.job("get", "--include-children", "--format", "json"))
        let keys = [
            "id", "parentId", "childIds", "name", "instanceId", "type", "state", "hasMoreData", "location",
            "command", "workingDirectory", "reason", "exitStatus", "signal", "pid", "beginTime", "endTime",
            "group", "timeout", "after", "afterAny", "startAt", "maxOutput", "restarts", "history",
        ]
        #expect(Set(json[1].keys) == Set(keys))
        #expect(json[1]["exitStatus"] as? Int == 3)
        #expect(json[1]["reason"] as? String == "exited with status 3")
        // A parent with one child has that child's exit status.
        #expect(json[0]["exitStatus"] as? Int == 3)
        #expect(json[1]["pid"] is NSNull)
        let uuid = json[1]["instanceId"] as? String ?? ""
        #expect(uuid == uuid.lowercased() && uuid.count == 36)
        let begin = json[1]["beginTime"] as? String ?? ""
        #expect(begin.hasSuffix("Z") && begin.contains("."))
        #expect(try home.job("get", "--state", "Running", "--format", "json").stdout == "[]\n")
    }
}

@Suite("bytes that are not UTF-8, end to end", .timeLimit(.minutes(10)))
struct NonUTF8Tests {
    @Test("ff fe in an argument, the environment and --env reach the job unchanged, here and over ssh")
    func unchanged() throws {
        let computers = try sharedComputers.get()
        let home = try TestHome()
        let script = """
            A=$(printf 'a\\377\\376b'); export W="$A"
            "$JOB" start --quiet --env "K=$A" -- sh -c 'printf "%s|%s|%s" "$1" "$W" "$K"' sh "$A" > /dev/null
            "$JOB" receive 1 --wait
            printf '\\n'
            JOB_SSH_CONFIG=\(computers.sshConfig) "$JOB" invoke --computer server01 --env "K=$A" \
                "printf '%s|%s' \"\\$K\" '$A'"
            """
        let result = try home.shell(script)
        let odd: [UInt8] = [0x61, 0xFF, 0xFE, 0x62]
        let bar = Array("|".utf8)
        // One computer: its output as it is, untagged.
        let expected = odd + bar + odd + bar + odd + [10] + odd + bar + odd
        #expect(result.stdoutBytes == expected, "\(result.stdoutBytes) \(result.stderr)")
    }
}
