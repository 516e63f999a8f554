#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Posix {
    /// `flock(fd, LOCK_EX | LOCK_NB)`: takes an exclusive advisory lock on the open file, or returns
    /// false at once when another open file description holds it.
    ///
    /// The lock belongs to the open file description, so the kernel drops it when the last descriptor
    /// of it is closed, which happens when the holder exits however it exits (a SIGKILL included).
    public static func tryLockExclusive(_ fd: Int32) throws(IOError) -> Bool {
        switch try nonBlocking("flock", { flock(fd, LOCK_EX | LOCK_NB) }) {
        case .processed: return true
        case .wouldBlock: return false
        }
    }
}
