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

/// Versions of the client–agent protocol. Since version 5 every field is tagged, so two sides
/// of different versions talk: each skips the fields it does not know and defaults the ones it
/// does not get, and a verb one side lacks is refused with a message naming both versions.
/// A field whose skipping would change what the agent does is never skipped (`Capability`).
/// Version 7: `invoke` and `sessionStart` are verbs of their own, and a request names what it
/// needs beyond its verb. Version 8: `schedulerStart` (a job a cluster scheduler runs), and a
/// job row's `schedulerJobId`.
package enum ProtocolVersion {
    package static let current = 8
    /// The oldest version this side reads: 5, the first of the tagged encoding. Version 4 and
    /// earlier encoded fields by position; their frames are recognised and answered with a
    /// message in their own encoding.
    package static let oldest = 5
    /// The product's version, shown by `job --version` and `job agent status`.
    package static let product = "0.1.0"

    static var description: String { "job \(product), protocol \(current)" }
}

/// A request refused as a whole, with a code a program can test and the words for a person.
package struct Failure: TaggedMessage, Error, CustomStringConvertible {
    /// What kind of refusal; a string on the wire, so that a code added later reaches an older
    /// client intact.
    package struct Code: FieldValue, Hashable, CustomStringConvertible {
        package var name: String
        package init(_ name: String) { self.name = name }
        /// The agent would not do it (an empty command, a job that may not be removed...).
        package static let refused = Code("refused")
        /// The frame could not be read, or lacked what its verb needs.
        package static let badRequest = Code("badRequest")
        /// The agent does not know the verb (the client is newer).
        package static let unknownVerb = Code("unknownVerb")
        /// The agent lacks a capability the request needs (the client is newer).
        package static let unsupported = Code("unsupported")
        /// The agent serves as many connections as it allows.
        package static let busy = Code("busy")

        package static var kind: FieldKind { .bytes }
        package func encode(into encoder: inout WireEncoder) { name.encode(into: &encoder) }
        package static func decode(from decoder: inout WireDecoder) throws(Malformed) -> Code {
            Code(try String.decode(from: &decoder))
        }
        package var description: String { name }
    }

    package var code = Code.refused
    package var message = ""

    package init() {}
    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }

    package mutating func fields<C: FieldCoder>(_ coder: inout C) throws(C.Failure) {
        try coder.value(1, &code)
        try coder.value(2, &message)
    }
}

/// A request as the agent reads it: the payload of its verb's request type.
package struct Request: Sendable, Equatable {
    package let payload: any AgentRequest

    package init(_ payload: some AgentRequest) { self.payload = payload }

    package var verb: Verb { type(of: payload).verb }

    /// Reads the payload of a frame whose verb is known.
    init(_ verb: Verb, _ frame: inout IncomingRequest) throws(Malformed) {
        func read<R: AgentRequest>(_ type: R.Type) throws(Malformed) -> any AgentRequest {
            let payload: R = try frame.payload()
            return payload
        }
        payload = try read(verb.requestType)
    }

    /// The same verb with the same fields: the same bytes on the wire.
    package static func == (one: Request, other: Request) -> Bool {
        func bytes(_ payload: some AgentRequest) -> [UInt8] {
            var encoder = WireEncoder()
            Frame.writeRequest(payload, to: &encoder)
            return encoder.bytes
        }
        return one.verb == other.verb && bytes(one.payload) == bytes(other.payload)
    }
}

/// The frames of the protocol. A request's body is the fields 1 (the sender's protocol
/// version), 2 (the verb's name) and 3 (the payload); a reply's the same, with the payload
/// replaced by field 4 (a `Failure`) when the request was refused as a whole.
package enum Frame {
    package static func writeRequest<R: AgentRequest>(_ payload: R, to encoder: inout WireEncoder) {
        writeReply(payload, verb: R.verb.rawValue, to: &encoder)
        // What the request needs beyond its verb, only when it needs anything: every other
        // frame is the same as before the field existed.
        var needs = payload.needs
        if !needs.isEmpty { encoder.array(5, &needs) }
    }

    /// A reply's frame, or a request's: version, verb, payload.
    package static func writeReply<R: TaggedMessage>(_ reply: R, verb: String, to encoder: inout WireEncoder) {
        writeHeader(verb: verb, to: &encoder)
        var reply = reply
        encoder.value(3, &reply)
    }

    package static func writeFailure(_ failure: Failure, verb: String, to encoder: inout WireEncoder) {
        writeHeader(verb: verb, to: &encoder)
        var failure: Failure? = failure
        encoder.optional(4, &failure)
    }

    static func writeHeader(verb: String, to encoder: inout WireEncoder) {
        var version = ProtocolVersion.current
        var verb = verb
        encoder.value(1, &version)
        encoder.value(2, &verb)
    }

    /// Reads the reply to a request of verb `R`: its payload, or the failure the agent sent.
    package static func readReply<R: AgentRequest>(_ body: [UInt8], for request: R.Type) throws(Malformed) -> Result<
        R.Reply, Failure
    > {
        if let message = legacyFailure(body) {
            return .failure(
                Failure(
                    .badRequest,
                    "the agent speaks an older protocol than this client (\(ProtocolVersion.description)): "
                        + "stop it with `job agent stop` (running jobs keep running) and run the command again; "
                        + "it said: \(message)"))
        }
        var decoder = WireDecoder(body)
        var version = 0
        var verb = ""
        var failure: Failure?
        var reply = R.Reply()
        try decoder.value(1, &version)
        try decoder.value(2, &verb)
        guard version >= ProtocolVersion.oldest else { throw Malformed("a reply of protocol version \(version)") }
        // A failure may answer before the request was read (the agent is too busy): its verb is
        // then empty.
        var rest = decoder
        try rest.optional(4, &failure)
        if let failure { return .failure(failure) }
        guard verb == R.verb.rawValue else { throw Malformed("a reply to '\(verb)' where one to '\(R.verb)' was due") }
        try decoder.value(3, &reply)
        return .success(reply)
    }

    /// Reads a request's version and verb; its payload is read by `Request`. Throws
    /// `LegacyRequest` for a frame of protocol 4 or earlier.
    package static func readRequest(_ body: [UInt8]) throws -> IncomingRequest {
        if let version = legacyVersion(body) { throw LegacyRequest(version: version) }
        var frame = IncomingRequest(decoder: WireDecoder(body))
        try frame.decoder.value(1, &frame.version)
        try frame.decoder.value(2, &frame.verbName)
        guard frame.version >= ProtocolVersion.oldest else {
            throw Malformed("a request of protocol version \(frame.version)")
        }
        return frame
    }

    /// A request in the encoding of protocol 4 or earlier, which began with its version as eight
    /// little-endian bytes (a first byte that no tagged frame has).
    package struct LegacyRequest: Error {
        package var version: Int
    }

    static func legacyVersion(_ body: [UInt8]) -> Int? {
        guard body.count >= 8, (1...4).contains(body[0]), body[1..<8].allSatisfy({ $0 == 0 }) else { return nil }
        return Int(body[0])
    }

    /// An answer that an agent of protocol 4 or earlier understands: a failure with `message`.
    package static func writeLegacyFailure(_ message: String, to encoder: inout WireEncoder) {
        let utf8 = Array(message.utf8)
        encoder.raw([1])
        encoder.raw(withUnsafeBytes(of: Int64(utf8.count).littleEndian) { Array($0) })
        encoder.raw(utf8)
    }

    /// The message of a failure sent by an agent of protocol 4 or earlier (a presence byte,
    /// an eight-byte length and the text); nil for a tagged frame.
    static func legacyFailure(_ body: [UInt8]) -> String? {
        guard body.count >= 9, body[0] == 1 else { return nil }
        var length = 0
        for index in 0..<8 { length |= Int(body[1 + index]) << (8 * index) }
        guard length >= 0, length == body.count - 9 else { return nil }
        return String(decoding: body[9...], as: UTF8.self)
    }
}

/// A request frame whose version and verb have been read.
package struct IncomingRequest {
    package var version = 0
    /// The verb as sent; one this agent does not know is answered with `unknownVerb`.
    package var verbName = ""
    var decoder: WireDecoder

    package var verb: Verb? { Verb(rawValue: verbName) }

    mutating func payload<R: TaggedMessage>() throws(Malformed) -> R {
        var payload = R()
        try decoder.value(3, &payload)
        return payload
    }

    /// The request, or the failure to answer with when it cannot be carried out.
    package mutating func request() -> Result<Request, Failure> {
        guard let verb else {
            return .failure(
                Failure(
                    .unknownVerb,
                    "this agent (\(ProtocolVersion.description)) does not know the verb '\(verbName)' of the client "
                        + "(protocol \(version)); stop the agent with `job agent stop` (running jobs keep running) "
                        + "so that the next command starts the one installed with this client"))
        }
        let request: Request
        var needs: [String] = []
        do {
            request = try Request(verb, &self)
            try decoder.array(5, &needs)
        } catch {
            return .failure(Failure(.badRequest, "bad request: \(error)"))
        }
        let lacking = needs.filter { !Capability.known.contains($0) }
        guard lacking.isEmpty else {
            return .failure(
                Failure(
                    .unsupported,
                    "this agent (\(ProtocolVersion.description)) cannot do what the client (protocol \(version)) asks "
                        + "of '\(verbName)': \(lacking.joined(separator: ", ")); stop the agent with `job agent stop` "
                        + "(running jobs keep running) so that the next command starts the one installed with this "
                        + "client"))
        }
        return .success(request)
    }
}
