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

// Runs three checks of a project at once as background jobs, prints their output as it comes,
// reports how each ended, and cleans up. `import JobClient` is the only import needed.
import JobClient

@main
struct JobsFromSwift {
    static func main() async throws {
        let client = try JobClient()

        // Job changes from here on, watched in a task of their own.
        let events = try await client.events(of: JobSelection(), includeChildren: false)
        let watcher = Task {
            var finished: Set<Int> = []
            for try await event in events {
                if let from = event.kind.previousState {
                    print("event: \(event.job.name) \(from.rawValue) -> \(event.job.state.rawValue)")
                } else {
                    // `added` or `removed`, or a kind a later version adds.
                    print("event: \(event.job.name) \(event.kind), \(event.job.state.rawValue)")
                }
                if event.job.state.isFinished { finished.insert(event.job.id) }
                if finished.count == 3 { return }
            }
        }

        // Three jobs, started concurrently from one client.
        let checks = [
            ("lint", "echo lint: ok"), ("unit", "echo unit: 12 passed"),
            ("docs", "echo docs: 1 broken link >&2; exit 1"),
        ]
        let jobs = try await withThrowingTaskGroup(of: Job.self) { group in
            for (name, command) in checks {
                group.addTask { try await client.start(command, name: name) }
            }
            var made: [Job] = []
            for try await job in group { made.append(job) }
            return made.sorted { $0.id < $1.id }
        }
        let all = JobSelection.ids(jobs.map(\.id))

        // Their output, stdout and stderr, as it comes; the sequence ends when every job has ended.
        for try await chunk in client.output(of: all) {
            let text = String(decoding: chunk.bytes, as: UTF8.self)
            print("\(chunk.name) \(chunk.stream.rawValue): \(text)", terminator: text.hasSuffix("\n") ? "" : "\n")
        }

        // How each ended.
        switch try await client.wait(for: all, timeout: .seconds(60)) {
        case .finished(let done):
            for job in done {
                print("\(job.name): \(job.state.rawValue)\(job.reason.map { " (\($0))" } ?? "")")
            }
        case .timedOut(let running):
            print("still running after a minute: \(running.map(\.name))")
        }
        try await watcher.value

        // A job that is not there is an error with a code, not an empty list.
        do {
            _ = try await client.jobs(.ids([999_999]))
        } catch {
            print("error \(error.code): \(error.message)")
        }

        _ = try await client.remove(all)
    }
}
