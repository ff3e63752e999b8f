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
            do {
                try answer(request, fds: fds, on: channel)
            } catch {
                return
            }
            if case .shutdown = request {
                log.write("stopping on request")
                shutdown()
            }
        }
    }

    /// Carries out one request and sends its reply (or its failure).
    private func answer(_ request: Request, fds: [Int32], on channel: FrameChannel) throws {
        let verb = request.verb.rawValue
        func reply<R: TaggedMessage>(_ reply: R) throws {
            try channel.send { Frame.writeReply(reply, verb: verb, to: &$0) }
        }
        func reply<R: TaggedMessage>(_ result: Result<R, Failure>) throws {
            switch result {
            case .success(let value): try reply(value)
            case .failure(let failure): try channel.send { Frame.writeFailure(failure, verb: verb, to: &$0) }
            }
        }
        let connection = channel.fd
        switch request {
        case .status:
            try reply(registry.status(socket: socketPath, startTime: startTime))
        case .shutdown:
            try reply(EmptyReply())
        case .start(let start):
            try reply(self.start(start, fds: fds))
        case .get(let get):
            try reply(registry.get(get))
        case .receive(let receive):
            try reply(registry.receive(receive, connection: connection))
        case .advance(let advance):
            try reply(registry.advance(advance.advances, connection: connection))
        case .waitEvent(let event):
            try reply(registry.waitEvent(since: event.generation, timeout: event.timeout, connection: connection))
        case .wait(let wait):
            try reply(registry.wait(wait, connection: connection))
        case .stop(let stop):
            try reply(registry.stop(stop))
        case .remove(let remove):
            try reply(registry.remove(remove))
        case .sessionNew(let session):
            try reply(openSessions(session))
        case .sessionGet(let get):
            try reply(registry.getSessions(get))
        case .sessionRemove(let remove):
            try reply(registry.removeSessions(remove))
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
