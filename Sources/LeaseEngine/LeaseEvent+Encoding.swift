// Binary layout, version 1. Integers are little-endian; a string is a UInt32 byte count then UTF-8 bytes.
//
//   byte 0     version (high nibble, 1) | kind (low nibble: 1 granted, 2 released, 3 expired)
//   granted    key, holder, token UInt64, ttlMs Int64, flag UInt8 (0 or 1), [boundTo UInt64 when flag is 1]
//   released   key, holder, token UInt64
//   expired    key, token UInt64
//
// One byte carries both version and kind because events are small and numerous; sixteen kinds and
// fifteen more versions are far more than the format will need.

private let formatVersion: UInt8 = 1
private let kindGranted: UInt8 = 1
private let kindReleased: UInt8 = 2
private let kindExpired: UInt8 = 3

extension LeaseEvent {
    /// The event's compact, versioned binary form, as appended to the log.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        switch self {
        case .granted(let key, let holder, let token, let ttlMs, let boundTo):
            bytes.reserveCapacity(1 + 8 + key.utf8.count + holder.utf8.count + 8 + 8 + 1 + 8)
            bytes.append(formatVersion << 4 | kindGranted)
            appendString(key, to: &bytes)
            appendString(holder, to: &bytes)
            appendInteger(token, to: &bytes)
            appendInteger(UInt64(bitPattern: ttlMs), to: &bytes)
            if let boundTo {
                bytes.append(1)
                appendInteger(boundTo, to: &bytes)
            } else {
                bytes.append(0)
            }
        case .released(let key, let holder, let token):
            bytes.reserveCapacity(1 + 8 + key.utf8.count + holder.utf8.count + 8)
            bytes.append(formatVersion << 4 | kindReleased)
            appendString(key, to: &bytes)
            appendString(holder, to: &bytes)
            appendInteger(token, to: &bytes)
        case .expired(let key, let token):
            bytes.reserveCapacity(1 + 4 + key.utf8.count + 8)
            bytes.append(formatVersion << 4 | kindExpired)
            appendString(key, to: &bytes)
            appendInteger(token, to: &bytes)
        }
        return bytes
    }

    /// Decodes an event produced by `encoded()`. Any other input throws; it never traps.
    public init(decoding bytes: some Collection<UInt8>) throws(LeaseEventDecodingError) {
        var reader = ByteReader(Array(bytes))
        let header = try reader.byte()
        guard header >> 4 == formatVersion else { throw .unsupportedVersion(header >> 4) }
        switch header & 0x0F {
        case kindGranted:
            let key = try reader.string()
            let holder = try reader.string()
            let token = try reader.uint64()
            let ttlMs = Int64(bitPattern: try reader.uint64())
            guard ttlMs > 0 else { throw .nonPositiveTTL(ttlMs) }
            let flag = try reader.byte()
            let boundTo: UInt64?
            switch flag {
            case 0: boundTo = nil
            case 1: boundTo = try reader.uint64()
            default: throw .invalidFlag(flag)
            }
            self = .granted(key: key, holder: holder, token: token, ttlMs: ttlMs, boundTo: boundTo)
        case kindReleased:
            let key = try reader.string()
            let holder = try reader.string()
            self = .released(key: key, holder: holder, token: try reader.uint64())
        case kindExpired:
            let key = try reader.string()
            self = .expired(key: key, token: try reader.uint64())
        default:
            throw .unknownKind(header & 0x0F)
        }
        guard reader.remaining == 0 else { throw .trailingBytes(reader.remaining) }
    }
}

func appendInteger(_ value: UInt64, to bytes: inout [UInt8]) {
    for shift in stride(from: 0, to: 64, by: 8) {
        bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
    }
}

func appendString(_ string: String, to bytes: inout [UInt8]) {
    let utf8 = string.utf8
    // Keys and holders are bounded by LeaseLimits far below 4 GiB; a longer string is a programmer error.
    precondition(utf8.count <= Int(UInt32.max), "lease string of \(utf8.count) bytes cannot be encoded")
    let count = UInt32(utf8.count)
    for shift in stride(from: 0, to: 32, by: 8) {
        bytes.append(UInt8(truncatingIfNeeded: count >> UInt32(shift)))
    }
    bytes.append(contentsOf: utf8)
}

/// Reads fields from the front of a byte array, checking every length against what remains.
struct ByteReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func byte() throws(LeaseEventDecodingError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint64() throws(LeaseEventDecodingError) -> UInt64 {
        guard remaining >= 8 else { throw .truncated }
        var value: UInt64 = 0
        for index in 0..<8 {
            value |= UInt64(bytes[offset + index]) << UInt64(8 * index)
        }
        offset += 8
        return value
    }

    mutating func string() throws(LeaseEventDecodingError) -> String {
        guard remaining >= 4 else { throw .truncated }
        var count = 0
        for index in 0..<4 {
            count |= Int(bytes[offset + index]) << (8 * index)
        }
        offset += 4
        guard remaining >= count else { throw .truncated }
        let slice = bytes[offset..<(offset + count)]
        offset += count
        guard let string = String(validating: slice, as: UTF8.self) else { throw .invalidUTF8 }
        return string
    }
}
