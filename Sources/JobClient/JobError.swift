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

import JobProtocol

/// Every failure of the client: the agent could not be reached, it refused a request, a job
/// was not found. `code` says which, for a program; `message` says it for a person, in the
/// words the `job` command prints.
public struct JobError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure. A struct rather than an enum, so that codes can be added (and an
    /// agent's codes passed on) without breaking a program that switches over the known ones.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// No agent runs and none was to be started.
        public static let noAgent = Code("noAgent")
        /// The agent could not be started or reached, stopped answering, or went away.
        public static let connection = Code("connection")
        /// The agent would not carry out the request (an empty command, a Busy session...).
        public static let refused = Code("refused")
        /// The agent does not know the request: it is older than the client.
        public static let unsupported = Code("unsupported")
        /// The request could not be read by the agent.
        public static let badRequest = Code("badRequest")
        /// The agent serves as many connections as it allows.
        public static let busy = Code("busy")
        /// A selector named a job or session that does not exist (`problems` lists each).
        public static let notFound = Code("notFound")
        /// The task that waited was cancelled.
        public static let cancelled = Code("cancelled")
    }

    public var code: Code
    public var message: String
    /// For `notFound`: one message per selector that matched nothing.
    public var problems: [String] = []
    /// The agent went away before it read the request (it was not taken): sent again to the
    /// next agent.
    var notTaken = false
    /// The agent went away (killed, or stopped) during the request: a request that changes
    /// nothing (a wait, a look) can be sent to the next agent, which goes on with the jobs.
    public internal(set) var agentWentAway = false

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// A request the agent refused as a whole, in the agent's words.
    init(_ failure: Failure) {
        switch failure.code {
        case .refused: self.init(.refused, failure.message)
        case .unknownVerb: self.init(.unsupported, failure.message)
        case .badRequest: self.init(.badRequest, failure.message)
        case .busy: self.init(.busy, failure.message)
        default: self.init(Code(failure.code.name), failure.message)
        }
    }

    /// The parts of a request that named nothing, as one error.
    static func notFound(_ problems: [String]) -> JobError {
        var error = JobError(.notFound, problems.joined(separator: "; "))
        error.problems = problems
        return error
    }
}
