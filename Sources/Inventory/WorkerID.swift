import CorePrimitives

/// A worker's identity: the 16 bytes of its UUID, held as two big-endian halves.
///
/// Two `UInt64`s instead of a byte array keep the registry's keys inline (no heap allocation) and make
/// comparison two integer compares. Comparing `high` then `low` is exactly the byte order of the UUID,
/// which is the order streamkit sorts workers in (streamkit v1 §4.3).
public struct WorkerID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Bytes 0–7 of the UUID, most significant byte first.
    public let high: UInt64
    /// Bytes 8–15 of the UUID, most significant byte first.
    public let low: UInt64

    /// Creates an id from its two big-endian halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Creates an id from exactly 16 UUID bytes; nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 {
                high = high << 8 | UInt64(byte)
            } else {
                low = low << 8 | UInt64(byte)
            }
        }
        self.init(high: high, low: low)
    }

    /// The 16 UUID bytes in wire order.
    public var bytes: [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(16)
        for half in [high, low] {
            for shift in stride(from: 56, through: 0, by: -8) {
                result.append(UInt8(truncatingIfNeeded: half >> UInt64(shift)))
            }
        }
        return result
    }

    /// Orders ids by their bytes, most significant first.
    public static func < (lhs: WorkerID, rhs: WorkerID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    /// The canonical lowercase hyphenated UUID text (8-4-4-4-12), as used on the wire and in messages.
    public var description: String { HexText.uuid(high: high, low: low) }
}
