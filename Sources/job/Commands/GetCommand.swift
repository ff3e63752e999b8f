import ArgumentParser
import JobClient
import JobCore
import JobProtocol

struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "List jobs (parents only unless asked), sorted by Id.")

    @OptionGroup var selection: SelectionOptions

    @Flag(help: "List child jobs too.")
    var includeChildren = false

    @Option(help: "List the children of this job.")
    var childrenOf: String?

    @Option(help: "Jobs whose command matches this pattern.")
    var command: String?

    @Option(help: "true or false.")
    var hasMoreData: Bool?

    @Option(help: "Jobs that ended before this time (ISO 8601).")
    var before: String?

    @Option(help: "Jobs that ended after this time (ISO 8601).")
    var after: String?

    @Option(help: "Only the N newest jobs.")
    var newest: Int?

    @Option(help: "table, list or json.")
    var format: JobFormat = .table

    func run() throws {
        var options = GetOptions()
        options.includeChildren = includeChildren
        options.childrenOf = childrenOf
        options.command = command
        options.hasMoreData = hasMoreData
        options.before = try before.map(Self.time)
        options.after = try after.map(Self.time)
        if let newest, newest < 0 { throw CLIFailure.usage("--newest takes a number of jobs, 0 or more") }
        options.newest = newest
        let response = try JobClient().get(try selection.selection(), options: options)
        Terminal.show(response.jobs ?? [], format: format)
        if Terminal.report(response.problems) { throw CLIFailure.failed() }
    }

    static func time(_ text: String) throws -> Date {
        guard let date = Timestamp.parse(text) else {
            throw CLIFailure.usage("'\(text)' is not a time; write it as ISO 8601, e.g. 2026-11-25T09:30:00Z")
        }
        return date
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
