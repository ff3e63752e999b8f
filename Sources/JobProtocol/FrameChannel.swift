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

import CJobSupport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// A failure to talk to the other side: the connection broke or a frame was malformed.
package struct ChannelError: Error, CustomStringConvertible {
    package var description: String
    /// The other side sent nothing within the socket's receive timeout.
    package var timedOut = false
    /// The other side closed before it read what was sent (a reset before any byte of a
    /// reply, or a send it refused): the request was not taken, and may be sent again.
    package var notTaken = false
    package init(_ description: String) { self.description = description }
}

/// Length-prefixed frames over a blocking stream socket, with descriptors passed
/// alongside (SCM_RIGHTS). The same framing serves both sides.
package final class FrameChannel {
    /// The largest frame either side accepts; larger ones are refused and the link closed.
    package static let maximumFrame = 64 << 20

    /// The largest frame the agent accepts from a client: a request holds a command and an
    /// environment, never bulk data.
    package static let maximumRequest = 4 << 20

    package let fd: Int32
    /// The largest frame this side reads.
    package let limit: Int
    private var closed = false
    /// The receive timeout set by `setReceiveTimeout`, in milliseconds (-1: none).
    private var receiveMilliseconds: Int32 = -1

    /// `owned` false: the descriptor is the caller's to close (the agent's connection threads
    /// close theirs), and `close()` and the end of the channel leave it open.
    package init(fd: Int32, limit: Int = FrameChannel.maximumFrame, owned: Bool = true) {
        self.fd = fd
        self.limit = limit
        self.closed = !owned
    }

    /// How long a read waits for the other side before it fails as timed out (nil: forever).
    package func setReceiveTimeout(_ seconds: Double?) {
        var value = timeval()
        if let seconds, seconds.isFinite, seconds > 0 {
            let clamped = min(seconds, 1e6)
            value.tv_sec = Int(clamped)
            value.tv_usec = Int((clamped - clamped.rounded(.down)) * 1e6)
        }
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        receiveMilliseconds =
            value.tv_sec == 0 && value.tv_usec == 0
            ? -1 : Int32(clamping: value.tv_sec * 1000 + (value.tv_usec + 999) / 1000)
    }

    deinit { close() }

    package func close() {
        if !closed {
            closed = true
            _ = Glibc.close(fd)
        }
    }

    /// Sends one frame, whose body `build` writes, with `fds` alongside.
    package func send(fds: [Int32] = [], _ build: (inout WireEncoder) -> Void) throws {
        try sendFrame(Self.frame(build), fds: fds)
    }

    /// A whole frame as `send` writes it: its length, then the body `build` writes.
    package static func frame(_ build: (inout WireEncoder) -> Void) throws -> [UInt8] {
        // The length goes in front of the body, in space the encoder keeps for it.
        var encoder = WireEncoder(reserving: 4)
        build(&encoder)
        var frame = encoder.take()
        let count = frame.count - 4
        guard count <= Self.maximumFrame else {
            throw ChannelError("the message is \(count) bytes, over the limit of \(Self.maximumFrame)")
        }
        let length = UInt32(count)
        frame[0] = UInt8(length >> 24)
        frame[1] = UInt8(length >> 16 & 0xFF)
        frame[2] = UInt8(length >> 8 & 0xFF)
        frame[3] = UInt8(length & 0xFF)
        return frame
    }

    /// Writes bytes made by `frame` (or what is left of them), with `fds` on the first write.
    package func sendFrame(_ frame: [UInt8], fds: [Int32] = []) throws {
        var sent = 0
        var pending = fds
        while sent < frame.count {
            let n = frame.withUnsafeBytes { raw in
                cjob_send_with_fds(fd, raw.baseAddress! + sent, raw.count - sent, pending, Int32(pending.count))
            }
            if n < 0 {
                let code = errno
                var error = ChannelError("could not send: \(String(cString: strerror(code)))")
                error.notTaken = code == EPIPE || code == ECONNRESET
                throw error
            }
            pending = []
            sent += n
        }
    }

    /// Reads one frame's body and the descriptors that came with it; nil at a clean end of
    /// stream before any byte of it.
    package func receive() throws -> (body: [UInt8], fds: [Int32])? {
        var fds: [Int32] = []
        var header = [UInt8](repeating: 0, count: 4)
        guard try readExactly(&header, fds: &fds, allowEOF: true) else { return nil }
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        guard length <= limit else {
            fds.forEach { _ = Glibc.close($0) }
            throw ChannelError("a frame of \(length) bytes is over the limit of \(limit)")
        }
        // Memory follows the bytes that arrive, not the length announced: a peer that announces
        // a large frame and sends nothing costs little. The buffer doubles as they come, from
        // a quarter of a megabyte, and is read into directly.
        var body = [UInt8](repeating: 0, count: min(length, 1 << 18))
        var got = 0
        do {
            while got < length {
                if got == body.count { body = Self.grown(body, to: min(length, 2 * body.count)) }
                let n = try readSome(into: &body, at: got, fds: &fds)
                if n == 0 { throw ChannelError("the connection closed in the middle of a message") }
                got += n
            }
        } catch var error as ChannelError {
            fds.forEach { _ = Glibc.close($0) }
            // Part of a reply came: the request was taken.
            error.notTaken = false
            throw error
        }
        return (body, fds)
    }

    /// `buffer` copied into a larger one, the rest zero (appending the zeros one by one had
    /// been a tenth of reading a large reply).
    private static func grown(_ buffer: [UInt8], to count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { larger, initialized in
            buffer.withUnsafeBytes { old in UnsafeMutableRawBufferPointer(larger).copyMemory(from: old) }
            (larger.baseAddress! + buffer.count).initialize(repeating: 0, count: count - buffer.count)
            initialized = count
        }
    }

    /// Reads what has arrived, at most to the end of `buffer`, into it from `offset`: at least
    /// one byte, or 0 at the end of the stream.
    private func readSome(into buffer: inout [UInt8], at offset: Int, fds: inout [Int32]) throws -> Int {
        while true {
            // Waited for with poll, which only data wakes: a read that sleeps on a stream
            // socket is woken by every message of its own the peer takes in, and sleeps again
            // (a context switch each way, a request's worth on both sides).
            var wait = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&wait, 1, receiveMilliseconds)
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 {
                var error = ChannelError("no answer within the receive timeout")
                error.timedOut = true
                throw error
            }
            var received = [Int32](repeating: -1, count: 16)
            var count: Int32 = 0
            let n = buffer.withUnsafeMutableBytes { raw in
                cjob_recv_with_fds(fd, raw.baseAddress! + offset, raw.count - offset, &received, 16, &count)
            }
            fds.append(contentsOf: received.prefix(Int(count)))
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                var error = ChannelError("no answer within the receive timeout")
                error.timedOut = true
                throw error
            }
            if n < 0 {
                let code = errno
                var error = ChannelError("could not read: \(String(cString: strerror(code)))")
                // On a Unix socket a reset means the other side closed with what was sent to it
                // unread (a peer that read it and ended gives an end of stream instead).
                error.notTaken = code == ECONNRESET
                throw error
            }
            return n
        }
    }

    private func readExactly(_ buffer: inout [UInt8], fds: inout [Int32], allowEOF: Bool) throws -> Bool {
        var got = 0
        while got < buffer.count {
            let n: Int
            do {
                n = try readSome(into: &buffer, at: got, fds: &fds)
            } catch var error as ChannelError {
                // Only a reset before any byte of the reply says the request was not taken.
                error.notTaken = error.notTaken && got == 0 && allowEOF
                throw error
            }
            if n == 0 {
                if got == 0 && allowEOF { return false }
                throw ChannelError("the connection closed in the middle of a message")
            }
            got += n
        }
        return true
    }

}
