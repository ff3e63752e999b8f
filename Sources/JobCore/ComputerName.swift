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

/// A computer as the user names it: `host`, `user@host`, `host:port` or `user@host:port`.
package struct ComputerName: Sendable, Equatable {
    /// The name as typed: the job's Location.
    package var text: String
    package var user: String?
    package var host: String
    package var port: Int?

    /// Names that run on this computer without SSH.
    package var isLocal: Bool { text == "localhost" || text == "." }

    /// Parses and checks a name. A name that could be read as an ssh option (it starts with
    /// `-`) or that holds white space, control characters or shell metacharacters is refused:
    /// it would be an option or a command to ssh.
    package init(_ text: String) throws(ComputerNameError) {
        self.text = text
        guard !text.isEmpty else { throw ComputerNameError(name: text, problem: "is empty") }
        guard !text.hasPrefix("-") else {
            throw ComputerNameError(name: text, problem: "starts with '-' and would be read as an ssh option")
        }
        let forbidden = Set(" \t\n\r;&|$`'\"\\<>(){}*?[]!#~=%^,")
        for scalar in text.unicodeScalars where scalar.value < 0x20 || scalar.value == 0x7F {
            _ = scalar
            throw ComputerNameError(name: text, problem: "holds a control character")
        }
        if let bad = text.first(where: { forbidden.contains($0) }) {
            throw ComputerNameError(name: text, problem: "holds '\(bad)', which is not part of a computer name")
        }
        var rest = Substring(text)
        if let at = rest.lastIndex(of: "@") {
            let user = rest[..<at]
            guard !user.isEmpty else { throw ComputerNameError(name: text, problem: "has an empty user name") }
            self.user = String(user)
            rest = rest[rest.index(after: at)...]
        }
        if let colon = rest.lastIndex(of: ":"), !rest.hasPrefix("[") {
            guard let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else {
                throw ComputerNameError(name: text, problem: "has a port that is not a number from 1 to 65535")
            }
            self.port = port
            rest = rest[..<colon]
        }
        guard !rest.isEmpty else { throw ComputerNameError(name: text, problem: "has no host") }
        host = String(rest)
    }
}

package struct ComputerNameError: Error, CustomStringConvertible, Equatable {
    package var name: String
    package var problem: String
    package var description: String { "the computer name '\(name)' \(problem)" }
}
