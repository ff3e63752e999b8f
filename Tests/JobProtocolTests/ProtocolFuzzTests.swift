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
        for _ in 0..<200 {
            var writer = WireWriter()
            maker.request().write(to: &writer)
            corpus.append(writer.bytes)
            writer = WireWriter()
            maker.response().write(to: &writer)
            corpus.append(writer.bytes)
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
            var reader = WireReader(input)
            switch index % 3 {
            case 0:
                if (try? Request(from: &reader)) != nil { decoded += 1 } else { refused += 1 }
            case 1:
                if (try? Response(from: &reader)) != nil { decoded += 1 } else { refused += 1 }
            default:
                if (try? JobRows.decode(input)) != nil { decoded += 1 } else { refused += 1 }
            }
        }
        let elapsed = clock.now - began
        print("protocol fuzz: \(total) inputs (seed \(seed)) in \(elapsed): \(decoded) decoded, \(refused) refused")
        #expect(decoded + refused == total)
        // The unchanged corpus decodes: the generator makes real messages.
        #expect(decoded >= corpus.count)
        #expect(elapsed < .seconds(240))
    }
}
