#if canImport(Glibc)
    import Glibc
#endif

/// The process environment, read straight from `environ` (no Foundation needed).
public enum ProcessEnvironment {
    /// Every `KEY=VALUE` entry, in order.
    public static func entries() -> [String] {
        var result: [String] = []
        var pointer = environ
        while let entry = pointer.pointee {
            result.append(String(cString: entry))
            pointer += 1
        }
        return result
    }

    public static func dictionary() -> [String: String] {
        var result: [String: String] = [:]
        for entry in entries() {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            let key = String(entry[..<equals])
            if result[key] == nil { result[key] = String(entry[entry.index(after: equals)...]) }
        }
        return result
    }
}
