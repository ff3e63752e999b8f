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
import JobCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// How received bytes are written.
package enum OutputStyle: Sendable, Equatable {
    /// Byte-exact.
    case raw
    /// Each line starts with `NAME: ` (the pdsh convention).
    case prefixed(String)
    /// One JSON object per piece: `id`, `computer`, `stream`, and `data` or `dataBase64`.
    case json(id: Int, computer: String, stream: String)
}

/// Copies a stored output file from a read position to a descriptor, counting only what the
/// descriptor accepted: when the reader goes away, the returned position is where the next
/// receive continues.
package enum OutputPump {
    package struct Result: Sendable {
        /// The new read position.
        package var position: Int64
        /// The writer refused more (EPIPE), or the reader was interrupted: stop receiving.
        package var readerGone: Bool
    }

    /// Copies `path` from `offset` to its current end. `final` says the job has finished, so
    /// a last line without a newline is written too (in prefixed and JSON styles it is
    /// otherwise held back until its newline arrives).
    /// With `end`, copies no further than there (the part the agent claimed for this reader).
    package static func copy(
        path: String, from offset: Int64, to out: Int32, style: OutputStyle, final: Bool, end: Int64? = nil
    ) -> Result {
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { return Result(position: offset, readerGone: false) }
        defer { close(input) }
        var info = stat()
        let size = fstat(input, &info) == 0 ? Int64(info.st_size) : 0
        let limit = min(size, end ?? .max)
        if style == .raw {
            return copyRaw(input, from: offset, upTo: limit, to: out)
        }
        var position = offset
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var carry: [UInt8] = []
        while true {
            let wanted = max(0, min(Int64(buffer.count), limit - position - Int64(carry.count)))
            let n =
                wanted == 0
                ? 0
                : buffer.withUnsafeMutableBytes {
                    pread(input, $0.baseAddress, Int(wanted), off_t(position) + off_t(carry.count))
                }
            if n < 0 && errno == EINTR { continue }
            let atEnd = n <= 0 || position + Int64(carry.count) + Int64(n) >= limit
            var data = carry
            if n > 0 { data += buffer[..<n] }
            carry = []
            // Write whole lines; keep a trailing partial line for the next read.
            let lastNewline = data.lastIndex(of: 10)
            var end: Int
            if atEnd {
                end = final ? data.count : lastNewline.map { $0 + 1 } ?? 0
            } else if let lastNewline {
                end = lastNewline + 1
            } else if data.count < 1 << 20 {
                carry = data
                continue
            } else {
                end = data.count
            }
            if end == 0 && atEnd { return Result(position: position, readerGone: false) }
            let complete = data[..<end]
            carry = Array(data[end...])
            var text = render(complete, style: style)
            if FileWriter.writeAll(out, &text[...]) < text.count {
                return Result(position: position, readerGone: true)
            }
            position += Int64(complete.count)
            if atEnd { return Result(position: position, readerGone: false) }
        }
    }

    static func render(_ bytes: ArraySlice<UInt8>, style: OutputStyle) -> [UInt8] {
        switch style {
        case .raw:
            return Array(bytes)
        case .prefixed(let name):
            let prefix = Array((name + ": ").utf8)
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + prefix.count * 8)
            var atLineStart = true
            for byte in bytes {
                if atLineStart { out += prefix }
                out.append(byte)
                atLineStart = byte == 10
            }
            if !atLineStart { out.append(10) }
            return out
        case .json(let id, let computer, let stream):
            let data: String
            if let text = String(validating: bytes, as: UTF8.self) {
                data = "\"data\":" + JSONText.string(text)
            } else {
                data = "\"dataBase64\":\"" + Data(bytes).base64EncodedString() + "\""
            }
            let line = "{\"id\":\(id),\"computer\":\(JSONText.string(computer)),\"stream\":\"\(stream)\",\(data)}\n"
            return Array(line.utf8)
        }
    }

    /// A file's bytes from `offset` to `end` (or to its end), and where they stop.
    package static func read(path: String, from offset: Int64, end: Int64? = nil) -> (bytes: [UInt8], position: Int64) {
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { return ([], offset) }
        defer { close(input) }
        var info = stat()
        let limit = min(fstat(input, &info) == 0 ? Int64(info.st_size) : 0, end ?? .max)
        var bytes: [UInt8] = []
        var position = offset
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while position < limit {
            let wanted = Int(min(Int64(buffer.count), limit - position))
            let count = buffer.withUnsafeMutableBytes { pread(input, $0.baseAddress, wanted, off_t(position)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += buffer[..<count]
            position += Int64(count)
        }
        return (bytes, position)
    }

    /// The offset where the last `count` lines of a file begin (a last line without a newline
    /// counts as one); 0 when it has fewer, or cannot be read.
    package static func startOfLastLines(_ count: Int, path: String) -> Int64 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else { return 0 }
        guard count > 0 else { return Int64(info.st_size) }
        var end = Int64(info.st_size)
        var newlines = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        // The newline that ends the last line does not begin one.
        var skipFinal = true
        while end > 0 {
            let start = max(0, end - Int64(buffer.count))
            let length = Int(end - start)
            let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, off_t(start)) }
            guard got == length else { return 0 }
            for index in stride(from: length - 1, through: 0, by: -1) where buffer[index] == UInt8(ascii: "\n") {
                if skipFinal && start + Int64(index) == Int64(info.st_size) - 1 {
                    skipFinal = false
                    continue
                }
                newlines += 1
                if newlines == count { return start + Int64(index) + 1 }
            }
            skipFinal = false
            end = start
        }
        return 0
    }

    private static func copyRaw(_ input: Int32, from offset: Int64, upTo limit: Int64, to out: Int32) -> Result {
        var position = off_t(offset)
        while position < limit {
            // An interrupt the reader caught ends the copy where the descriptor took it.
            if cjob_interrupt_signal() != 0 { return Result(position: Int64(position), readerGone: true) }
            let n = cjob_sendfile(out, input, &position, Int(min(1 << 30, limit - Int64(position))))
            if n > 0 { continue }
            if n < 0 && errno == EINTR { continue }
            if n == 0 { return Result(position: Int64(position), readerGone: false) }
            if errno == EPIPE { return Result(position: Int64(position), readerGone: true) }
            break
        }
        // sendfile does not take every kind of output (an O_APPEND file): copy by hand.
        var buffer = [UInt8](repeating: 0, count: 1 << 17)
        while position < limit {
            let wanted = Int(min(Int64(buffer.count), limit - Int64(position)))
            let n = buffer.withUnsafeMutableBytes { pread(input, $0.baseAddress, wanted, position) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            var slice = buffer[..<n]
            let written = FileWriter.writeAll(out, &slice)
            position += off_t(written)
            if written < n { return Result(position: Int64(position), readerGone: true) }
        }
        return Result(position: Int64(position), readerGone: false)
    }
}
