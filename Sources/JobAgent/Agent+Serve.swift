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
                if failure.code == .unknownVerb { continue }
                return true
            }
            let verb = request.verb.rawValue
            var sent = true
            var size = 0
            respond(to: request, fds: fds, connection: channel.fd) { result in
                do {
                    switch result {
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
            if case .shutdown = request {
                stopRequesters.withLock { $0.append(channel.fd) }
                requestStop()
                return false
            }
        }
    }

    /// Bytes of a reply past which the agent gives freed memory back to the system.
    static let largeReply = 1 << 20

    /// Carries out one request: its verb's handler, whose reply goes to `answer`, once.
    /// `connection` is the client's descriptor, which owns read claims and whose closing ends
    /// a wait. A start is answered before its job is launched (see `RegistryState.start`).
    func respond(
        to request: Request, fds: [Int32], connection: Int32,
        answer: (Result<any TaggedMessage, Failure>) -> Void
    ) {
        func ok(_ reply: some TaggedMessage) { answer(.success(reply)) }
        func either(_ result: Result<some TaggedMessage, Failure>) { answer(result.map { $0 }) }
        if let problem = request.rangeProblem { return answer(.failure(problem)) }
        switch request {
        case .status: ok(registry.status(socket: socketPath, startTime: startTime))
        case .shutdown: ok(EmptyReply())
        case .start(let start): self.start(start, fds: fds) { either($0) }
        case .get(let get): ok(registry.get(get))
        case .receive(let receive): ok(registry.receive(receive, connection: connection))
        case .advance(let advance): ok(registry.advance(advance.advances, connection: connection))
        case .waitEvent(let event):
            ok(registry.waitEvent(since: event.generation, timeout: event.timeout, connection: connection))
        case .wait(let wait): ok(registry.wait(wait, connection: connection))
        case .stop(let stop): ok(registry.stop(stop))
        case .remove(let remove): ok(registry.remove(remove))
        case .sessionNew(let session): either(openSessions(session))
        case .sessionGet(let get): ok(registry.getSessions(get))
        case .sessionRemove(let remove): ok(registry.removeSessions(remove))
        case .groupSet(let set): ok(registry.withState { $0.setGroups(set) })
        case .groupGet(let get): ok(registry.withState { $0.getGroups(get) })
        case .groupRemove(let remove): ok(registry.withState { $0.removeGroups(remove) })
        case .suspend(let suspend): ok(registry.withState { $0.suspend(suspend) })
        case .resume(let resume): ok(registry.withState { $0.resume(resume) })
        case .signal(let signal): ok(registry.withState { $0.sendSignal(signal) })
        case .restart(let restart): ok(registry.withState { $0.restart(restart) })
        case .startQueued(let queued): self.start(queued.request, fds: fds) { either($0) }
        }
    }

    private func start(_ start: StartRequest, fds: [Int32], answer: (Result<StartReply, Failure>) -> Void) {
        guard !start.command.isEmpty else { return answer(.failure(Failure(.refused, "the command is empty"))) }
        if start.hasInput && fds.isEmpty {
            return answer(.failure(Failure(.badRequest, "bad request: input announced but not attached")))
        }
        do {
            for computer in start.computers { _ = try ComputerName(computer) }
            for entry in start.remoteEnvironment { try InputCheck.environmentEntry(entry) }
            for option in start.sshOptions { try InputCheck.sshOption(option) }
            if let name = start.name { try InputCheck.jobName(name) }
        } catch {
            return answer(.failure(Failure(.refused, "\(error)")))
        }
        registry.start(start, stdinFD: start.hasInput ? fds.first : nil, answer: answer)
    }

    private func openSessions(_ session: SessionNewRequest) -> Result<SessionsReply, Failure> {
        guard !session.computers.isEmpty else {
            return .failure(Failure(.badRequest, "bad request: session new without computers"))
        }
        do {
            for option in session.sshOptions { try InputCheck.sshOption(option) }
            if let name = session.name { try InputCheck.jobName(name) }
        } catch {
            return .failure(Failure(.refused, "\(error)"))
        }
        return .success(registry.openSessions(session))
    }
}
