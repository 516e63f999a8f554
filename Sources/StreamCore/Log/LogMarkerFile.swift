#if canImport(Glibc)
import Glibc
#endif

/// The small side files of a log directory (`clean-shutdown`, `base`): written whole under a temporary
/// name, flushed, renamed into place and the directory synced, so a reader finds the old contents or
/// the new ones, never a mix.
enum LogMarkerFile {
    /// Writes `bytes` as `directory/name`, durably and atomically.
    static func write(_ bytes: [UInt8], name: String, in directory: String) throws(IOError) {
        let path = directory + "/" + name
        let temporary = path + ".tmp"
        let fd = try Posix.open(temporary, O_WRONLY | O_CREAT | O_TRUNC)
        do throws(IOError) {
            try LogFileIO.writeAll(fd, bytes, at: 0)
            try Posix.fdatasync(fd)
            try Posix.close(fd)
        } catch {
            try? Posix.close(fd)
            throw error
        }
        try Posix.rename(temporary, path)
        try Posix.syncDirectory(directory)
    }

    /// Up to `limit` bytes of `directory/name`, or nil if there is no such file.
    static func read(name: String, in directory: String, limit: Int) throws(IOError) -> [UInt8]? {
        let fd: Int32
        do throws(IOError) {
            fd = try Posix.open(directory + "/" + name, O_RDONLY)
        } catch where error.errno == ENOENT {
            return nil
        }
        defer { try? Posix.close(fd) }
        var bytes = [UInt8](repeating: 0, count: limit)
        let count = try LogFileIO.readFully(fd, into: &bytes, at: 0)
        return Array(bytes[0..<count])
    }

    /// Removes `directory/name` (and any temporary an interrupted write left), durably.
    static func remove(name: String, in directory: String) throws(IOError) {
        let path = directory + "/" + name
        try Posix.unlink(path)
        try Posix.unlink(path + ".tmp")
        try Posix.syncDirectory(directory)
    }

    /// `bytes` followed by their CRC-32C (little-endian).
    static func sealed(_ bytes: [UInt8]) -> [UInt8] {
        var sealed = bytes
        LogFormat.appendLE(CRC32C.checksum(bytes), to: &sealed)
        return sealed
    }

    /// The bytes before the trailing CRC-32C if `bytes` are `size` long, start with `magic` and the
    /// checksum matches; nil otherwise.
    static func unsealed(_ bytes: [UInt8], magic: [UInt8], size: Int) -> [UInt8]? {
        guard bytes.count == size, bytes.starts(with: magic) else { return nil }
        let body = Array(bytes[0..<(size - 4)])
        let stored = bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: size - 4, as: UInt32.self)) }
        return stored == CRC32C.checksum(body) ? body : nil
    }
}
