#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Posix {
    /// `fcntl(fd, F_SETLK)` of a write lock on the whole file: takes an exclusive lock for this process,
    /// or returns false at once when another process holds one.
    ///
    /// A POSIX record lock belongs to the process, not to the open file: a child never holds it. A `flock`
    /// would be held by every copy of the descriptor, and a child being spawned holds a copy of each one
    /// until its `exec`, so a lock its parent had just released would still look held. The kernel drops a
    /// record lock when the process ends however it ends (a SIGKILL included), and also when the process
    /// closes any descriptor of the file; and it does not exclude the process itself. The caller keeps
    /// one descriptor per file and its own account of what the process holds.
    public static func tryLockForProcess(_ fd: Int32) throws(IOError) -> Bool {
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = 0
        lock.l_len = 0  // to the end of the file, however long it grows
        do throws(IOError) {
            switch try nonBlocking("fcntl", { fcntl(fd, F_SETLK, &lock) }) {
            case .processed: return true
            case .wouldBlock: return false
            }
        } catch where error.errno == EACCES {
            // Held by another process: POSIX allows this answer as well as `EAGAIN`.
            return false
        }
    }
}
