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

import JobProtocol
import Testing

/// The commands down a durable child's link, written and read by the one type both ends use.
@Suite("mirror commands")
struct MirrorCommandTests {
    @Test(
        "each command reads back as it was written, in the words the other side has always read",
        arguments: [
            (MirrorCommand.acknowledge, "ack"), (.stop(grace: 5, signal: 15), "stop 5.0 15"),
            (.stop(grace: 0.5, signal: 2), "stop 0.5 2"), (.signal(19), "signal 19"), (.signal(18), "signal 18"),
        ] as [(MirrorCommand, String)])
    func roundTrip(command: MirrorCommand, line: String) {
        #expect(command.line == line)
        #expect(MirrorCommand(line: line) == command)
    }

    @Test("a line that is no command is none; a stop without its numbers takes 5 s and SIGTERM")
    func otherLines() {
        for line in ["", "hello", "signal", "signal x", "acknowledge"] {
            #expect(MirrorCommand(line: line) == nil, "\(line)")
        }
        #expect(MirrorCommand(line: "stop") == .stop(grace: 5, signal: 15))
        #expect(MirrorCommand(line: "stop nan x") == .stop(grace: 5, signal: 15))
        #expect(MirrorCommand(line: "stop 2") == .stop(grace: 2, signal: 15))
    }
}
