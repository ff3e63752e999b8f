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

import JobCore
import JobProtocol

/// What the agent keeps between changes so that reads cost little, one part of the registry's
/// state: the parents in order and what selection needs of every job, each as of a
/// generation (any change moves it, and they are made again at the next read), and the one
/// encoder every kept record is written with. The encoded records themselves are in the job
/// table's slots, which forget them when their job changes.
struct RecordCache {
    private var parents: (generation: UInt64, slots: [JobSlot])?
    private var candidates: (generation: UInt64, withChildren: Bool, list: [SelectionCandidate])?
    private var encoder = WireEncoder()

    /// The parents as of `generation`, made with `make` when none are kept for it.
    mutating func parents(at generation: UInt64, make: () -> [JobSlot]) -> [JobSlot] {
        if let kept = parents, kept.generation == generation { return kept.slots }
        let made = make()
        parents = (generation, made)
        return made
    }

    /// What selection needs of every job (or every parent) as of `generation`.
    mutating func candidates(
        at generation: UInt64, withChildren: Bool, make: () -> [SelectionCandidate]
    ) -> [SelectionCandidate] {
        if let kept = candidates, kept.generation == generation, kept.withChildren == withChildren {
            return kept.list
        }
        let made = make()
        candidates = (generation, withChildren, made)
        return made
    }

    /// A record's bytes, written with the one encoder and kept in a buffer of their size (a
    /// new encoder's room for 256 bytes, kept with every record, had been a third of an
    /// agent's memory).
    mutating func encode(_ record: JobRecord) -> [UInt8] {
        encoder.clear()
        record.encode(into: &encoder)
        return encoder.exactBytes
    }
}
