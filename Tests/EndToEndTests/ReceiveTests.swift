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

@Suite("receive", .timeLimit(.minutes(10)))
struct ReceiveTests {
    @Test("output is byte-exact: NUL bytes, invalid UTF-8, no newline added")
    func byteExact() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "printf 'a\\000b\\377\\376'; printf 'e\\001' >&2")
        try home.job("wait", "1")
        let result = try home.job("receive", "1")
        #expect(result.stdoutBytes == [97, 0, 98, 255, 254])
        #expect(result.stderrBytes == [101, 1])
    }

    @Test("receive consumes; --keep leaves the position; --from-start reads again")
    func consumeKeepFromStart() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "echo one")
        try home.job("wait", "1")
        #expect(try home.job("receive", "1", "--keep").stdout == "one\n")
        #expect(try home.record(1)["hasMoreData"] as? Bool == true)
        #expect(try home.job("receive", "1").stdout == "one\n")
        #expect(try home.record(1)["hasMoreData"] as? Bool == false)
        #expect(try home.job("receive", "1").stdout == "")
        #expect(try home.job("receive", "1", "--from-start").stdout == "one\n")
        #expect(try home.job("receive", "2").stdout == "")
        // A parent runs nothing: with --no-recurse it has no results of its own.
        #expect(try home.job("receive", "1", "--no-recurse", "--from-start").stdout == "")
    }

    @Test("partial results of a running job, then the rest")
    func partialResults() throws {
        let home = try TestHome()
        let gate = try home.fifo("gate")
        try home.job("start", "--quiet", "echo first; read x < \(gate); echo second")
        var seen = ""
        try TestHome.eventually("the first line") {
            seen += try home.job("receive", "1").stdout
            return seen == "first\n"
        }
        #expect(try home.record(1)["state"] as? String == "Running")
        try home.release(gate)
        let rest = try home.job("receive", "1", "--wait")
        #expect(rest.stdout == "second\n")
        #expect(rest.status == 0)
    }

    @Test("a failed job: Reason on stderr at every receive, --wait exits with its status")
    func failedJob() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "echo out; echo err >&2; exit 3")
        let result = try home.job("receive", "1", "--wait")
        #expect(result.status == 3)
        #expect(result.stdout == "out\n")
        #expect(result.stderr == "err\njob: Job1 failed: exited with status 3\n")
        let again = try home.job("receive", "1")
        #expect(again.stderr == "job: Job1 failed: exited with status 3\n")
        #expect(again.status == 0)
        let record = try home.record(2)
        #expect(record["hasMoreData"] as? Bool == false)
    }

    @Test("a job killed by a signal it was not sent by us is Failed; --wait exits 128+N")
    func killedBySignal() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "kill -9 $$")
        let result = try home.job("receive", "1", "--wait")
        #expect(result.status == 137)
        let record = try home.record(2)
        #expect(record["state"] as? String == "Failed")
        #expect(record["signal"] as? Int == 9)
        #expect(record["reason"] as? String == "killed by signal 9 (SIGKILL)")
    }

    @Test("--wait over several jobs exits 1 when one failed; --auto-remove deletes them")
    func waitSeveral() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "echo a")
        try home.job("start", "--quiet", "echo b; exit 2")
        let result = try home.job("receive", "1", "3", "--wait", "--auto-remove")
        #expect(result.status == 1)
        #expect(result.stdout == "a\nb\n")
        #expect(try home.job("get", "--format", "json").stdout == "[]\n")
    }

    @Test("a reader that closes early loses only what its pipe took; the rest stays unreceived")
    func earlyClosedReader() throws {
        let home = try TestHome()
        let total = 8 << 20
        try home.job("start", "--quiet", "head -c \(total) /dev/zero | tr '\\0' 'x' | fold -w 99")
        try home.job("wait", "1")
        let first = try home.shell("\"$JOB\" receive 1 | head -n 1")
        #expect(first.stdout == String(repeating: "x", count: 99) + "\n")
        #expect(try home.record(1)["hasMoreData"] as? Bool == true)
        let rest = try home.job("receive", "1")
        let whole = try home.job("receive", "1", "--from-start", "--keep").stdoutBytes
        #expect(whole.count == total + total / 99)
        #expect(Array(whole.suffix(rest.stdoutBytes.count)) == rest.stdoutBytes)
        // What the pipe had buffered (at most a few hundred KiB) is gone; the rest arrives.
        #expect(rest.stdoutBytes.count > total + total / 99 - (2 << 20))
        #expect(rest.stdoutBytes.count < total + total / 99)
        #expect(try home.record(1)["hasMoreData"] as? Bool == false)
    }

    @Test("--prefix starts every line with the job's name; --format json gives records")
    func prefixAndJSON() throws {
        let home = try TestHome()
        try home.job("start", "--quiet", "printf 'l1\\nl2\\npartial'; printf '\\377' >&2")
        try home.job("wait", "1")
        #expect(try home.job("receive", "1", "--keep", "--prefix").stdout == "Job1: l1\nJob1: l2\nJob1: partial\n")
        let json = try home.job("receive", "1", "--format", "json").stdout.split(separator: "\n")
        #expect(json.count == 2)
        #expect(json[0] == #"{"id":2,"computer":"localhost","stream":"output","data":"l1\nl2\npartial"}"#)
        #expect(json[1] == #"{"id":2,"computer":"localhost","stream":"error","dataBase64":"/w=="}"#)
    }

    @Test("--input gives the job a file or this command's stdin")
    func input() throws {
        let home = try TestHome()
        let file = home.scratch + "/in.txt"
        try "from file\n".write(toFile: file, atomically: true, encoding: .utf8)
        try home.job("start", "--quiet", "--input", file, "cat")
        try home.job(["start", "--quiet", "--input", "-", "tr a-z A-Z"], stdin: Array("piped\n".utf8))
        try home.job("start", "--quiet", "cat")
        try home.job("wait")
        #expect(try home.job("receive", "1").stdout == "from file\n")
        #expect(try home.job("receive", "3").stdout == "PIPED\n")
        #expect(try home.job("receive", "5").stdout == "")
        #expect(try home.record(5)["state"] as? String == "Completed")
        #expect(try home.job("start", "--input", home.scratch + "/missing", "cat").status == 1)
    }
}
