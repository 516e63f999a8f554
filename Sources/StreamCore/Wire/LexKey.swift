import CorePrimitives

/// Cursor keys in the `fgrzl/lexkey` v0.1.1 format (streamkit v1 §6.6).
///
/// Parts are joined with one 0x00 byte; strings are raw UTF-8; `Int64` is 8 bytes big-endian of the
/// value XOR 0x8000000000000000 (so negative sorts before positive); `UInt64` is 8 bytes big-endian. On the
/// wire a key is lowercase hex, and "" means the empty key.
public struct LexKey: Hashable, Comparable, Sendable {
    /// The encoded bytes.
    public private(set) var bytes: [UInt8]

    /// One part of a key.
    public enum Part: Sendable {
        case string(String)
        case int64(Int64)
        case uint64(UInt64)
    }

    /// Encodes `parts` joined by 0x00.
    public init(_ parts: [Part]) {
        bytes = []
        for (i, part) in parts.enumerated() {
            if i > 0 { bytes.append(0) }
            switch part {
            case .string(let s): bytes.append(contentsOf: s.utf8)
            case .int64(let v): Self.appendBigEndian(UInt64(bitPattern: v) ^ 0x8000_0000_0000_0000, to: &bytes)
            case .uint64(let v): Self.appendBigEndian(v, to: &bytes)
            }
        }
    }

    /// Wraps already-encoded bytes (a cursor received from a client).
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// The space-read cursor of an entry: (`DAT`, `SPACES`, space, timestamp, segment, sequence).
    public static func spaceOffset(space: String, timestamp: Int64, segment: String, sequence: UInt64) -> LexKey {
        LexKey([.string("DAT"), .string("SPACES"), .string(space), .int64(timestamp), .string(segment), .uint64(sequence)])
    }

    /// The segment-read cursor of an entry: (`DAT`, `SEGMENTS`, space, segment, sequence).
    public static func segmentOffset(space: String, segment: String, sequence: UInt64) -> LexKey {
        LexKey([.string("DAT"), .string("SEGMENTS"), .string(space), .string(segment), .uint64(sequence)])
    }

    /// `EncodeFirst`: the key followed by 0x00, the exclusive lower bound streamkit scans from.
    public var first: LexKey { LexKey(bytes: bytes + [0]) }

    /// Lowercase hex text.
    public var hex: String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(HexText.digit(b >> 4))
            out.append(HexText.digit(b))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex text (either case); nil when it is not hex of whole bytes.
    public static func decodeHex(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    public static func < (a: LexKey, b: LexKey) -> Bool {
        a.bytes.lexicographicallyPrecedes(b.bytes)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func appendBigEndian(_ value: UInt64, to out: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}
