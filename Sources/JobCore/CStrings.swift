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

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `body` with a NULL-terminated array of C strings, freed afterwards. Each string is
/// given as the bytes it stands for (`LosslessText`), so bytes that are not UTF-8 pass
/// through unchanged; a NUL byte inside one ends it there.
package func withCStringArray<T>(
    _ strings: [String], _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) throws -> T
) rethrows -> T {
    var pointers: [UnsafeMutablePointer<CChar>?] =
        strings.map { string in
            let bytes = LosslessText.encode(string)
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            for (index, byte) in bytes.enumerated() { copy[index] = CChar(bitPattern: byte) }
            copy[bytes.count] = 0
            return copy
        } + [nil]
    defer { pointers.forEach { $0?.deallocate() } }
    return try pointers.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
}
