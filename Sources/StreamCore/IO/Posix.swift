#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: which call, and the `errno` it left.
public struct IOError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The `errno` value.
    public var errno: Int32
    /// The name of the call that failed, e.g. `fdatasync`.
    public var call: String

    /// Creates an error for `call` failing with `errno`.
    public init(errno: Int32, call: String) {
        self.errno = errno
        self.call = call
    }

    public var description: String {
        "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// The outcome of a non-blocking call: done with a value, or it would have blocked.
public enum IOResult<Value: Sendable>: Sendable {
    /// The call completed and returned `Value`.
    case processed(Value)
    /// The call returned `EAGAIN` / `EWOULDBLOCK`; wait for readiness and try again.
    case wouldBlock
}

/// The one place coordd makes system calls.
///
/// Every call retries on `EINTR`, reports `EAGAIN` as ``IOResult/wouldBlock`` where the caller asked for
/// non-blocking semantics, traps on `EBADF` / `EFAULT` (a closed or wild descriptor or pointer is a
/// programming error, never an operating condition), and throws ``IOError`` for everything else.
public enum Posix {
    /// Runs `body` (a system call returning -1 on failure) until it does not fail with `EINTR`.
    @inlinable
    public static func call<T: BinaryInteger>(_ name: StaticString, _ body: () -> T) throws(IOError) -> T {
        while true {
            let result = body()
            if result != -1 { return result }
            let err = errno
            if err == EINTR { continue }
            preconditionFailureOnProgrammingError(err, name)
            throw IOError(errno: err, call: String(describing: name))
        }
    }

    /// Like ``call(_:_:)`` but reports `EAGAIN` / `EWOULDBLOCK` as ``IOResult/wouldBlock``.
    @inlinable
    public static func nonBlocking<T: BinaryInteger & Sendable>(
        _ name: StaticString, _ body: () -> T
    ) throws(IOError) -> IOResult<T> {
        while true {
            let result = body()
            if result != -1 { return .processed(result) }
            let err = errno
            if err == EINTR { continue }
            if err == EAGAIN || err == EWOULDBLOCK { return .wouldBlock }
            preconditionFailureOnProgrammingError(err, name)
            throw IOError(errno: err, call: String(describing: name))
        }
    }

    @usableFromInline
    static func preconditionFailureOnProgrammingError(_ err: Int32, _ name: StaticString) {
        precondition(err != EBADF && err != EFAULT, "\(name) failed with errno \(err): descriptor or pointer misuse")
    }

    // MARK: Files

    /// `open(2)` with `O_CLOEXEC` always added.
    public static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) throws(IOError) -> Int32 {
        try call("open") { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// `close(2)`. `EINTR` is not retried: on Linux the descriptor is released even then.
    public static func close(_ fd: Int32) throws(IOError) {
        if Glibc.close(fd) == -1 {
            let err = errno
            if err == EINTR { return }
            preconditionFailureOnProgrammingError(err, "close")
            throw IOError(errno: err, call: "close")
        }
    }

    /// `pread(2)` into `buffer`; returns the bytes read (0 at end of file).
    public static func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, offset: Int64) throws(IOError) -> Int {
        try call("pread") { Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    /// `pwrite(2)` of all of `buffer` at `offset`, looping over short writes.
    public static func pwriteAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, offset: Int64) throws(IOError) {
        var done = 0
        while done < buffer.count {
            let n = try call("pwrite") {
                Glibc.pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            }
            done += n
        }
    }

    /// `write(2)` of all of `buffer` to `fd`, looping over short writes and retrying `EINTR`: the one
    /// write loop for streams (standard output and error, pipes). A standard stream (0–2) that whoever
    /// started the process closed is an operating condition, so its `EBADF` is thrown rather than trapped.
    public static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(IOError) {
        var done = 0
        while done < buffer.count {
            let written = Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)  // count > 0 here
            if written > 0 {
                done += written
                continue
            }
            let err = written == 0 ? EIO : errno  // write(2) returns 0 only for an empty buffer
            if err == EINTR { continue }
            if !(err == EBADF && fd <= 2) { preconditionFailureOnProgrammingError(err, "write") }
            throw IOError(errno: err, call: "write")
        }
    }

    /// `fdatasync(2)`: the data (and the size, if it changed) of `fd` reaches stable storage.
    public static func fdatasync(_ fd: Int32) throws(IOError) {
        _ = try call("fdatasync") { Glibc.fdatasync(fd) }
    }

    /// `fsync(2)`: used on directories so that created or renamed entries are durable.
    public static func fsync(_ fd: Int32) throws(IOError) {
        _ = try call("fsync") { Glibc.fsync(fd) }
    }

    /// `ftruncate(2)`.
    public static func ftruncate(_ fd: Int32, _ length: Int64) throws(IOError) {
        _ = try call("ftruncate") { Glibc.ftruncate(fd, off_t(length)) }
    }

    /// The size of the open file `fd`, from `fstat(2)`.
    public static func fileSize(_ fd: Int32) throws(IOError) -> Int64 {
        var st = stat()
        _ = try call("fstat") { Glibc.fstat(fd, &st) }
        return Int64(st.st_size)
    }

    /// `mkdir(2)`; an existing directory is not an error.
    public static func makeDirectory(_ path: String, _ mode: mode_t = 0o755) throws(IOError) {
        if Glibc.mkdir(path, mode) == -1 {
            let err = errno
            if err == EEXIST { return }
            throw IOError(errno: err, call: "mkdir")
        }
    }

    /// `rename(2)`.
    public static func rename(_ from: String, _ to: String) throws(IOError) {
        _ = try call("rename") { Glibc.rename(from, to) }
    }

    /// `unlink(2)`; a missing file is not an error.
    public static func unlink(_ path: String) throws(IOError) {
        if Glibc.unlink(path) == -1 {
            let err = errno
            if err == ENOENT { return }
            throw IOError(errno: err, call: "unlink")
        }
    }

    /// Names in a directory (without `.` and `..`), unsorted.
    public static func listDirectory(_ path: String) throws(IOError) -> [String] {
        guard let dir = opendir(path) else { throw IOError(errno: errno, call: "opendir") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { ptr in
                ptr.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// True when `fd` has input to read (or has reached its end) right now, without waiting: `poll`
    /// with a zero timeout. False for a negative descriptor or when `poll` fails.
    public static func hasInput(_ fd: Int32) -> Bool {
        guard fd >= 0 else { return false }
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return (try? call("poll") { poll(&poller, 1, 0) }).map { $0 > 0 } ?? false
    }

    /// This machine's host name (`gethostname`), or nil when it cannot be read.
    public static func hostName() -> String? {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return nil }
        let text = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.isEmpty ? nil : text
    }

    /// Makes the entries of directory `path` durable (after creating, renaming or removing files in it).
    public static func syncDirectory(_ path: String) throws(IOError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { try? close(fd) }
        try fsync(fd)
    }
}
