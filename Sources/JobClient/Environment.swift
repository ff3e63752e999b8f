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

#if canImport(Glibc)
    import Glibc
#endif

/// The process environment, read straight from `environ` (no Foundation needed).
package enum ProcessEnvironment {
    /// Every `KEY=VALUE` entry, in order; bytes that are not UTF-8 kept (`LosslessText`).
    package static func entries() -> [String] {
        var result: [String] = []
        var pointer = environ
        while let entry = pointer.pointee {
            result.append(decode(entry))
            pointer += 1
        }
        return result
    }

    /// This program's arguments; bytes that are not UTF-8 kept (`LosslessText`).
    package static func arguments() -> [String] {
        (0..<Int(CommandLine.argc)).map { index in
            CommandLine.unsafeArgv[index].map(decode) ?? ""
        }
    }

    /// One variable, read with getenv (no dictionary of them all: see `Names` in the CLI).
    package static func variable(_ name: String) -> String? {
        getenv(name).map(decode)
    }

    /// A C string as text, bytes that are not UTF-8 kept (`LosslessText`).
    static func decode(_ text: UnsafeMutablePointer<CChar>) -> String {
        // The common case, without an array per entry: valid UTF-8 with nothing of the escape
        // range (whose scalars all start with F4).
        if strchr(text, 0xF4) == nil, let plain = String(validatingCString: text) { return plain }
        return LosslessText.decode(UnsafeBufferPointer(start: text, count: strlen(text)).map(UInt8.init(bitPattern:)))
    }

    package static func dictionary() -> [String: String] {
        var result: [String: String] = [:]
        for entry in entries() {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            let key = String(entry[..<equals])
            if result[key] == nil { result[key] = String(entry[entry.index(after: equals)...]) }
        }
        return result
    }
}
