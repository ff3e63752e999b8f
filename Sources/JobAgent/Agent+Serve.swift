import CJobSupport
import Foundation
import JobCore
import JobProtocol

extension Agent {
    /// Answers one client's requests until it hangs up. A frame that cannot be read gets a
    /// failure and a closed connection; a verb this agent lacks gets a failure naming both
    /// versions, and the connection stays.
    func serve(_ channel: FrameChannel) {
        defer { registry.dropClaims(connection: channel.fd) }
        while true {
            let body: [UInt8]
            let fds: [Int32]
            do {
                guard let frame = try channel.receive() else { return }
                (body, fds) = frame
            } catch {
                try? channel.send {
                    Frame.writeFailure(Failure(.badRequest, "bad request: \(error)"), verb: "", to: &$0)
                }
                return
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
                return
            } catch {
                try? channel.send {
                    Frame.writeFailure(Failure(.badRequest, "bad request: \(error)"), verb: "", to: &$0)
                }
                return
            }
            let request: Request
            switch incoming.request() {
            case .success(let decoded): request = decoded
            case .failure(let failure):
                try? channel.send { Frame.writeFailure(failure, verb: incoming.verbName, to: &$0) }
                if failure.code == .unknownVerb { continue }
                return
            }
            let verb = request.verb.rawValue
            do {
                switch respond(to: request, fds: fds, connection: channel.fd) {
                case .success(let reply): try channel.send { Frame.writeReply(reply, verb: verb, to: &$0) }
                case .failure(let failure): try channel.send { Frame.writeFailure(failure, verb: verb, to: &$0) }
                }
            } catch {
                return
            }
            if case .shutdown = request {
                log.write("stopping on request")
                shutdown()
            }
        }
    }

    /// Carries out one request: its verb's handler. `connection` is the client's descriptor,
    /// which owns read claims and whose closing ends a wait.
    func respond(to request: Request, fds: [Int32], connection: Int32) -> Result<any TaggedMessage, Failure> {
        func ok(_ reply: some TaggedMessage) -> Result<any TaggedMessage, Failure> { .success(reply) }
        func either(_ result: Result<some TaggedMessage, Failure>) -> Result<any TaggedMessage, Failure> {
            result.map { $0 }
        }
        switch request {
        case .status: return ok(registry.status(socket: socketPath, startTime: startTime))
        case .shutdown: return ok(EmptyReply())
        case .start(let start): return either(self.start(start, fds: fds))
        case .get(let get): return ok(registry.get(get))
        case .receive(let receive): return ok(registry.receive(receive, connection: connection))
        case .advance(let advance): return ok(registry.advance(advance.advances, connection: connection))
        case .waitEvent(let event):
            return ok(registry.waitEvent(since: event.generation, timeout: event.timeout, connection: connection))
        case .wait(let wait): return ok(registry.wait(wait, connection: connection))
        case .stop(let stop): return ok(registry.stop(stop))
        case .remove(let remove): return ok(registry.remove(remove))
        case .sessionNew(let session): return either(openSessions(session))
        case .sessionGet(let get): return ok(registry.getSessions(get))
        case .sessionRemove(let remove): return ok(registry.removeSessions(remove))
        }
    }

    private func start(_ start: StartRequest, fds: [Int32]) -> Result<StartReply, Failure> {
        guard !start.command.isEmpty else { return .failure(Failure(.refused, "the command is empty")) }
        if start.hasInput && fds.isEmpty {
            return .failure(Failure(.badRequest, "bad request: input announced but not attached"))
        }
        do {
            for computer in start.computers { _ = try ComputerName(computer) }
            for entry in start.remoteEnvironment { try InputCheck.environmentEntry(entry) }
            for option in start.sshOptions { try InputCheck.sshOption(option) }
            if let name = start.name { try InputCheck.jobName(name) }
        } catch {
            return .failure(Failure(.refused, "\(error)"))
        }
        return registry.start(start, stdinFD: start.hasInput ? fds.first : nil)
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
