import JobCore

/// Job rows as bytes: what `job get --format wire` prints, so that `--computer` can read
/// another computer's jobs exactly (no text to parse) and show them with its own formatting.
///
/// Layout: the 8 bytes `JOBROWS\n`, the protocol version, then the records as the protocol
/// encodes them.
public enum JobRows {
    static let magic = Array("JOBROWS\n".utf8)

    public static func encode(_ jobs: [JobRecord]) -> [UInt8] {
        var w = WireWriter()
        w.int(ProtocolVersion.current)
        w.array(jobs) { w, job in job.write(to: &w) }
        return magic + w.bytes
    }

    public struct Unreadable: Error, CustomStringConvertible {
        public var description: String
    }

    public static func decode(_ bytes: [UInt8]) throws(Unreadable) -> [JobRecord] {
        guard bytes.count >= magic.count, Array(bytes[..<magic.count]) == magic else {
            throw Unreadable(description: "its job did not print job rows (is it a job of this project?)")
        }
        var r = WireReader(Array(bytes[magic.count...]))
        do {
            let version = try r.int()
            guard version == ProtocolVersion.current else {
                throw Unreadable(
                    description:
                        "its job speaks protocol version \(version), this one \(ProtocolVersion.current); install the same version there"
                )
            }
            return try r.array { try JobRecord(from: &$0) }
        } catch let error as Unreadable {
            throw error
        } catch {
            throw Unreadable(description: "its job printed malformed job rows")
        }
    }
}
