import Glibc

/// The symbolic name of an `errno` value (`EMFILE`), for log fields and metric labels, which must
/// stay few and stable: the values the daemon meets by name, anything else as `errno_<n>`.
enum ErrnoName {
    private static let known: [Int32: String] = [
        EMFILE: "EMFILE", ENFILE: "ENFILE", ENOSPC: "ENOSPC", EDQUOT: "EDQUOT", ENOMEM: "ENOMEM", ENOBUFS: "ENOBUFS",
        EAGAIN: "EAGAIN", EIO: "EIO", EACCES: "EACCES", EPERM: "EPERM", ENOENT: "ENOENT", EROFS: "EROFS",
        EINVAL: "EINVAL", ETIMEDOUT: "ETIMEDOUT",
    ]

    /// `EMFILE` for `EMFILE`, `errno_<n>` for a value not listed.
    static func of(_ code: Int32) -> String {
        known[code] ?? "errno_\(code)"
    }
}
