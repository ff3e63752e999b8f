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

/// Checks of values that reach a remote shell, the ssh command line or every table row,
/// made by the command line (a usage error) and again by the agent (for API callers).
package enum InputCheck {
    /// The longest job name, in bytes: a name is shown in every table row.
    package static let maximumNameLength = 256

    /// A `KEY=VALUE` entry whose key is a shell variable name (letters, digits and `_`, not
    /// starting with a digit): it is written into the remote command text, so nothing else may
    /// stand there. Returns the key.
    @discardableResult
    package static func environmentEntry(_ entry: String) throws(InputError) -> Substring {
        guard let equals = entry.firstIndex(of: "=") else {
            throw InputError("--env takes KEY=VALUE, not '\(entry)'")
        }
        let key = entry[..<equals]
        let isName =
            !key.isEmpty
            && key.utf8.allSatisfy { byte in
                (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57) || byte == 95
            } && !(key.utf8.first! >= 48 && key.utf8.first! <= 57)
        guard isName else {
            throw InputError(
                "--env takes KEY=VALUE where KEY is a variable name (letters, digits and _, not starting with a "
                    + "digit), not '\(key)'")
        }
        return key
    }

    /// An option for ssh: one argument that starts with `-` (so it can never become the
    /// destination), and not `--` (which would make the options after it the destination).
    package static func sshOption(_ option: String) throws(InputError) {
        guard option.hasPrefix("-"), option != "--", option != "-" else {
            throw InputError("--ssh-option takes one ssh option starting with '-', e.g. -oPort=2222, not '\(option)'")
        }
        if option.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw InputError("--ssh-option '\(option)' holds a control character")
        }
    }

    /// A job's name: at most `maximumNameLength` bytes, no control characters.
    package static func jobName(_ name: String) throws(InputError) {
        guard name.utf8.count <= maximumNameLength else {
            throw InputError("--name takes at most \(maximumNameLength) bytes, not \(name.utf8.count)")
        }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw InputError("--name must not hold control characters (a newline, a tab, an escape)")
        }
    }

    /// A queue group's name: 1 to 64 ASCII letters, digits, '-', '_' or '.'.
    package static func groupName(_ name: String) throws(InputError) {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || "-_.".utf8.contains(byte)
        }
        guard !name.isEmpty, name.utf8.count <= 64, allowed else {
            throw InputError("a group's name is 1 to 64 letters, digits, '-', '_' or '.', not '\(name)'")
        }
    }
}

/// A value that `InputCheck` refused, with what was wrong and what it takes.
package struct InputError: Error, CustomStringConvertible, Sendable {
    package var description: String
    package init(_ description: String) { self.description = description }
}
