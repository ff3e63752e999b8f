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
        var request = Request(op: .start)
        request.start = StartRequest(
            command: "echo 'a\u{0}b' ü", name: nil, workingDirectory: "/", environment: ["A=1"], shell: "/bin/sh",
            hasInput: true)
        let devNull = open("/dev/null", O_RDONLY)
        try a.send(request, fds: [devNull])
        let (received, fds) = try #require(try b.receive(Request.self))
        #expect(received.op == .start)
        #expect(received.start?.command == "echo 'a\u{0}b' ü")
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
        #expect(try b.receive(Request.self) == nil)
        let (c, d) = pair()
        _ = write(c.fd, [0, 0, 0, 9, 1], 5)
        c.close()
        #expect(throws: ChannelError.self) { try d.receive(Request.self) }
    }

    @Test("an oversized or malformed frame is refused")
    func malformed() throws {
        let (a, b) = pair()
        _ = write(a.fd, [0xFF, 0xFF, 0xFF, 0xFF], 4)
        #expect(throws: ChannelError.self) { try b.receive(Request.self) }
        let (c, d) = pair()
        let junk = Array("{not".utf8)
        _ = write(c.fd, [0, 0, 0, UInt8(junk.count)] + junk, junk.count + 4)
        #expect(throws: ChannelError.self) { try d.receive(Request.self) }
        // The right version, then an operation that does not exist.
        var writer = WireWriter()
        writer.int(ProtocolVersion.current)
        writer.string("format-disk")
        let (e, f) = pair()
        let body = writer.bytes
        _ = write(e.fd, [0, 0, 0, UInt8(body.count)] + body, body.count + 4)
        #expect(throws: ChannelError.self) { try f.receive(Request.self) }
    }
}
