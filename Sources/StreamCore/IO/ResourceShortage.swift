#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A system resource whose exhaustion made a call fail: what an operator acts on (free disk space,
/// raise a limit), as opposed to a damaged file or a bad request. Read from the `errno` of an
/// ``IOError``, never from message text.
public enum ResourceShortage: String, Sendable, Hashable, CaseIterable {
    /// The file system is full, or the disk quota is spent (`ENOSPC`, `EDQUOT`).
    case disk
    /// The process or the system has no descriptor left (`EMFILE`, `ENFILE`).
    case descriptors
    /// A thread could not be started (`EAGAIN` from `pthread_create`: a thread or memory limit).
    case threads
    /// The kernel could not allocate memory or socket buffers (`ENOMEM`, `ENOBUFS`).
    case memory
}

extension IOError {
    /// The call name of a failed `pthread_create`, which reports its error as its result.
    public static let threadCreateCall = "pthread_create"

    /// A failed `pthread_create` with its result code.
    public static func threadCreate(_ code: Int32) -> IOError {
        IOError(errno: code, call: threadCreateCall)
    }

    /// The resource whose exhaustion made the call fail, or nil when it failed for another reason.
    public var shortage: ResourceShortage? {
        switch errno {
        case ENOSPC, EDQUOT: .disk
        case EMFILE, ENFILE: .descriptors
        case ENOMEM, ENOBUFS: .memory
        case EAGAIN where call == Self.threadCreateCall: .threads
        default: nil
        }
    }
}
