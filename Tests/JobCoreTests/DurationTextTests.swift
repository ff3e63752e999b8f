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

@Suite("durations")
struct DurationTextTests {
    @Test(
        "typed durations: units, combinations and plain seconds; anything else is refused",
        arguments: [
            ("90s", 90.0), ("15m", 900), ("2h", 7200), ("1h30m", 5400), ("1d", 86400), ("90", 90), ("0.5", 0.5),
            ("1.5m", 90), ("2h15m10s", 8110),
        ] as [(String, Double)])
    func parse(text: String, seconds: Double) {
        #expect(DurationText.seconds(text) == seconds)
    }

    @Test(
        "not durations", arguments: ["", "0", "-5", "5x", "m", "1m1m", "1 m", "nan", "inf", "1e999", "0s", "h5"])
    func refuse(text: String) {
        #expect(DurationText.seconds(text) == nil)
    }

    @Test(
        "written back largest unit first",
        arguments: [
            (90.0, "1m30s"), (900, "15m"), (7200, "2h"), (5400, "1h30m"), (0.5, "0.5s"), (5, "5s"), (90061, "1d1h1m1s"),
        ]
            as [(Double, String)])
    func text(seconds: Double, text: String) {
        #expect(DurationText.text(seconds) == text)
    }
}
