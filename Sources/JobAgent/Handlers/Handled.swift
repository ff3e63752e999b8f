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

/// What a handler is given besides its request.
struct RequestContext {
    let agent: Agent
    var registry: JobRegistry { agent.registry }
    /// The client's connection: it owns read claims, and its closing ends a wait.
    let connection: Int32
    /// The descriptors sent with the request (`--input -`), closed by `serve` afterwards.
    let fds: [Int32]
}

/// A request the agent carries out. Each verb's request type conforms in its handler's file
/// (`Handlers/`), and `Agent.respond` calls it, whatever the verb: the one dispatch style.
/// A handler takes the registry's lock for what it reads and changes (`withState`), and does
/// what must not hold it (a session's threads) around that.
///
/// A new verb is three things: its message (a `Verb` case with its request type's line, and
/// the request and reply types, in `JobProtocol/Messages.swift`), its handler (a file here
/// whose request type conforms to `Handled`), and its command line (`Sources/job/CLI`).
protocol Handled: AgentRequest {
    /// Why this request's numbers cannot be used, checked before it is handled (`Limits.swift`);
    /// nil for most.
    var rangeProblem: Failure? { get }

    /// Carries out the request: its reply, or the failure that refuses it, goes to `answer`
    /// once (a start answers before it launches its jobs).
    func handle(_ context: RequestContext, answer: (Result<any TaggedMessage, Failure>) -> Void)
}

extension Handled {
    var rangeProblem: Failure? { nil }
}

/// A handler that does all its work under the registry's lock and always answers: most
/// verbs. It says only what it does with the state.
protocol LockedHandler: Handled {
    /// The reply, made under the lock. `connection` is the client's, as in `RequestContext`.
    func reply(in state: RegistryState, connection: Int32) -> any TaggedMessage
}

extension LockedHandler {
    func handle(_ context: RequestContext, answer: (Result<any TaggedMessage, Failure>) -> Void) {
        let connection = context.connection
        answer(.success(context.registry.withState { reply(in: $0, connection: connection) }))
    }
}
