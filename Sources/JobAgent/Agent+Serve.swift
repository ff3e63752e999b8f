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
import Foundation
import JobCore
import JobProtocol

extension Agent {
    /// Answers one client's requests until it hangs up. A frame that cannot be read gets a
    /// failure and a closed connection; a verb this agent lacks gets a failure naming both
    /// versions, and the connection stays. False when the connection is to stay open after
    /// this (an `agent stop`, whose client waits for the agent to let go of it).
    func serve(_ channel: FrameChannel) -> Bool {
        defer { registry.dropClaims(connection: channel.fd) }
        while true {
            let body: [UInt8]
            let fds: [Int32]
            do {
                guard let frame = try channel.receive() else { return true }
                (body, fds) = frame
            } catch {
                try? channel.send {
                    Frame.writeFailure(Failure(.badRequest, "bad request: \(error)"), verb: "", to: &$0)
                }
                return true
            }
            defer { fds.forEach { _ = close($0) } }
            var incoming: IncomingRequest
            do {
                incoming = try Frame.readRequest(body)
            } catch let legacy as Frame.LegacyRequest {
                try? channel.send {
                    Frame.writeLegacyFailure(
                        "this agent speaks protocol \(ProtocolVersion.current) and the client \(legacy.version); "
                            + "stop the agent (job agent stop) so the next command starts a matching one", to: &$0)
                }
                return true
            } catch {
                try? channel.send {
                    Frame.writeFailure(Failure(.badRequest, "bad request: \(error)"), verb: "", to: &$0)
                }
                return true
            }
            let request: Request
            switch incoming.request() {
            case .success(let decoded): request = decoded
            case .failure(let failure):
                try? channel.send { Frame.writeFailure(failure, verb: incoming.verbName, to: &$0) }
                if failure.code == .unknownVerb || failure.code == .unsupported { continue }
                return true
            }
            let verb = request.verb.rawValue
            var sent = true
            var size = 0
            respond(to: request, fds: fds, connection: channel.fd) { result in
                do {
                    switch result {
                    case .success(let answered as AnsweredWait):
                        if !answered.rest.isEmpty { try channel.sendFrame(answered.rest) }
                    case .success(let reply):
                        try channel.send {
                            Frame.writeReply(reply, verb: verb, to: &$0)
                            size = $0.bytes.count
                        }
                    case .failure(let failure):
                        // As the user knows it: a queued start is a start.
                        log.warning("refused \(verb == "startQueued" ? "start" : verb): \(failure.message)")
                        try channel.send { Frame.writeFailure(failure, verb: verb, to: &$0) }
                    }
                } catch {
                    sent = false
                }
            }
            // What a large reply took (its records, its buffers) is freed now; without this
            // the heap kept tens of megabytes of it after a `get` of 100,000 jobs.
            if size > Self.largeReply { cjob_release_free_memory() }
            guard sent else { return true }
            if request.payload is ShutdownRequest {
                stopRequesters.withLock { $0.append(channel.fd) }
                requestStop()
                return false
            }
        }
    }

    /// Bytes of a reply past which the agent gives freed memory back to the system.
    static let largeReply = 1 << 20

    /// Carries out one request: its verb's handler (`Handled`), whose reply goes to
    /// `answer`, once. `connection` is the client's descriptor, which owns read claims and
    /// whose closing ends a wait. A start is answered before its job is launched.
    func respond(
        to request: Request, fds: [Int32], connection: Int32,
        answer: (Result<any TaggedMessage, Failure>) -> Void
    ) {
        guard let handled = request.payload as? any Handled else {
            return answer(.failure(Failure(.unknownVerb, "this agent has no handler for '\(request.verb)'")))
        }
        if let problem = handled.rangeProblem { return answer(.failure(problem)) }
        handled.handle(RequestContext(agent: self, connection: connection, fds: fds), answer: answer)
    }
}
