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

/// The parts of children's output that connections are writing out (`receive` without
/// `--keep`), one part of the registry's state. Its rule: a child has at most one claim, held
/// by one connection, which ends it with `advance` or by closing; while it holds it, other
/// readers get nothing of that child.
struct ReadClaims {
    /// The part of a child's two streams that one connection is reading.
    struct Claim {
        var connection: Int32
        var instanceId: String
        var outputEnd: Int64
        var errorEnd: Int64
    }

    private var byJob: [Int: Claim] = [:]

    /// Whether another connection than `connection` holds this child's claim.
    func heldByAnother(_ id: Int, than connection: Int32) -> Bool {
        byJob[id].map { $0.connection != connection } ?? false
    }

    /// Claims a child's output up to these ends for a connection (replacing its own claim).
    mutating func claim(_ id: Int, by connection: Int32, instanceId: String, outputEnd: Int64, errorEnd: Int64) {
        byJob[id] = Claim(connection: connection, instanceId: instanceId, outputEnd: outputEnd, errorEnd: errorEnd)
    }

    /// Ends the claim a connection holds on the child with this InstanceId; the child's Id and
    /// the claim, or nil when it holds none. Only this connection's claims are looked at: a
    /// few, where the jobs are many.
    mutating func release(by connection: Int32, instanceId: String) -> (id: Int, claim: Claim)? {
        guard
            let (id, claim) = byJob.first(where: {
                $0.value.connection == connection && $0.value.instanceId == instanceId
            })
        else { return nil }
        byJob[id] = nil
        return (id, claim)
    }

    /// Ends every claim of a connection that closed; whether it held any.
    mutating func drop(connection: Int32) -> Bool {
        let held = byJob.filter { $0.value.connection == connection }.map(\.key)
        for id in held { byJob[id] = nil }
        return !held.isEmpty
    }
}
