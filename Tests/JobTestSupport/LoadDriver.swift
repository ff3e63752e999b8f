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
import JobClient
import JobCore
import JobProtocol

/// Many clients calling one agent at once while many jobs run: what the load test and the
/// benchmark measure.
public enum LoadDriver {
    public struct Outcome: Sendable {
        /// Seconds each answered call took, sorted.
        public var latencies: [Double]
        /// Calls that failed.
        public var failures: Int
        /// The agent's peak resident memory, in bytes.
        public var agentPeak: Int

        public func percentile(_ p: Int) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, latencies.count * p / 100)]
        }

        public var summary: String {
            String(
                format: "%d calls answered, %d failed: p50 %.2f ms, p99 %.2f ms; agent peak memory %.1f MB",
                latencies.count, failures, percentile(50) * 1000, percentile(99) * 1000,
                Double(agentPeak) / 1_048_576)
        }
    }

    /// Starts `jobs` jobs that sleep, then runs `clients` clients at once, each making `calls`
    /// calls (get by Id, get --newest 20, receive --keep of one job, status, in turn); stops
    /// the jobs afterwards.
    public static func run(environment: [String: String], jobs: Int, clients: Int, calls: Int) throws -> Outcome {
        let client = try JobClient(environment: environment)
        var ids: [String] = []
        for _ in 0..<jobs {
            ids.append(String(try client.start("exec sleep 600", environment: []).id + 1))
        }
        let agent = try client.status().pid
        let children = ids
        let workers = (0..<clients).map { worker in
            LoadWorker.start {
                guard let client = try? JobClient(environment: environment) else { return ([], calls) }
                var latencies: [Double] = []
                var failures = 0
                for call in 0..<calls {
                    let began = JobClient.monotonicNow()
                    let id = children[(worker * calls + call) % children.count]
                    do {
                        switch call % 4 {
                        case 0: _ = try client.send(GetRequest(JobSelection(selectors: [id])))
                        case 1:
                            var request = GetRequest()
                            request.newest = 20
                            _ = try client.send(request)
                        case 2:
                            var request = ReceiveRequest(JobSelection(selectors: [id]))
                            request.keep = true
                            _ = try client.send(request)
                        default: _ = try client.status()
                        }
                        latencies.append(JobClient.monotonicNow() - began)
                    } catch {
                        failures += 1
                    }
                }
                return (latencies, failures)
            }
        }
        var latencies: [Double] = []
        var failures = 0
        for worker in workers {
            let (times, failed) = worker.value()
            latencies += times
            failures += failed
        }
        let status = (try? String(contentsOfFile: "/proc/\(agent)/status", encoding: .utf8)) ?? ""
        let peak =
            status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }.flatMap {
                Int($0.split(whereSeparator: { $0 == " " || $0 == "\t" })[1])
            } ?? 0
        _ = try client.stop(JobSelection(selectors: ids.map { String(Int($0)! - 1) }), grace: .zero)
        return Outcome(latencies: latencies.sorted(), failures: failures, agentPeak: peak * 1024)
    }
}

/// A thread that computes one value.
final class LoadWorker: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: ([Double], Int) = ([], 0)

    static func start(_ body: @escaping @Sendable () -> ([Double], Int)) -> LoadWorker {
        let worker = LoadWorker()
        Thread.detachNewThread {
            worker.result = body()
            worker.done.signal()
        }
        return worker
    }

    func value() -> ([Double], Int) {
        done.wait()
        return result
    }
}
