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
import Testing

@Suite("bytes that are not UTF-8 carried in text")
struct LosslessTextTests {
    @Test(
        "decode then encode gives the same bytes",
        arguments: [
            [], [0x61], [0xFF, 0xFE], [0x61, 0xFF, 0xFE, 0x62], [0xC3, 0xA9], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80],
            [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xB8, 0x80], [0xF4, 0x8F, 0xBB, 0xBF, 0x41],
            [0xF0, 0x9F, 0x98, 0x80], [0x00, 0x80, 0x7F],
        ] as [[UInt8]])
    func roundTrip(_ bytes: [UInt8]) {
        #expect(LosslessText.encode(LosslessText.decode(bytes)) == bytes)
    }

    @Test("valid UTF-8 decodes to its own text; escapes show as U+FFFD")
    func validText() {
        #expect(LosslessText.decode(Array("héllo 😀".utf8)) == "héllo 😀")
        #expect(LosslessText.shown(LosslessText.decode([0x61, 0xFF, 0x62])) == "a\u{FFFD}b")
    }

    @Test("random byte strings round-trip")
    func randomBytes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let count = Int.random(in: 0..<24, using: &generator)
            // Bytes biased to the interesting ones: UTF-8 leads, continuations and F4.
            let pool: [UInt8] = [0x41, 0x80, 0xBF, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0x8F, 0xB8, 0xBB, 0xFF, 0x00]
            let bytes = (0..<count).map { _ in
                Bool.random(using: &generator)
                    ? pool.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
            }
            #expect(LosslessText.encode(LosslessText.decode(bytes)) == bytes)
            // Appended after other bytes (a launch's record), the same bytes follow them.
            var record: [UInt8] = [0x7A, 0xF4]
            LosslessText.append(LosslessText.decode(bytes), to: &record)
            #expect(record == [0x7A, 0xF4] + bytes)
        }
    }
}
