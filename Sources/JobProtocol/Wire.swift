import JobCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The protocol's binary encoding: little-endian integers, length-prefixed UTF-8 strings,
/// a presence byte before optional values and a count before arrays. Written by hand
/// because Codable with JSON cost more than the rest of a `job get` of 10,000 jobs.
public struct WireWriter {
    public private(set) var bytes: [UInt8] = []

    public init() { bytes.reserveCapacity(256) }

    /// Starts with `count` zero bytes, for a header written in place later.
    public init(reserving count: Int) {
        bytes = [UInt8](repeating: 0, count: count)
        bytes.reserveCapacity(256)
    }

    public mutating func int(_ value: Int) {
        withUnsafeBytes(of: Int64(value).littleEndian) { bytes.append(contentsOf: $0) }
    }
    public mutating func uint64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
    public mutating func double(_ value: Double) { uint64(value.bitPattern) }
    public mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }
    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            int(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }
    public mutating func date(_ value: Date) { double(value.timeIntervalSince1970) }
    public mutating func optional<T>(_ value: T?, _ write: (inout WireWriter, T) -> Void) {
        if let value {
            bytes.append(1)
            write(&self, value)
        } else {
            bytes.append(0)
        }
    }
    public mutating func array<T>(_ values: [T], _ write: (inout WireWriter, T) -> Void) {
        int(values.count)
        for value in values { write(&self, value) }
    }
    public mutating func strings(_ values: [String]) { array(values) { $0.string($1) } }
}

/// Reads what `WireWriter` wrote; every read checks the bounds, so a malformed frame is an
/// error, never a crash.
public struct WireReader {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public struct Malformed: Error, CustomStringConvertible {
        public var description: String { "a malformed message" }
    }

    private mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - offset else { throw Malformed() }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    public mutating func uint64() throws -> UInt64 {
        let slice = try take(8)
        var value: UInt64 = 0
        for (shift, byte) in slice.enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
        return value
    }
    public mutating func int() throws -> Int { Int(Int64(bitPattern: try uint64())) }
    /// A finite number: no field of the protocol holds NaN or an infinity, so they are
    /// refused here, before any handler does arithmetic with them.
    public mutating func double() throws -> Double {
        let value = Double(bitPattern: try uint64())
        guard value.isFinite else { throw Malformed() }
        return value
    }
    public mutating func bool() throws -> Bool { try take(1).first! != 0 }
    public mutating func string() throws -> String {
        let count = try int()
        return String(decoding: try take(count), as: UTF8.self)
    }
    public mutating func date() throws -> Date { Date(timeIntervalSince1970: try double()) }
    public mutating func optional<T>(_ read: (inout WireReader) throws -> T) throws -> T? {
        try bool() ? try read(&self) : nil
    }
    public mutating func array<T>(_ read: (inout WireReader) throws -> T) throws -> [T] {
        let count = try int()
        guard count >= 0, count <= bytes.count - offset else { throw Malformed() }
        var values: [T] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try read(&self)) }
        return values
    }
    public mutating func strings() throws -> [String] { try array { try $0.string() } }
    public mutating func enumeration<T: RawRepresentable>(_ type: T.Type) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: try string()) else { throw Malformed() }
        return value
    }
}

/// A message of the protocol.
public protocol WireMessage {
    func write(to writer: inout WireWriter)
    init(from reader: inout WireReader) throws
}
