/// A failure to reach or talk to the agent, or a request the agent refused as a whole.
public struct JobClientError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        /// No agent runs and none was to be started.
        case noAgent
        /// The agent could not be started or reached.
        case connection
        /// The agent refused the request.
        case refused
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
