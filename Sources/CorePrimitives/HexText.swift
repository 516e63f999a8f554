/// Lowercase hexadecimal text: the one digit rule and the one UUID text writer of the project, used by
/// wire UUIDs (every frame carries two), engine worker ids, JSON escapes and cursor keys.
public enum HexText {
    /// The lowercase hex digit of the low four bits of `nibble`, worked out instead of looked up: a table
    /// kept in a static costs a once-check and a retain at every use.
    @inlinable @inline(__always)
    public static func digit(_ nibble: UInt8) -> UInt8 {
        let value = nibble & 0x0F
        return value < 10 ? 0x30 &+ value : 0x57 &+ value  // "0"…"9", then "a" (0x61) for 10
    }

    /// Bytes of a UUID's canonical text (8-4-4-4-12 digits and four hyphens).
    public static let uuidCount = 36

    /// Writes the canonical lowercase hyphenated text of the UUID whose big-endian halves are `high` and
    /// `low` (``uuidCount`` bytes) to `out`, a byte (two digits) at a time.
    @inlinable
    public static func writeUUID(high: UInt64, low: UInt64, to out: UnsafeMutableRawPointer) {
        var position = 0
        for index in 0..<16 {
            if index == 4 || index == 6 || index == 8 || index == 10 {
                out.storeBytes(of: 0x2D, toByteOffset: position, as: UInt8.self)  // "-"
                position += 1
            }
            let word = index < 8 ? high : low
            let byte = UInt8(truncatingIfNeeded: word >> UInt64(56 - 8 * (index & 7)))
            out.storeBytes(of: digit(byte >> 4), toByteOffset: position, as: UInt8.self)
            out.storeBytes(of: digit(byte), toByteOffset: position + 1, as: UInt8.self)
            position += 2
        }
    }

    /// The canonical lowercase hyphenated text of a UUID, as a string.
    public static func uuid(high: UInt64, low: UInt64) -> String {
        String(unsafeUninitializedCapacity: uuidCount) { buffer in
            writeUUID(high: high, low: low, to: UnsafeMutableRawPointer(buffer.baseAddress!))
            return uuidCount
        }
    }
}
