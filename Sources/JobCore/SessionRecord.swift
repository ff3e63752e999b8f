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

/// A session as `job session get` shows it: a long-lived shell on one computer that keeps its
/// state (working directory, variables, functions) between the commands sent to it.
public struct SessionRecord: Sendable, Equatable {
    public var id: Int
    public var name: String
    public var computerName: String
    public var state: SessionState
    public var availability: SessionAvailability
    /// How many commands have been sent to it (queued ones included).
    public var jobCount: Int
    public var shell: String
    /// Why it broke, when it is Broken.
    public var reason: String?

    package init(
        id: Int, name: String, computerName: String, state: SessionState, availability: SessionAvailability,
        jobCount: Int, shell: String, reason: String? = nil
    ) {
        self.id = id
        self.name = name
        self.computerName = computerName
        self.state = state
        self.availability = availability
        self.jobCount = jobCount
        self.shell = shell
        self.reason = reason
    }
}

/// PowerShell's PSSession states: `Opened` takes commands; `Broken` lost its shell or its
/// connection and takes none; `Closed` is being removed. A struct, so that a state added later
/// breaks no program's `switch` (give it a `default`).
public struct SessionState: Hashable, Sendable, CaseIterable, RawRepresentable, CustomStringConvertible {
    package enum Known: String, CaseIterable, Sendable {
        case opened = "Opened"
        case broken = "Broken"
        case closed = "Closed"
    }

    package let known: Known

    package init(_ known: Known) { self.known = known }

    public static var opened: SessionState { SessionState(.opened) }
    public static var broken: SessionState { SessionState(.broken) }
    public static var closed: SessionState { SessionState(.closed) }
    public static var allCases: [SessionState] { Known.allCases.map(SessionState.init) }

    public init?(rawValue: String) {
        guard let known = Known(rawValue: rawValue) else { return nil }
        self.known = known
    }

    public var rawValue: String { known.rawValue }
    public var description: String { known.rawValue }
}

/// Whether a session takes a command now: `Busy` while one of its commands runs. A struct, as
/// `SessionState` is.
public struct SessionAvailability: Hashable, Sendable, CaseIterable, RawRepresentable, CustomStringConvertible {
    package enum Known: String, CaseIterable, Sendable {
        case available = "Available"
        case busy = "Busy"
        case none = "None"
    }

    package let known: Known

    package init(_ known: Known) { self.known = known }

    public static var available: SessionAvailability { SessionAvailability(.available) }
    public static var busy: SessionAvailability { SessionAvailability(.busy) }
    /// Broken or closed: it takes no command.
    public static var none: SessionAvailability { SessionAvailability(.none) }
    public static var allCases: [SessionAvailability] { Known.allCases.map(SessionAvailability.init) }

    public init?(rawValue: String) {
        guard let known = Known(rawValue: rawValue) else { return nil }
        self.known = known
    }

    public var rawValue: String { known.rawValue }
    public var description: String { known.rawValue }
}

package enum SessionFormatter {
    package static let columns = ["Id", "Name", "ComputerName", "State", "Availability", "JobCount"]

    package static func table(_ sessions: [SessionRecord]) -> String {
        TextTable.render(
            columns: columns,
            rows: sessions.map {
                [
                    String($0.id), $0.name, $0.computerName, $0.state.rawValue, $0.availability.rawValue,
                    String($0.jobCount),
                ]
            })
    }

    package static func list(_ sessions: [SessionRecord]) -> String {
        sessions.map { session in
            let fields = [
                ("Id", String(session.id)), ("Name", session.name), ("ComputerName", session.computerName),
                ("State", session.state.rawValue), ("Availability", session.availability.rawValue),
                ("JobCount", String(session.jobCount)), ("Shell", session.shell), ("Reason", session.reason ?? ""),
            ]
            let width = fields.map(\.0.count).max() ?? 0
            return fields.map { $0.0 + String(repeating: " ", count: width - $0.0.count) + " : " + $0.1 }
                .joined(separator: "\n") + "\n"
        }.joined(separator: "\n")
    }

    /// The keys of the job model's section 7, in its order, then `reason`.
    package static func json(_ sessions: [SessionRecord]) -> String {
        guard !sessions.isEmpty else { return "[]\n" }
        let objects = sessions.map { session in
            "  {\n"
                + [
                    "\"id\": \(session.id)", "\"name\": \(JSONText.string(session.name))",
                    "\"computerName\": \(JSONText.string(session.computerName))",
                    "\"state\": \(JSONText.string(session.state.rawValue))",
                    "\"availability\": \(JSONText.string(session.availability.rawValue))",
                    "\"jobCount\": \(session.jobCount)", "\"shell\": \(JSONText.string(session.shell))",
                    "\"reason\": \(JSONText.optional(session.reason))",
                ].map { "    " + $0 }.joined(separator: ",\n") + "\n  }"
        }
        return "[\n" + objects.joined(separator: ",\n") + "\n]\n"
    }
}
