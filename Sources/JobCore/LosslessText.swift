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

#if canImport(Glibc)
    import Glibc
#endif

/// Bytes that need not be UTF-8 (arguments, environment entries, file names) carried in a
/// Swift `String` without loss.
///
/// Valid UTF-8 becomes its characters. Each byte that is not part of valid UTF-8 becomes one
/// scalar of a private-use range, U+10FE00 + the byte, and so does each byte of a character
/// that is itself in that range (so that one is not mistaken for an escape). `encode` turns
/// the scalars of the range back into their bytes, so `encode(decode(b)) == b` for all bytes.
/// Where text is only shown (a table), the escapes may show as unknown characters.
package enum LosslessText {
    static let base: UInt32 = 0x10FE00

    /// The text of `bytes`, lossless.
    package static func decode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let array = Array(bytes)
        // The common case: valid UTF-8 with nothing of the escape range (whose scalars all
        // start with F4 8F B8..BB).
        if !array.contains(0xF4), let text = String(validating: array, as: UTF8.self) { return text }
        var scalars = String.UnicodeScalarView()
        var index = 0
        while index < array.count {
            if let (scalar, length) = scalar(in: array, at: index), !isEscape(scalar.value) {
                scalars.append(scalar)
                index += length
            } else {
                scalars.append(Unicode.Scalar(base + UInt32(array[index]))!)
                index += 1
            }
        }
        return String(scalars)
    }

    /// The bytes `decode` made `text` from.
    package static func encode(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        append(text, to: &bytes)
        return bytes
    }

    /// Appends the bytes `decode` made `text` from.
    package static func append(_ text: String, to bytes: inout [UInt8]) {
        // The common case, looked at with memchr: a generic search of the string's bytes cost
        // a start's launch more than the rest of its encoding.
        let plain =
            text.utf8.withContiguousStorageIfAvailable { buffer in
                buffer.isEmpty || memchr(buffer.baseAddress!, 0xF4, buffer.count) == nil
            } ?? !text.utf8.contains(0xF4)
        if plain {
            bytes.append(contentsOf: text.utf8)
            return
        }
        bytes.reserveCapacity(bytes.count + text.utf8.count)
        for scalar in text.unicodeScalars {
            if isEscape(scalar.value) {
                bytes.append(UInt8(scalar.value - base))
            } else {
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
    }

    /// `text` as it is shown to a person: each byte that was not UTF-8 as U+FFFD.
    package static func shown(_ text: String) -> String {
        guard text.utf8.contains(0xF4) else { return text }
        return String(
            String.UnicodeScalarView(text.unicodeScalars.map { isEscape($0.value) ? "\u{FFFD}" : $0 }))
    }

    static func isEscape(_ value: UInt32) -> Bool { value >= base && value <= base + 0xFF }

    /// The valid UTF-8 scalar starting at `index`, with its length in bytes.
    static func scalar(in bytes: [UInt8], at index: Int) -> (Unicode.Scalar, Int)? {
        let lead = bytes[index]
        let length: Int
        var value: UInt32
        switch lead {
        case 0x00...0x7F: return (Unicode.Scalar(lead), 1)
        case 0xC2...0xDF: (length, value) = (2, UInt32(lead & 0x1F))
        case 0xE0...0xEF: (length, value) = (3, UInt32(lead & 0x0F))
        case 0xF0...0xF4: (length, value) = (4, UInt32(lead & 0x07))
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            guard byte & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8.
        let smallest: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
        guard value >= smallest, let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }
}
