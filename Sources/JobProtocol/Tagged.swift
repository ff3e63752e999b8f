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

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The protocol's encoding: every field of a message is written with its tag, so that a
/// reader of another version skips the fields it does not know and defaults the ones it does
/// not find. The layout is protobuf's: a key `tag << 3 | kind` as a varint, then the value:
///
/// - kind 0, a varint: integers (zigzag), booleans, unsigned counters;
/// - kind 1, eight bytes little-endian: numbers (`Double`, dates as seconds since 1970);
/// - kind 2, a varint length then that many bytes: text, a nested message, or an array, whose
///   elements follow one another in the form each has on its own (a text or a message with its
///   length in front).
///
/// A message's fields are written in increasing tag order, and a reader looks for them in that
/// order; an absent optional value is no field at all. Each message declares its fields once, in
/// `fields(_:)`, which serves both directions.
package protocol TaggedMessage: FieldValue, Equatable {
    /// The message with every field at its default, which decoding starts from.
    init()
    /// Visits each field, in increasing tag order, with the coder that writes or reads it.
    mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure)
}

/// A value that can be a field: how it is written and read in its own form.
package protocol FieldValue: Sendable {
    static var kind: FieldKind { get }
    func encode(into encoder: inout WireEncoder)
    static func decode(from decoder: inout WireDecoder) throws(Malformed) -> Self
}

package enum FieldKind: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case bytes = 2
}

/// What `fields(_:)` is given: the encoder, which writes the values it is handed, or the
/// decoder, which overwrites them with what it finds.
package protocol FieldCoder {
    associatedtype Failure: Error
    mutating func value<T: FieldValue>(_ tag: Int, _ value: inout T) throws(Failure)
    mutating func optional<T: FieldValue>(_ tag: Int, _ value: inout T?) throws(Failure)
    mutating func array<T: FieldValue>(_ tag: Int, _ values: inout [T]) throws(Failure)
}

/// A frame or a field that cannot be read; says what was wrong where it can.
package struct Malformed: Error, CustomStringConvertible, Equatable {
    package var description: String
    package init(_ description: String = "a malformed message") { self.description = description }
}

// MARK: - Writing

package struct WireEncoder: FieldCoder {
    package typealias Failure = Never
    package private(set) var bytes: [UInt8]

    package init() {
        bytes = []
        bytes.reserveCapacity(256)
    }

    /// Starts with `count` zero bytes, for a header written in place later.
    package init(reserving count: Int) {
        bytes = [UInt8](repeating: 0, count: count)
        bytes.reserveCapacity(256)
    }

    package mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    package mutating func fixed64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    package mutating func raw<S: Sequence<UInt8>>(_ content: S) { bytes.append(contentsOf: content) }

    /// Makes room for `count` more bytes at once (a large message then grows its buffer once).
    package mutating func reserve(_ count: Int) { bytes.reserveCapacity(bytes.count + count) }

    /// Empties the encoder and keeps its buffer, for an encoder used again and again.
    package mutating func clear() { bytes.removeAll(keepingCapacity: true) }

    /// A copy of the bytes written in a buffer of their size (`bytes` has room to grow).
    package var exactBytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, count in
            count = buffer.initialize(fromContentsOf: bytes)
        }
    }

    /// The bytes written, leaving the encoder empty (so that the caller holds the only copy).
    package mutating func take() -> [UInt8] {
        var taken: [UInt8] = []
        swap(&taken, &bytes)
        return taken
    }

    mutating func key(_ tag: Int, _ kind: FieldKind) { varint(UInt64(tag) << 3 | UInt64(kind.rawValue)) }

    /// Writes what `body` writes with its length in front. The length takes four bytes (a
    /// varint padded with continuation bits) so that it can be filled in afterwards without
    /// moving the body; frames are far below the 256 MB four bytes can say.
    package mutating func lengthPrefixed(_ body: (inout WireEncoder) -> Void) {
        let start = bytes.count
        bytes.append(contentsOf: [0x80, 0x80, 0x80, 0x00])
        body(&self)
        let length = bytes.count - start - 4
        bytes[start] = UInt8(length & 0x7F) | 0x80
        bytes[start + 1] = UInt8(length >> 7 & 0x7F) | 0x80
        bytes[start + 2] = UInt8(length >> 14 & 0x7F) | 0x80
        bytes[start + 3] = UInt8(length >> 21 & 0x7F)
    }

    package mutating func value<T: FieldValue>(_ tag: Int, _ value: inout T) {
        key(tag, T.kind)
        value.encode(into: &self)
    }

    package mutating func optional<T: FieldValue>(_ tag: Int, _ value: inout T?) {
        guard let present = value else { return }
        key(tag, T.kind)
        present.encode(into: &self)
    }

    package mutating func array<T: FieldValue>(_ tag: Int, _ values: inout [T]) {
        guard !values.isEmpty else { return }
        key(tag, .bytes)
        lengthPrefixed { encoder in
            for element in values { element.encode(into: &encoder) }
        }
    }
}

// MARK: - Reading

/// Reads what `WireEncoder` wrote, within bounds it checks at every step: a malformed frame
/// is an error, never a crash.
package struct WireDecoder: FieldCoder {
    package typealias Failure = Malformed
    let bytes: [UInt8]
    var position: Int
    /// Where the message being read ends.
    var end: Int

    package init(_ bytes: [UInt8]) {
        self.bytes = bytes
        position = 0
        end = bytes.count
    }

    package var isAtEnd: Bool { position >= end }

    package mutating func varint() throws(Malformed) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while position < end {
            let byte = bytes[position]
            position += 1
            guard shift < 64 else { throw Malformed("a number longer than 64 bits") }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        throw Malformed("a message cut short")
    }

    package mutating func fixed64() throws(Malformed) -> UInt64 {
        guard end - position >= 8 else { throw Malformed("a message cut short") }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[position + index]) << (8 * UInt64(index)) }
        position += 8
        return value
    }

    /// The bounds of a length-prefixed value, which is then passed over.
    package mutating func lengthPrefixed() throws(Malformed) -> Range<Int> {
        let length = try varint()
        guard length <= UInt64(end - position) else { throw Malformed("a length past the end of its message") }
        let range = position..<position + Int(length)
        position = range.upperBound
        return range
    }

    package func slice(_ range: Range<Int>) -> ArraySlice<UInt8> { bytes[range] }

    /// Reads a nested message's fields within `range`, then goes on after it.
    mutating func within<T>(_ range: Range<Int>, _ body: (inout WireDecoder) throws(Malformed) -> T) throws(Malformed)
        -> T
    {
        let (outerPosition, outerEnd) = (position, end)
        (position, end) = (range.lowerBound, range.upperBound)
        let value = try body(&self)
        (position, end) = (outerPosition, outerEnd)
        return value
    }

    /// Moves to the field with `tag`, passing over fields of smaller tags (from a newer
    /// writer); false when there is none (a field from an older writer, or an absent optional).
    mutating func seek(_ tag: Int, _ kind: FieldKind) throws(Malformed) -> Bool {
        while position < end {
            let start = position
            let key = try varint()
            let found = Int(clamping: key >> 3)
            guard let foundKind = FieldKind(rawValue: UInt8(key & 7)) else {
                throw Malformed("field \(found) has an unknown kind \(key & 7)")
            }
            if found == tag {
                guard foundKind == kind else { throw Malformed("field \(tag) is of kind \(foundKind), not \(kind)") }
                return true
            }
            if found > tag {
                position = start
                return false
            }
            try skip(foundKind)
        }
        return false
    }

    mutating func skip(_ kind: FieldKind) throws(Malformed) {
        switch kind {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .bytes: _ = try lengthPrefixed()
        }
    }

    package mutating func value<T: FieldValue>(_ tag: Int, _ value: inout T) throws(Malformed) {
        if try seek(tag, T.kind) { value = try T.decode(from: &self) }
    }

    /// How many elements of `kind` follow to the end of the message, counted by passing over
    /// them, so that an array is allocated once.
    func countElements(_ kind: FieldKind) throws(Malformed) -> Int {
        switch kind {
        case .fixed64: return (end - position) / 8
        case .varint: return bytes[position..<end].reduce(0) { $0 + ($1 < 0x80 ? 1 : 0) }
        case .bytes:
            var scout = self
            var count = 0
            while !scout.isAtEnd {
                _ = try scout.lengthPrefixed()
                count += 1
            }
            return count
        }
    }

    package mutating func optional<T: FieldValue>(_ tag: Int, _ value: inout T?) throws(Malformed) {
        if try seek(tag, T.kind) { value = try T.decode(from: &self) }
    }

    package mutating func array<T: FieldValue>(_ tag: Int, _ values: inout [T]) throws(Malformed) {
        guard try seek(tag, .bytes) else { return }
        let range = try lengthPrefixed()
        values = try within(range) { decoder throws(Malformed) in
            var elements: [T] = []
            elements.reserveCapacity(try decoder.countElements(T.kind))
            while !decoder.isAtEnd { elements.append(try T.decode(from: &decoder)) }
            return elements
        }
    }
}

// MARK: - Messages

extension TaggedMessage {
    package static var kind: FieldKind { .bytes }

    package func encode(into encoder: inout WireEncoder) {
        var copy = self
        encoder.lengthPrefixed { copy.fields(&$0) }
    }

    package static func decode(from decoder: inout WireDecoder) throws(Malformed) -> Self {
        let range = try decoder.lengthPrefixed()
        return try decoder.within(range) { decoder throws(Malformed) in try Self(fieldsFrom: &decoder) }
    }

    /// Reads the fields from the decoder's position to the end of its message.
    init(fieldsFrom decoder: inout WireDecoder) throws(Malformed) {
        self.init()
        try fields(&decoder)
    }

    /// The message's fields with no length in front: the body of a frame.
    package func encodedFields() -> [UInt8] {
        var copy = self
        var encoder = WireEncoder()
        copy.fields(&encoder)
        return encoder.bytes
    }

    package init(decodingFields bytes: [UInt8]) throws(Malformed) {
        var decoder = WireDecoder(bytes)
        try self.init(fieldsFrom: &decoder)
    }
}

// MARK: - Scalars

/// Integers are zigzag varints: small negative numbers stay short.
extension Int: FieldValue {
    package static var kind: FieldKind { .varint }
    package func encode(into encoder: inout WireEncoder) {
        let value = Int64(self)
        encoder.varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }
    package static func decode(from decoder: inout WireDecoder) throws(Malformed) -> Int {
        let raw = try decoder.varint()
        return Int(Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1))))
    }
}

extension Int64: FieldValue {
    package static var kind: FieldKind { .varint }
    package func encode(into encoder: inout WireEncoder) { Int(self).encode(into: &encoder) }
    package static func decode(from decoder: inout WireDecoder) throws(Malformed) -> Int64 {
        Int64(try Int.decode(from: &decoder))
    }
}

extension UInt64: FieldValue {
    package static var kind: FieldKind { .varint }
    package func encode(into encoder: inout WireEncoder) { encoder.varint(self) }
    package static func decode(from decoder: inout WireDecoder) throws(Malformed) -> UInt64 { try decoder.varint() }
}

extension Bool: FieldValue {
    package static var kind: FieldKind { .varint }
    package func encode(into encoder: inout WireEncoder) { encoder.varint(self ? 1 : 0) }
    package static func decode(from decoder: inout WireDecoder) throws(Malformed) -> Bool { try decoder.varint() != 0 }
}

/// No field of the protocol holds NaN, an infinity or a number beyond 1e11 (every one is
/// seconds or a time, and 1e11 s is over 3,000 years), so they are refused here, before any
/// handler does arithmetic with them: a thousand times any value still fits an `Int`.
extension Double: FieldValue {
    package static var kind: FieldKind { .fixed64 }
    package func encode(into encoder: inout WireEncoder) { encoder.fixed64(bitPattern) }
    package static func decode(from decoder: inout WireDecoder) throws(Malformed) -> Double {
        let value = Double(bitPattern: try decoder.fixed64())
        guard value.isFinite else { throw Malformed("a number that is not finite") }
        guard abs(value) <= 1e11 else { throw Malformed("a number out of range (\(value))") }
        return value
    }
}

extension Date: FieldValue {
    package static var kind: FieldKind { .fixed64 }
    package func encode(into encoder: inout WireEncoder) { timeIntervalSince1970.encode(into: &encoder) }
    package static func decode(from decoder: inout WireDecoder) throws(Malformed) -> Date {
        Date(timeIntervalSince1970: try Double.decode(from: &decoder))
    }
}

extension String: FieldValue {
    package static var kind: FieldKind { .bytes }
    package func encode(into encoder: inout WireEncoder) {
        var text = self
        text.withUTF8 { utf8 in
            encoder.varint(UInt64(utf8.count))
            encoder.raw(utf8)
        }
    }
    package static func decode(from decoder: inout WireDecoder) throws(Malformed) -> String {
        String(decoding: decoder.slice(try decoder.lengthPrefixed()), as: UTF8.self)
    }
}

/// An enumeration travels as its name, so that a value the reader lacks is named in the error.
package protocol NamedFieldValue: FieldValue, RawRepresentable where RawValue == String {}

extension NamedFieldValue {
    package static var kind: FieldKind { .bytes }
    package func encode(into encoder: inout WireEncoder) { rawValue.encode(into: &encoder) }
    package static func decode(from decoder: inout WireDecoder) throws(Malformed) -> Self {
        let name = try String.decode(from: &decoder)
        guard let value = Self(rawValue: name) else { throw Malformed("an unknown \(Self.self) '\(name)'") }
        return value
    }
}
