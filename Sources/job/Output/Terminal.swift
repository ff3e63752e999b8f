import CJobSupport
import JobClient
import JobCore
import JobProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// Where the command's own text goes: results to stdout, messages to stderr.
enum Terminal {
    static func error(_ message: String) {
        errorText("job: " + message + "\n")
    }

    static func errorText(_ text: String) {
        var bytes = Array(text.utf8)[...]
        _ = FileWriter.writeAll(2, &bytes)
    }

    /// Writes text to stdout unbuffered, so that it is in order with direct writes.
    static func out(_ text: String) {
        out(bytes: Array(text.utf8))
    }

    static func out(bytes: [UInt8]) {
        var bytes = bytes[...]
        _ = FileWriter.writeAll(1, &bytes)
    }

    /// The width to fit tables into when stdout is a terminal; nil into a pipe or file.
    static func tableWidth() -> Int? {
        guard isatty(1) == 1 else { return nil }
        if let text = getenv("COLUMNS"), let columns = Int(String(cString: text)), columns > 0 {
            return columns
        }
        let width = Int(cjob_terminal_columns(1))
        return width > 0 ? width : 80
    }

    static func show(_ jobs: [JobRecord], format: JobFormat) {
        switch format {
        case .table: showTable(jobs.map(JobRow.init))
        case .list: out(JobFormatter.list(jobs, all: jobs))
        case .json: out(bytes: JobFormatter.jsonBytes(jobs))
        }
    }

    /// Rows as the table, fitted to the terminal when stdout is one.
    static func showTable(_ rows: [JobRow]) {
        out(bytes: JobFormatter.tableBytes(rows, width: tableWidth()))
    }

    /// Reports per-selector problems on stderr; true when there were any.
    @discardableResult
    static func report(_ problems: [String]) -> Bool {
        for problem in problems { error(problem) }
        return !problems.isEmpty
    }

    /// Prints jobs in the `--format` asked for. `wire` (left out of the help) prints them as
    /// `JobRows` bytes: what another computer's `job` reads under `--computer`.
    static func show(_ jobs: [JobRecord], parsed: ParsedArguments) throws {
        if parsed.value("--format") == "wire" {
            var bytes = JobRows.encode(jobs)[...]
            _ = FileWriter.writeAll(1, &bytes)
            return
        }
        show(jobs, format: try format(parsed))
    }

    static func format(_ parsed: ParsedArguments) throws -> JobFormat {
        guard let text = parsed.value("--format") else { return .table }
        if text == "wire" { return .table }
        guard let format = JobFormat(rawValue: text) else {
            throw CLIFailure.usage("--format takes table, list or json, not '\(text)'")
        }
        return format
    }

    static func selection(_ parsed: ParsedArguments) throws -> JobSelection {
        var states: [JobState] = []
        for name in parsed.all("--state") {
            guard let state = JobState(name: name) else {
                throw CLIFailure.usage(
                    "unknown state '\(name)'; use one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            states.append(state)
        }
        return JobSelection(
            selectors: parsed.positionals, names: parsed.all("--name"), states: states, all: parsed.flag("--all"))
    }

    /// The names of `--computer` (comma-separated, repeatable), each checked; a usage error
    /// when one could be an ssh option or holds what no computer name does.
    static func computers(_ parsed: ParsedArguments, required: Bool, verb: String = "") throws -> [String] {
        let names = parsed.all("--computer").flatMap { $0.split(separator: ",").map(String.init) }
        if required && names.isEmpty {
            throw CLIFailure.usage("\(verb) needs --computer NAME[,NAME...] (localhost for this computer)")
        }
        for name in names {
            do {
                _ = try ComputerName(name)
            } catch {
                throw CLIFailure.usage("\(error)")
            }
        }
        return names
    }

    /// For verbs that must not act on everything by default.
    static func requiredSelection(_ parsed: ParsedArguments, verb: String) throws -> JobSelection {
        let selection = try selection(parsed)
        if selection.isEmpty {
            throw CLIFailure.usage(
                "job \(verb) needs a job: give an Id, an InstanceId, a name, --name, --state or --all")
        }
        return selection
    }
}
