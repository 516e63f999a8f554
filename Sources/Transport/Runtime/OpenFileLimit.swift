import CLinux
import Glibc
import StreamCore

/// The process's limit on open descriptors, which bounds how many connections the daemon can hold.
public enum OpenFileLimit {
    /// `RLIMIT_NOFILE`, in the integer type glibc's `getrlimit` takes without `_GNU_SOURCE`.
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)

    /// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the new soft limit.
    ///
    /// Distributions start processes with a soft limit of 1024 while allowing far more; a daemon
    /// that holds one descriptor per connection calls this once at start. An unlimited hard limit is
    /// not a valid soft limit for descriptors, so the soft limit then becomes the kernel's ceiling,
    /// `fs.nr_open`.
    @discardableResult
    public static func raiseToHardLimit() throws(IOError) -> UInt64 {
        var limit = rlimit()
        _ = try Posix.call("getrlimit") { getrlimit(resource, &limit) }
        var target = limit.rlim_max
        if target == coordd_rlim_infinity() { target = rlim_t(try kernelCeiling()) }
        guard limit.rlim_cur < target else { return UInt64(limit.rlim_cur) }
        limit.rlim_cur = target
        _ = try Posix.call("setrlimit") { setrlimit(resource, &limit) }
        return UInt64(limit.rlim_cur)
    }

    /// The current soft and hard limits.
    public static func current() throws(IOError) -> (soft: UInt64, hard: UInt64) {
        var limit = rlimit()
        _ = try Posix.call("getrlimit") { getrlimit(resource, &limit) }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }

    /// `/proc/sys/fs/nr_open`: the most descriptors the kernel lets one process have.
    private static func kernelCeiling() throws(IOError) -> UInt64 {
        let fd = try Posix.open("/proc/sys/fs/nr_open", O_RDONLY)
        defer { try? Posix.close(fd) }
        var text = [UInt8](repeating: 0, count: 32)
        let count = try text.withUnsafeMutableBytes { buffer in
            Result { () throws(IOError) in try Posix.pread(fd, buffer, offset: 0) }
        }.get()
        let digits = text.prefix(count).prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard let value = UInt64(String(decoding: digits, as: UTF8.self)) else {
            throw IOError(errno: EINVAL, call: "read /proc/sys/fs/nr_open")
        }
        return value
    }
}
