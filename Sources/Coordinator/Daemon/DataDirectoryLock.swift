#if canImport(Glibc)
import Glibc
#endif
import StreamCore
import Synchronization

/// The one process that may use a data directory: an exclusive lock on the file `coordd.lock` in it,
/// holding the holder's pid so that a refused process can name it.
///
/// The lock is a POSIX record lock, which belongs to the process (``Posix/tryLockForProcess(_:)``): a
/// child this process starts never holds it, and the kernel drops it when the holder ends, whichever way
/// (a SIGKILL included), so there is never a stale lock to clean up; the pid left in the file by a
/// process that is gone is simply overwritten by the next holder. Since such a lock does not exclude its
/// own process, the directories this process holds are also kept in a table, checked before the file is
/// opened (closing any descriptor of the file would drop the lock).
public final class DataDirectoryLock: Sendable {
    /// The lock file's name inside the data directory.
    public static let fileName = "coordd.lock"
    /// The locked directory.
    public let directory: String
    private let descriptor: Mutex<Int32?>
    /// The directories this process holds, by the path they were locked with.
    private static let held = Mutex<Set<String>>([])

    private init(directory: String, fd: Int32) {
        self.directory = directory
        descriptor = Mutex(fd)
    }

    /// Takes the lock on `directory` (which must exist) and writes this process's pid into the lock
    /// file. Throws ``DataDirectoryLockError/held(directory:pid:)`` at once when another process, or this
    /// one, holds it.
    public static func acquire(directory: String) throws(DataDirectoryLockError) -> DataDirectoryLock {
        guard held.withLock({ $0.insert(directory).inserted }) else { throw .held(directory: directory, pid: getpid()) }
        do {
            return try lock(directory)
        } catch {
            _ = held.withLock { $0.remove(directory) }
            throw error
        }
    }

    private static func lock(_ directory: String) throws(DataDirectoryLockError) -> DataDirectoryLock {
        let path = directory + "/" + fileName
        let fd: Int32
        do {
            fd = try Posix.open(path, O_RDWR | O_CREAT)
        } catch {
            throw .unusable(directory: directory, error)
        }
        let locked: Bool
        do throws(IOError) {
            locked = try Posix.tryLockForProcess(fd)
            if locked {
                try Posix.ftruncate(fd, 0)
                try writePid(fd)
            }
        } catch {
            try? Posix.close(fd)
            throw .unusable(directory: directory, error)
        }
        guard locked else {
            let holder = readPid(fd)
            try? Posix.close(fd)
            throw .held(directory: directory, pid: holder)
        }
        return DataDirectoryLock(directory: directory, fd: fd)
    }

    /// Writes this process's pid (and a newline) at the start of the lock file.
    private static func writePid(_ fd: Int32) throws(IOError) {
        var failure: IOError?
        Array("\(getpid())\n".utf8).withUnsafeBytes { bytes in
            do throws(IOError) {
                try Posix.pwriteAll(fd, bytes, offset: 0)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// The pid a holder wrote into the lock file, if it is there.
    private static func readPid(_ fd: Int32) -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { buffer in (try? Posix.pread(fd, buffer, offset: 0)) ?? 0 }
        let text = String(decoding: bytes[0..<count], as: UTF8.self).trimmingSuffix(while: \.isWhitespace)
        return Int32(text)
    }

    /// Gives the lock up (closing the lock file); the file itself stays. Idempotent.
    public func release() {
        if let fd = descriptor.withLock({ fd -> Int32? in
            defer { fd = nil }
            return fd
        }) {
            try? Posix.close(fd)
            _ = Self.held.withLock { $0.remove(directory) }
        }
    }

    deinit { release() }
}

/// Why a data directory could not be locked.
public enum DataDirectoryLockError: Error, Sendable, CustomStringConvertible {
    /// Another process holds the lock: a daemon (or a check) is using the directory.
    case held(directory: String, pid: Int32?)
    /// The lock file cannot be opened, locked or written.
    case unusable(directory: String, IOError)

    public var description: String {
        switch self {
        case .held(let directory, let pid):
            "data directory \(directory) is in use by another coordd process (pid \(pid.map(String.init) ?? "unknown"))"
        case .unusable(let directory, let error):
            "cannot lock data directory \(directory) (\(directory)/\(DataDirectoryLock.fileName)): \(error)"
        }
    }
}

extension String {
    /// The string without trailing characters matching `predicate`.
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> String {
        var end = endIndex
        while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
        return String(self[..<end])
    }
}

extension DaemonResources {
    /// Locks the data directory of file storage (nil for memory storage, which has none) before any
    /// store opens, so a second daemon on the same directory is refused before it reads a log.
    public static func lockDataDirectory(_ configuration: DaemonConfiguration) throws(DaemonStartError) -> DataDirectoryLock? {
        guard configuration.storage == .file else { return nil }
        do {
            return try DataDirectoryLock.acquire(directory: configuration.dataDirectory)
        } catch {
            throw DaemonStartError(.environment, error.description)
        }
    }
}
