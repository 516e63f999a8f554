/// Strict UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), as
/// RFC 6455 §8.1 requires of text payloads and close reasons.
///
/// Mux messages are JSON with base64 payloads, so nearly every byte is ASCII: eight bytes are
/// checked per step until a non-ASCII byte appears, and only multi-byte sequences are decoded.
enum UTF8Validation {
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// True when `bytes` is well-formed UTF-8.
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let count = bytes.count
        var i = 0
        while i < count {
            while i &+ 8 <= count, base.loadUnaligned(fromByteOffset: i, as: UInt64.self) & highBits == 0 {
                i &+= 8
            }
            guard i < count else { return true }
            let lead = base.load(fromByteOffset: i, as: UInt8.self)
            if lead < 0x80 {
                i &+= 1
                continue
            }
            // Allowed range of the second byte, and the sequence length, per RFC 3629 §4.
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return false
            }
            guard i &+ length <= count else { return false }
            let second = base.load(fromByteOffset: i &+ 1, as: UInt8.self)
            guard second >= low && second <= high else { return false }
            var k = 2
            while k < length {
                guard base.load(fromByteOffset: i &+ k, as: UInt8.self) & 0xC0 == 0x80 else { return false }
                k &+= 1
            }
            i &+= length
        }
        return true
    }

    /// True when `bytes` is well-formed UTF-8.
    static func isValid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { isValid($0) }
    }
}
