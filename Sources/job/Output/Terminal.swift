import CJobSupport
import Foundation
import JobClient
import JobCore

/// Where the command's own text goes: results to stdout, messages to stderr.
enum Terminal {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data(("job: " + message + "\n").utf8))
    }

    /// Writes text to stdout unbuffered, so that it is in order with direct writes.
    static func out(_ text: String) {
        let bytes = Array(text.utf8)
        var slice = bytes[...]
        _ = FileWriter.writeAll(1, &slice)
    }

    /// The width to fit tables into when stdout is a terminal; nil into a pipe or file.
    static func tableWidth() -> Int? {
        guard isatty(1) == 1 else { return nil }
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 {
            return columns
        }
        let width = Int(cjob_terminal_columns(1))
        return width > 0 ? width : 80
    }

    static func show(_ jobs: [JobRecord], format: JobFormat) {
        switch format {
        case .table: out(JobFormatter.table(jobs, width: tableWidth()))
        case .list: out(JobFormatter.list(jobs, all: jobs))
        case .json: out(JobFormatter.json(jobs))
        }
    }

    /// Reports per-selector problems on stderr; true when there were any.
    @discardableResult
    static func report(_ problems: [String]?) -> Bool {
        for problem in problems ?? [] { error(problem) }
        return !(problems ?? []).isEmpty
    }
}
