import JobProtocol

/// A failure to reach or talk to the agent, or a request the agent refused as a whole.
public struct JobClientError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        /// No agent runs and none was to be started.
        case noAgent
        /// The agent could not be started or reached.
        case connection
        /// The agent refused the request.
        case refused
        /// The agent does not know the verb: it is older than the client.
        case unsupported
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// A request the agent refused as a whole, in the agent's words.
    init(_ failure: Failure) {
        self.init(failure.code == .unknownVerb ? .unsupported : .refused, failure.message)
    }
}
