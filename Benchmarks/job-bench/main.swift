// Benchmark driver for what only the Swift API can show: jobs started from one process
// through `JobClient`, without a CLI process per job.
//
//     job-bench start N    start N jobs running `true`, wait for all; print jobs per second
import Foundation
import JobClient
import JobCore

let arguments = CommandLine.arguments
guard arguments.count == 3, arguments[1] == "start", let count = Int(arguments[2]), count > 0 else {
    FileHandle.standardError.write(Data("usage: job-bench start N\n".utf8))
    exit(2)
}
do {
    let client = try JobClient()
    let environment = ProcessEnvironment.entries()
    let directory = FileManager.default.currentDirectoryPath
    let began = Date()
    var ids: [String] = []
    ids.reserveCapacity(count)
    for _ in 0..<count {
        let job = try client.start(command: "true", workingDirectory: directory, environment: environment)
        ids.append(String(job.id))
    }
    let started = Date()
    _ = try client.wait(JobSelection(selectors: ids))
    let finished = Date()
    let startSeconds = started.timeIntervalSince(began)
    let totalSeconds = finished.timeIntervalSince(began)
    print(
        "started \(count) jobs in \(String(format: "%.3f", startSeconds)) s "
            + "(\(Int(Double(count) / startSeconds)) jobs/s); all finished after \(String(format: "%.3f", totalSeconds)) s "
            + "(\(Int(Double(count) / totalSeconds)) jobs/s)")
} catch {
    FileHandle.standardError.write(Data("job-bench: \(error)\n".utf8))
    exit(1)
}
