import JobClient
import JobConfig

/// The user's defaults for this command (`JobSettings`: the config file, then the
/// environment), read once, when a verb first needs one. A file that cannot be used is bad
/// usage (exit 2), named with its line and key.
enum UserSettings {
    nonisolated(unsafe) private static var loaded: JobSettings?

    static func current() throws -> JobSettings {
        if let loaded { return loaded }
        do {
            let settings = try JobSettings.load(environment: ProcessEnvironment.variable)
            loaded = settings
            return settings
        } catch {
            throw CLIFailure.usage("\(error.description); fix the file, or move it away")
        }
    }
}
