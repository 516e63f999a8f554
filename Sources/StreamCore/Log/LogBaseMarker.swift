/// The number of a log's first file, once a checkpoint has made the files before it unnecessary.
///
/// Written (atomically, see ``LogMarkerFile``) only after every group of the checkpoint that starts
/// that file is durable, and before any older file is removed: so whatever a crash interrupts, the
/// files from the base on hold the checkpoint and everything after it, and older files still present
/// are leftovers that the next open removes.
struct LogBaseMarker: Hashable {
    /// The first file of the log.
    var file: UInt32

    static let magic: [UInt8] = Array("coordbas".utf8)
    /// magic (8) + file (4) + CRC-32C of the preceding bytes (4).
    static let encodedSize = 16

    var encoded: [UInt8] {
        var bytes = Self.magic
        LogFormat.appendLE(file, to: &bytes)
        return LogMarkerFile.sealed(bytes)
    }

    init(file: UInt32) {
        self.file = file
    }

    /// Decodes a marker; nil if `bytes` are not an intact one.
    init?(decoding bytes: [UInt8]) {
        guard let body = LogMarkerFile.unsealed(bytes, magic: Self.magic, size: Self.encodedSize) else { return nil }
        file = body.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) }
    }

    /// Writes the marker durably and atomically.
    func write(in directory: String) throws(IOError) {
        try LogMarkerFile.write(encoded, name: LogFormat.baseMarkerName, in: directory)
    }

    /// The marker in `directory`; nil if there is none. A marker that is there but not intact was not
    /// torn by a crash (it is renamed into place whole), so it is an error that names the file.
    static func read(in directory: String) throws(StreamsError) -> LogBaseMarker? {
        let bytes: [UInt8]?
        do throws(IOError) {
            bytes = try LogMarkerFile.read(name: LogFormat.baseMarkerName, in: directory, limit: encodedSize + 1)
        } catch {
            throw LogErrors.io("reading \(directory)/\(LogFormat.baseMarkerName)", error)
        }
        guard let bytes else { return nil }
        guard let marker = LogBaseMarker(decoding: bytes) else {
            throw LogErrors.corrupt(directory + "/" + LogFormat.baseMarkerName, 0, "not an intact base marker")
        }
        return marker
    }
}
