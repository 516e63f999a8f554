import CorePrimitives

/// A UUID as streamkit puts it on the wire: 16 bytes, written lowercase and hyphenated.
///
/// The nil UUID (all zero) means "absent" in streamkit messages, because Go's `omitempty` never
/// omits a `uuid.UUID`; decoders map it to `nil`. Ordering is by the 16 bytes, which is the order
/// streamkit sorts workers in.
public struct WireUUID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Bytes 0–7, big-endian.
    public var high: UInt64
    /// Bytes 8–15, big-endian.
    public var low: UInt64

    /// Creates a UUID from its two big-endian halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The all-zero UUID.
    public static let `nil` = WireUUID(high: 0, low: 0)

    /// A random version-4 UUID.
    public static func random() -> WireUUID {
        var rng = SystemRandomNumberGenerator()
        return random(using: &rng)
    }

    /// A random version-4 UUID drawn from `generator` (seeded generators make tests repeatable).
    public static func random(using generator: inout some RandomNumberGenerator) -> WireUUID {
        let high = (generator.next() & ~0xF000) | 0x4000  // version 4
        let low = (generator.next() & ~(0xC000 << 48)) | (0x8000 << 48)  // RFC 4122 variant
        return WireUUID(high: high, low: low)
    }

    /// Creates a UUID from exactly 16 bytes.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            if i < 8 { high = high << 8 | UInt64(b) } else { low = low << 8 | UInt64(b) }
        }
        self.init(high: high, low: low)
    }

    /// The 16 bytes, big-endian.
    public var bytes: [UInt8] {
        (0..<16).map { i in UInt8(truncatingIfNeeded: (i < 8 ? high >> (56 - 8 * i) : low >> (56 - 8 * (i - 8)))) }
    }

    /// True for the all-zero UUID.
    public var isNil: Bool { high == 0 && low == 0 }

    /// Parses the canonical 8-4-4-4-12 hex form, upper or lower case (as Go's parser does).
    public init?(_ text: some StringProtocol) {
        var text = String(text)
        guard let id = text.withUTF8({ WireUUID(ascii: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = id
    }

    /// Parses the canonical 36-character form from ASCII bytes (either case): the one UUID text
    /// decoder, which every received frame and message runs.
    public init?(ascii bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 36, let id = Self.parseHex(bytes, hyphenated: true) else { return nil }
        self = id
    }

    /// Parses every form Go's `uuid.Parse` accepts, so that text streamkit takes is taken here too: the
    /// canonical form, the same wrapped in `{}` or prefixed with `urn:uuid:` (either case), or 32 hex
    /// digits without hyphens.
    public init?(anyForm text: some Collection<UInt8>) {
        let bytes = Array(text)
        let parsed = bytes.withUnsafeBytes { raw -> WireUUID? in
            switch raw.count {
            case 32:
                return Self.parseHex(raw, hyphenated: false)
            case 36:
                return WireUUID(ascii: raw)
            case 38:
                guard raw[0] == UInt8(ascii: "{"), raw[37] == UInt8(ascii: "}") else { return nil }
                return WireUUID(ascii: UnsafeRawBufferPointer(rebasing: raw[1..<37]))
            case 45:
                guard raw[..<9].map(Self.asciiLowercased).elementsEqual("urn:uuid:".utf8) else { return nil }
                return WireUUID(ascii: UnsafeRawBufferPointer(rebasing: raw[9...]))
            default:
                return nil
            }
        }
        guard let parsed else { return nil }
        self = parsed
    }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    /// 32 hex digits, with hyphens after the 8th, 12th, 16th and 20th when `hyphenated`.
    private static func parseHex(_ bytes: UnsafeRawBufferPointer, hyphenated: Bool) -> WireUUID? {
        guard hyphenated else {
            guard let high = hexWord(bytes, from: 0, count: 16), let low = hexWord(bytes, from: 16, count: 16) else { return nil }
            return WireUUID(high: high, low: low)
        }
        // The canonical layout, read group by group: 8-4-4-4-12 digits, a hyphen between groups.
        guard bytes[8] == 0x2D, bytes[13] == 0x2D, bytes[18] == 0x2D, bytes[23] == 0x2D,  // "-"
              let a = hexWord(bytes, from: 0, count: 8), let b = hexWord(bytes, from: 9, count: 4),
              let c = hexWord(bytes, from: 14, count: 4), let d = hexWord(bytes, from: 19, count: 4),
              let e = hexWord(bytes, from: 24, count: 12)
        else { return nil }
        return WireUUID(high: a << 32 | b << 16 | c, low: d << 48 | e)
    }

    /// The value of `count` hex digits (either case) starting at `start`; nil if any is not one.
    @inline(__always)
    private static func hexWord(_ bytes: UnsafeRawBufferPointer, from start: Int, count: Int) -> UInt64? {
        var word: UInt64 = 0
        var invalid = false
        for index in start..<start + count {
            let c = bytes[index]
            let digit = c &- 0x30  // "0"..."9"
            let letter = (c | 0x20) &- 0x61  // "a"..."f", either case
            invalid = invalid || (digit >= 10 && letter >= 6)
            word = word << 4 | UInt64(digit < 10 ? digit : letter &+ 10)
        }
        return invalid ? nil : word
    }

    /// Length of the canonical text.
    public static let textCount = HexText.uuidCount

    /// Canonical lowercase hyphenated text.
    public var description: String { HexText.uuid(high: high, low: low) }

    /// Appends the canonical text (36 ASCII bytes) to `out`.
    public func appendText(to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: Self.textCount))
        out.withUnsafeMutableBytes { write(to: $0.baseAddress! + start) }  // non-empty: just grown
    }

    /// Writes the canonical lowercase hyphenated text (``textCount`` bytes) to `out`; every frame sent
    /// writes two.
    @inlinable
    public func write(to out: UnsafeMutableRawPointer) {
        HexText.writeUUID(high: high, low: low, to: out)
    }

    public static func < (a: WireUUID, b: WireUUID) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }
}
