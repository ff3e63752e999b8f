import Foundation
import GRDB

/// Store errors worded for the person who reads them.
public enum StoreProblem {
    /// Whether the store failed because its disk (or the user's quota) is full.
    public static func isDiskFull(_ error: Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return error.resultCode == .SQLITE_FULL || error.extendedResultCode == .SQLITE_IOERR_WRITE
            || error.extendedResultCode == .SQLITE_IOERR_SHMSIZE || error.extendedResultCode == .SQLITE_IOERR_FSYNC
    }

    /// What went wrong, with what to do when the disk is full.
    public static func describe(_ error: Error) -> String {
        if isDiskFull(error) {
            return "the disk is full (\(error)); free space, for example with job remove --state Completed"
        }
        return "\(error)"
    }
}
