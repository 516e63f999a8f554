/// The record of a clean shutdown: which file was last and exactly how long it was.
///
/// `close()` writes it after the last batch is durable; `open` reads it and removes it before any
/// append. When it matches the files, the log was not interrupted, so a torn tail cannot be the
/// result of a crash: recovery then reports damage at the tail as an error instead of cutting it off.
struct LogCleanMarker: Hashable {
    /// The last file's number.
    var file: UInt32
    /// The last file's size at shutdown.
    var size: UInt64
    /// The batch number the next write would have used.
    var nextBatch: UInt64

    static let magic: [UInt8] = Array("coordcln".utf8)
    /// magic (8) + file (4) + size (8) + next batch (8) + CRC-32C of the preceding bytes (4).
    static let encodedSize = 32

    var encoded: [UInt8] {
        var bytes = Self.magic
        LogFormat.appendLE(file, to: &bytes)
        LogFormat.appendLE(size, to: &bytes)
        LogFormat.appendLE(nextBatch, to: &bytes)
        return LogMarkerFile.sealed(bytes)
    }

    /// Decodes a marker; nil if `bytes` are not an intact one.
    init?(decoding bytes: [UInt8]) {
        guard let body = LogMarkerFile.unsealed(bytes, magic: Self.magic, size: Self.encodedSize) else { return nil }
        (file, size, nextBatch) = body.withUnsafeBytes { raw in
            (
                UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)),
                UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 12, as: UInt64.self)),
                UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 20, as: UInt64.self))
            )
        }
    }

    init(file: UInt32, size: UInt64, nextBatch: UInt64) {
        self.file = file
        self.size = size
        self.nextBatch = nextBatch
    }

    /// Writes the marker durably: to a temporary name, flushed, then renamed into place.
    func write(in directory: String) throws(IOError) {
        try LogMarkerFile.write(encoded, name: LogFormat.cleanMarkerName, in: directory)
    }

    /// The marker in `directory`, or nil if there is none or it is not intact.
    static func read(in directory: String) throws(IOError) -> LogCleanMarker? {
        try LogMarkerFile.read(name: LogFormat.cleanMarkerName, in: directory, limit: encodedSize + 1)
            .flatMap(LogCleanMarker.init(decoding:))
    }

    /// Removes the marker (and any temporary left by an interrupted write), durably.
    static func remove(in directory: String) throws(IOError) {
        try LogMarkerFile.remove(name: LogFormat.cleanMarkerName, in: directory)
    }
}
