import CJobSupport
import Foundation
import JobCore
import JobProtocol

extension Agent {
    /// Answers one client's requests until it hangs up. A malformed frame gets an error
    /// and a closed connection.
    func serve(_ channel: FrameChannel) {
        defer { registry.dropClaims(connection: channel.fd) }
        while true {
            let request: Request
            let fds: [Int32]
            do {
                guard let frame = try channel.receive(Request.self) else { return }
                (request, fds) = frame
            } catch {
                try? channel.send(Response.failure("bad request: \(error)"))
                return
            }
            guard request.version == ProtocolVersion.current else {
                fds.forEach { _ = close($0) }
                try? channel.send(
                    Response.failure(
                        "this agent speaks protocol \(ProtocolVersion.current) and the client \(request.version); "
                            + "stop the agent (job agent stop) so the next command starts a matching one"))
                return
            }
            let response = handle(request, fds: fds, connection: channel.fd)
            fds.forEach { _ = close($0) }
            do {
                try channel.send(response)
            } catch {
                return
            }
            if request.op == .shutdown {
                log.write("stopping on request")
                shutdown()
            }
        }
    }

    private func handle(_ request: Request, fds: [Int32], connection: Int32) -> Response {
        let selection = request.selection ?? JobSelection()
        switch request.op {
        case .status, .shutdown:
            return registry.status(socket: socketPath, startTime: startTime)
        case .start:
            guard let start = request.start else { return .failure("bad request: start without a command") }
            guard !start.command.isEmpty else { return .failure("the command is empty") }
            if start.hasInput && fds.isEmpty { return .failure("bad request: input announced but not attached") }
            do {
                for computer in start.computers { _ = try ComputerName(computer) }
                for entry in start.remoteEnvironment { try InputCheck.environmentEntry(entry) }
                for option in start.sshOptions { try InputCheck.sshOption(option) }
                if let name = start.name { try InputCheck.jobName(name) }
            } catch {
                return .failure("\(error)")
            }
            return registry.start(start, stdinFD: start.hasInput ? fds.first : nil)
        case .get:
            return registry.get(selection, request.get ?? GetOptions())
        case .receive:
            return registry.receive(selection, request.receive ?? ReceiveOptions(), connection: connection)
        case .advance:
            return registry.advance(request.advance ?? [], connection: connection)
        case .waitEvent:
            return registry.waitEvent(since: request.generation ?? 0, timeout: request.timeout, connection: connection)
        case .wait:
            return registry.wait(selection, request.wait ?? WaitOptions(), connection: connection)
        case .stop:
            return registry.stop(selection, request.stop ?? StopOptions())
        case .remove:
            return registry.remove(selection, request.remove ?? RemoveOptions(), grace: request.stop?.grace ?? 5)
        case .sessionNew:
            guard let session = request.session, !session.computers.isEmpty else {
                return .failure("bad request: session new without computers")
            }
            do {
                for option in session.sshOptions { try InputCheck.sshOption(option) }
                if let name = session.name { try InputCheck.jobName(name) }
            } catch {
                return .failure("\(error)")
            }
            return registry.openSessions(session)
        case .sessionGet:
            return registry.getSessions(selection)
        case .sessionRemove:
            let options = request.session ?? SessionRequest()
            return registry.removeSessions(selection, force: options.force, grace: options.grace)
        }
    }
}
