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

/// The stream a durable remote child comes back in: `job __attach` on the computer writes it
/// to stdout, and the local agent reads it from ssh. Each frame is a kind byte, a 4-byte
/// big-endian length and that many bytes: output (stdout or stderr, from the read positions
/// the local agent asked for), the remote job's status (a `StreamGrant`'s fields) when it
/// changes, a heartbeat when nothing else was sent for a while (so a reader that went away is
/// noticed by a failing write), and last its end.
package enum MirrorFrame {
    package static let output = UInt8(ascii: "O")
    package static let error = UInt8(ascii: "E")
    package static let status = UInt8(ascii: "S")
    package static let end = UInt8(ascii: "F")
    package static let heartbeat = UInt8(ascii: "H")
    /// The remote side could not go on (its agent did not answer): the text says why, and
    /// the local side tries again later.
    package static let problem = UInt8(ascii: "X")

    /// Seconds between heartbeats.
    package static let heartbeatSeconds = 5.0
    /// The largest frame a reader takes; a longer one means the stream is not ours.
    package static let largest = 1 << 24

    /// A frame's first five bytes.
    package static func header(_ kind: UInt8, length: Int) -> [UInt8] {
        let size = UInt32(length)
        return [kind, UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)]
    }

    /// The kind and length of a header.
    package static func parse(_ header: ArraySlice<UInt8>) -> (kind: UInt8, length: Int)? {
        guard header.count >= 5 else { return nil }
        let start = header.startIndex
        let length =
            Int(header[start + 1]) << 24 | Int(header[start + 2]) << 16 | Int(header[start + 3]) << 8
            | Int(header[start + 4])
        guard [output, error, status, end, heartbeat, problem].contains(header[start]), length <= largest else {
            return nil
        }
        return (header[start], length)
    }
}

/// What the local side tells the `job __attach` that mirrors a durable child on its computer:
/// one line each on that side's stdin. Both ends use this type, so the words are written and
/// read in one place (`MirrorCommandTests` round-trips each).
package enum MirrorCommand: Equatable, Sendable {
    /// The child's end is stored here: the other side may remove its job (`ack`).
    case acknowledge
    /// Stop the job there, with this grace and first signal (`stop GRACE SIGNAL`).
    case stop(grace: Double, signal: Int)
    /// Send this signal to the job there (`signal N`); SIGSTOP and SIGCONT suspend and resume.
    case signal(Int)

    /// The line, without its newline.
    package var line: String {
        switch self {
        case .acknowledge: "ack"
        case .stop(let grace, let signal): "stop \(grace) \(signal)"
        case .signal(let number): "signal \(number)"
        }
    }

    /// The command a line says; nil for a line that is none (ignored, as an older or newer
    /// peer's command this side does not know). A stop whose numbers are missing takes the
    /// defaults: a grace of 5 s and SIGTERM.
    package init?(line: some StringProtocol) {
        let words = line.split(separator: " ")
        switch words.first {
        case "ack": self = .acknowledge
        case "stop":
            let grace = words.count > 1 ? Double(words[1]).flatMap { $0.isFinite ? $0 : nil } ?? 5 : 5
            let number = words.count > 2 ? Int(words[2]) ?? 15 : 15
            self = .stop(grace: grace, signal: number)
        case "signal":
            guard words.count > 1, let number = Int(words[1]) else { return nil }
            self = .signal(number)
        default: return nil
        }
    }
}
