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
import Testing

@testable import JobAgent

/// The agent's log file through its swift-log handler: lines as written, and the size cap.
@Suite("the agent's log")
struct AgentLogTests {
    let folder: String

    init() throws {
        folder = NSTemporaryDirectory() + "agent-log-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test("each event is one line with time, level, pid and message; newlines in a message stay on its line")
    func lineFormat() throws {
        let path = folder + "/agent.log"
        let log = AgentLog(path: path)
        log.write("started Job2 of build on localhost")
        log.warning("refused start: the command is empty\nsecond line")
        log.logger.info("with metadata", metadata: ["job": "7"])
        let written = lines(path)
        #expect(written.count == 3)
        #expect(written[0].hasSuffix(" info [\(getpid())] started Job2 of build on localhost"))
        #expect(written[0].hasPrefix("20") && written[0].split(separator: " ")[0].hasSuffix("Z"))
        #expect(written[1].hasSuffix(" warning [\(getpid())] refused start: the command is empty second line"))
        #expect(written[2].hasSuffix("with metadata job=7"))
    }

    @Test("past its cap the log becomes agent.log.1 and a new one begins; nothing grows past two files")
    func rotation() throws {
        let path = folder + "/agent.log"
        let log = AgentLog(path: path, limit: 2000)
        for index in 0..<200 { log.write("event \(index) " + String(repeating: "x", count: 40)) }
        let size = { (file: String) -> Int in
            ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int) ?? -1
        }
        #expect(size(path) <= 2000 && size(path) > 0)
        #expect(size(path + ".1") <= 2000 && size(path + ".1") > 1500)
        #expect(!FileManager.default.fileExists(atPath: path + ".2"))
        // The newest events are in the current file, the ones just before in the rotated one.
        #expect(lines(path).last?.contains("event 199 ") == true)
        let before = lines(path + ".1").last ?? ""
        let first = lines(path).first ?? ""
        let number = { (line: String) -> Int in
            Int(line.split(separator: " ").drop { $0 != "event" }.dropFirst().first ?? "") ?? -1
        }
        #expect(number(first) == number(before) + 1)
    }
}
