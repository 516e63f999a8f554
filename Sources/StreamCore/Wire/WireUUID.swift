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
        var high: UInt64 = 0
        var low: UInt64 = 0
        var nibbles = 0
        var position = 0
        for c in text.utf8 {
            defer { position += 1 }
            if position == 8 || position == 13 || position == 18 || position == 23 {
                guard c == UInt8(ascii: "-") else { return nil }
                continue
            }
            let value: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            if nibbles < 16 { high = high << 4 | UInt64(value) } else { low = low << 4 | UInt64(value) }
            nibbles += 1
        }
        guard position == 36, nibbles == 32 else { return nil }
        self.init(high: high, low: low)
    }

    /// Canonical lowercase hyphenated text.
    public var description: String {
        var out: [UInt8] = []
        out.reserveCapacity(36)
        appendText(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Appends the canonical text (36 ASCII bytes) to `out`.
    public func appendText(to out: inout [UInt8]) {
        for i in 0..<32 {
            if i == 8 || i == 12 || i == 16 || i == 20 { out.append(UInt8(ascii: "-")) }
            let word = i < 16 ? high : low
            let shift = UInt64(60 - 4 * (i % 16))
            out.append(Self.hexDigits[Int((word >> shift) & 0xF)])
        }
    }

    public static func < (a: WireUUID, b: WireUUID) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }
}
