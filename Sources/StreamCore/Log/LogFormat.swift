/// The on-disk layout of the log: file names, the file header, and record frames.
///
/// A file is a 16-byte header followed by frames. A frame is
///
///     length  u32 LE   payload byte count
///     crc     u32 LE   CRC-32C over length, kind, flags and payload (everything but itself)
///     kind    u8
///     flags   u8       bit 0: commit frame; other bits must be zero
///     payload length bytes
///
/// Each write batch (one or more whole `append` groups) ends with a commit frame: flags = commit,
/// kind 0, payload = batch number (u64 LE, consecutive across the whole log) and the number of record
/// frames in the batch (u32 LE). Records count only once their batch's commit frame is intact, which
/// is what makes every group all-or-nothing after a crash. The checksum covers the length so that a
/// damaged length is caught instead of misframing everything after it.
enum LogFormat {
    /// The first eight bytes of every log file.
    static let magic: [UInt8] = Array("coordlog".utf8)
    /// Bumped on any incompatible change to the layout.
    static let version: UInt32 = 1
    /// magic (8), version (u32 LE), the file's own number (u32 LE, catches a renamed or misplaced file).
    static let fileHeaderSize = 16
    /// length (4) + crc (4) + kind (1) + flags (1).
    static let frameHeaderSize = 10
    /// The flag bit that marks a batch's commit frame.
    static let commitFlag: UInt8 = 1
    /// batch number (8) + record count (4).
    static let commitPayloadSize = 12
    /// A whole commit frame.
    static let commitFrameSize = frameHeaderSize + commitPayloadSize
    /// The file that records a clean shutdown (see ``LogCleanMarker``).
    static let cleanMarkerName = "clean-shutdown"
    /// The file that names the log's first file after a checkpoint (see ``LogBaseMarker``).
    static let baseMarkerName = "base"

    // MARK: File names

    /// `00000001.log` for 1: eight digits so names sort like numbers.
    static func fileName(_ number: UInt32) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits + ".log"
    }

    /// The number in a log file's name, or nil for any other name.
    static func fileNumber(fromName name: String) -> UInt32? {
        let utf8 = Array(name.utf8)
        guard utf8.count == 12, name.hasSuffix(".log") else { return nil }
        var value: UInt64 = 0
        for byte in utf8[0..<8] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
        }
        guard value >= 1, value <= UInt64(UInt32.max) else { return nil }
        return UInt32(value)
    }

    // MARK: File header

    /// The header of file `number`.
    static func fileHeader(number: UInt32) -> [UInt8] {
        var bytes = magic
        appendLE(version, to: &bytes)
        appendLE(number, to: &bytes)
        return bytes
    }

    /// True when `bytes` (at least ``fileHeaderSize`` of them) are the header of file `number`.
    static func isValidFileHeader(_ bytes: UnsafeRawBufferPointer, number: UInt32) -> Bool {
        guard bytes.count >= fileHeaderSize else { return false }
        return fileHeader(number: number).withUnsafeBytes { expected in
            expected.elementsEqual(UnsafeRawBufferPointer(rebasing: bytes[0..<fileHeaderSize]))
        }
    }

    // MARK: Frames

    /// Appends one frame carrying `payload` to `buffer`.
    static func appendFrame(kind: UInt8, flags: UInt8, payload: UnsafeRawBufferPointer, to buffer: inout [UInt8]) {
        let start = buffer.count
        appendLE(UInt32(payload.count), to: &buffer)
        appendLE(UInt32(0), to: &buffer)
        buffer.append(kind)
        buffer.append(flags)
        buffer.append(contentsOf: payload)
        buffer.withUnsafeMutableBytes { all in
            let frame = UnsafeMutableRawBufferPointer(rebasing: all[start...])
            let crc = frameChecksum(UnsafeRawBufferPointer(frame))
            frame.storeBytes(of: crc.littleEndian, toByteOffset: 4, as: UInt32.self)
        }
    }

    /// Appends the commit frame that closes batch `batch` of `recordCount` record frames.
    static func appendCommitFrame(batch: UInt64, recordCount: UInt32, to buffer: inout [UInt8]) {
        var payload: [UInt8] = []
        payload.reserveCapacity(commitPayloadSize)
        appendLE(batch, to: &payload)
        appendLE(recordCount, to: &payload)
        payload.withUnsafeBytes { appendFrame(kind: 0, flags: commitFlag, payload: $0, to: &buffer) }
    }

    /// The checksum a whole frame (header and payload) should carry: over everything but the crc field.
    static func frameChecksum(_ frame: UnsafeRawBufferPointer) -> UInt32 {
        var state = CRC32C.update(CRC32C.initial, UnsafeRawBufferPointer(rebasing: frame[0..<4]))
        state = CRC32C.update(state, UnsafeRawBufferPointer(rebasing: frame[8...]))
        return CRC32C.finalize(state)
    }

    /// The payload length a frame header declares.
    @inline(__always)
    static func payloadLength(_ header: UnsafeRawPointer) -> Int {
        Int(UInt32(littleEndian: header.loadUnaligned(as: UInt32.self)))
    }

    /// True when `frame` (exactly one frame's bytes) carries a matching checksum and known flags.
    static func isIntact(_ frame: UnsafeRawBufferPointer) -> Bool {
        let stored = UInt32(littleEndian: frame.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        return frame[9] & ~commitFlag == 0 && stored == frameChecksum(frame)
    }

    /// The batch number and record count of an intact commit frame, or nil if `frame` is not one.
    static func commitContents(_ frame: UnsafeRawBufferPointer) -> (batch: UInt64, recordCount: UInt32)? {
        guard frame.count == commitFrameSize, frame[8] == 0, frame[9] == commitFlag else { return nil }
        let batch = UInt64(littleEndian: frame.loadUnaligned(fromByteOffset: frameHeaderSize, as: UInt64.self))
        let count = UInt32(littleEndian: frame.loadUnaligned(fromByteOffset: frameHeaderSize + 8, as: UInt32.self))
        return (batch, count)
    }

    /// Appends `value` in little-endian byte order.
    static func appendLE<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
