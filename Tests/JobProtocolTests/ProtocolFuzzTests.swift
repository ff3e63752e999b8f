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

import Foundation
import JobCore
import JobProtocol
import JobTestSupport
import Testing

@Suite("the protocol's decoders under generated input")
struct ProtocolFuzzTests {
    /// A million generated inputs, each decoded as a request, a response and job rows: every one
    /// must decode or be refused with an error. A crash (a trap) ends the test process.
    @Test("a million mutated frames are decoded or refused, never a crash")
    func millionInputs() throws {
        let seed =
            UInt64(ProcessInfo.processInfo.environment["JOB_FUZZ_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        var maker = MessageMaker(seed: seed)
        var corpus: [[UInt8]] = []
        for index in 0..<200 {
            let verb = Verb.allCases[index % Verb.allCases.count]
            corpus.append(maker.requestFrame(verb))
            corpus.append(maker.replyFrame(verb))
            corpus.append(JobRows.encode((0..<2).map { _ in maker.record() }))
        }
        let clock = ContinuousClock()
        let began = clock.now
        var decoded = 0
        var refused = 0
        let total = 1_000_000
        for index in 0..<total {
            let base = corpus[index % corpus.count]
            let other = corpus[Int.random(in: 0..<corpus.count, using: &maker.random)]
            let input = index < corpus.count ? base : maker.mutate(base, other: other)
            let readable: Bool
            switch index % 3 {
            case 0:
                if var frame = try? Frame.readRequest(input), case .success = frame.request() {
                    readable = true
                } else {
                    readable = false
                }
            case 1:
                // Each reply type in turn; a frame for another verb is refused.
                readable = Self.readReply(input, Verb.allCases[(index / 3) % Verb.allCases.count])
            default:
                readable = (try? JobRows.decode(input)) != nil
            }
            if readable { decoded += 1 } else { refused += 1 }
        }
        let elapsed = clock.now - began
        print("protocol fuzz: \(total) inputs (seed \(seed)) in \(elapsed): \(decoded) decoded, \(refused) refused")
        #expect(decoded + refused == total)
        // The unchanged corpus decodes: the generator makes real messages.
        #expect(decoded >= corpus.count)
        #expect(elapsed < .seconds(240))
    }

    static func readReply(_ body: [UInt8], _ verb: Verb) -> Bool {
        func read<R: AgentRequest>(_ type: R.Type) -> Bool { (try? Frame.readReply(body, for: type)) != nil }
        return read(verb.requestType)
    }
}
