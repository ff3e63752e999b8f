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

/// The open sessions, one part of the registry's state: they live and end with the agent.
/// Its rule: an Id is given once (`nextId`), never again in this agent's life, and a session
/// is found by it until it is removed.
struct SessionTable {
    private var byId: [Int: Session] = [:]
    private var lastId = 0

    /// The Id of the next session.
    mutating func nextId() -> Int {
        lastId += 1
        return lastId
    }

    subscript(id: Int) -> Session? {
        get { byId[id] }
        set { byId[id] = newValue }
    }

    /// Every open session, in Id order.
    var all: [Session] { byId.values.sorted { $0.id < $1.id } }

    /// Forgets every session (a stopping agent, once their readers ended).
    mutating func removeAll() { byId = [:] }
}
