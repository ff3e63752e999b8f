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
import JobCore
import JobProtocol
import Testing

@Suite("frames between client and agent")
struct FrameChannelTests {
    func pair() -> (FrameChannel, FrameChannel) {
        var fds: [Int32] = [0, 0]
        socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds)
        return (FrameChannel(fd: fds[0]), FrameChannel(fd: fds[1]))
    }

    @Test("a request round-trips with a descriptor attached")
    func roundTrip() throws {
        let (a, b) = pair()
        let request = StartRequest(
            command: "echo 'a\u{0}b' ü", workingDirectory: "/", environment: ["A=1"], hasInput: true)
        let devNull = open("/dev/null", O_RDONLY)
        try a.send(fds: [devNull]) { Frame.writeRequest(request, to: &$0) }
        let (body, fds) = try #require(try b.receive())
        var incoming = try Frame.readRequest(body)
        #expect(incoming.verb == .start)
        #expect(try incoming.request().get() == Request(request))
        #expect(fds.count == 1)
        var info = stat()
        #expect(fstat(fds[0], &info) == 0)
        fds.forEach { _ = close($0) }
        close(devNull)
    }

    @Test("end of stream before a frame is nil; in the middle of one it is an error")
    func endOfStream() throws {
        let (a, b) = pair()
        a.close()
        #expect(try b.receive() == nil)
        let (c, d) = pair()
        _ = write(c.fd, [0, 0, 0, 9, 1] as [UInt8], 5)
        c.close()
        #expect(throws: ChannelError.self) { try d.receive() }
    }

    @Test("an oversized frame is refused; a malformed body is refused when it is read")
    func malformed() throws {
        let (a, b) = pair()
        _ = write(a.fd, [0xFF, 0xFF, 0xFF, 0xFF] as [UInt8], 4)
        #expect(throws: ChannelError.self) { try b.receive() }
        let (c, d) = pair()
        let junk = Array("{not".utf8)
        _ = write(c.fd, [0, 0, 0, UInt8(junk.count)] + junk, junk.count + 4)
        let (body, _) = try #require(try d.receive())
        #expect(throws: Malformed.self) { try Frame.readRequest(body) }
    }
}
