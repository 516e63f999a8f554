import Glibc

/// A cursor over JSON text in memory, for the scanners that read the one form an encoder writes straight
/// from the bytes (a mux frame, a produced record) and leave anything else to ``JSONValue/parse(_:limits:)``.
/// Each step either takes what it looks for and moves on, or returns nil/false and leaves the cursor where
/// it was. Bytes are compared as hex literals (`0x22` is `"`, `0x5C` is `\`, `0x7B`/`0x7D` are braces,
/// `0x3A` `:`, `0x2C` `,`, `0x6E 0x75 0x6C 0x6C` `null`). Inlinable: it runs for every message received.
public struct JSONCursor {
    @usableFromInline let input: UnsafeRawBufferPointer
    /// The offset of the next byte.
    public var index = 0

    /// A cursor at the start of `input`.
    @inlinable
    public init(input: UnsafeRawBufferPointer) {
        self.input = input
    }

    /// True once every byte was taken.
    @inlinable @inline(__always)
    public var atEnd: Bool { index == input.count }

    /// Skips JSON whitespace.
    @inlinable @inline(__always)
    public mutating func skipSpace() {
        while index < input.count {
            let byte = input[index]
            guard byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D else { return }
            index &+= 1
        }
    }

    /// Takes `byte`.
    @inlinable @inline(__always)
    public mutating func take(_ byte: UInt8) -> Bool {
        guard index < input.count, input[index] == byte else { return false }
        index &+= 1
        return true
    }

    /// Takes exactly the bytes of `literal`.
    @inlinable @inline(__always)
    public mutating func take(_ literal: [UInt8]) -> Bool {
        literal.withUnsafeBytes { take($0) }
    }

    /// Takes exactly the bytes of `literal`. The decoders' keys are static strings: an array kept in a
    /// static costs a once-check and a retain at every use, on every message.
    @inlinable @inline(__always)
    public mutating func take(_ literal: StaticString) -> Bool {
        literal.withUTF8Buffer { take(UnsafeRawBufferPointer($0)) }
    }

    /// Takes exactly `bytes` (compared with `memcmp`: the generic `elementsEqual` walked them one at a
    /// time through an iterator).
    @inlinable @inline(__always)
    public mutating func take(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard input.count - index >= bytes.count else { return false }
        // Non-empty `bytes` fit, so `input` is not empty either: both have addresses.
        if bytes.count > 0, memcmp(bytes.baseAddress!, input.baseAddress! + index, bytes.count) != 0 { return false }
        index &+= bytes.count
        return true
    }

    /// Takes `null`.
    @inlinable @inline(__always)
    public mutating func takeNull() -> Bool {
        guard index + 4 <= input.count, input[index] == 0x6E, input[index + 1] == 0x75, input[index + 2] == 0x6C,
            input[index + 3] == 0x6C
        else { return false }
        index &+= 4
        return true
    }

    /// A non-negative integer as the JSON parser reads one into an unsigned field: digits without a leading
    /// zero, within 64 bits; nil for anything else (a sign, a fraction, an exponent is left to the parser
    /// by the byte that follows).
    @inlinable @inline(__always)
    public mutating func unsignedInteger() -> UInt64? {
        let start = index
        var value: UInt64 = 0
        var end = index
        while end < input.count, input[end] >= 0x30, input[end] <= 0x39 {
            let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times10.addingReportingOverflow(UInt64(input[end] &- 0x30))
            guard !overflow, !carry else { return nil }
            value = sum
            end &+= 1
        }
        guard end > start, end - start == 1 || input[start] != 0x30 else { return nil }
        index = end
        return value
    }

    /// The contents of a string up to the next quote, found with `memchr` and not checked: only for a
    /// base64 value, whose decoding rejects every byte a plain string could not hold (a backslash, a control
    /// character), so a message with an escape there still goes to the general decoder. Checking each byte
    /// here took a third of a client's time in a fan-out.
    @inlinable @inline(__always)
    public mutating func stringToNextQuote() -> Range<Int>? {
        let start = index
        guard take(0x22), let base = input.baseAddress else { return nil }
        guard index < input.count, let quote = memchr(base + index, 0x22, input.count - index) else {
            index = start
            return nil
        }
        let end = base.distance(to: UnsafeRawPointer(quote))
        defer { index = end &+ 1 }
        return start &+ 1..<end
    }

    /// The contents of a string without escapes; nil for anything else. Control characters are not looked
    /// for: every value read with it is then checked against a grammar (a type name, a UUID, base64) that
    /// admits none, so such a message still goes to the general decoder.
    @inlinable @inline(__always)
    public mutating func plainString() -> Range<Int>? {
        let start = index
        guard take(0x22), let base = input.baseAddress else { return nil }
        // `memchr` for the closing quote and for a backslash: keys and values of every frame pass here.
        guard let quote = memchr(base + index, 0x22, input.count - index) else {
            index = start
            return nil
        }
        let end = UnsafeRawPointer(quote) - base
        if end > index, memchr(base + index, 0x5C, end - index) != nil {
            index = start
            return nil
        }
        defer { index = end + 1 }
        return start &+ 1..<end
    }

    /// A string without escapes, as the JSON parser would read it: nil for one with an escape, a control
    /// character or bytes that are not UTF-8, which the caller leaves to the parser.
    @inlinable
    public mutating func plainText() -> String? {
        let start = index
        guard let range = plainString() else { return nil }
        let bytes = UnsafeRawBufferPointer(rebasing: input[range])
        var ascii = true
        for byte in bytes {
            if byte < 0x20 {
                index = start
                return nil
            }
            if byte >= 0x80 { ascii = false }
        }
        // ASCII is valid UTF-8 as it is; `String(validating:)` costs generic metadata lookups per call.
        if ascii { return String(decoding: bytes, as: UTF8.self) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            index = start
            return nil
        }
        return text
    }

    /// A non-negative integer that fits a signed 64-bit field; nil for anything else (a negative one is
    /// left to the parser).
    @inlinable
    public mutating func nonNegativeInt64() -> Int64? {
        let start = index
        guard let value = unsignedInteger(), value <= UInt64(Int64.max) else {
            index = start
            return nil
        }
        return Int64(value)
    }

    /// `null` (`payload` set to nil) or a string of standard base64 (`payload` set to its bytes); false for
    /// anything else. Base64 has no quote or backslash, so the next quote ends it.
    public mutating func takeBase64OrNull(into payload: inout [UInt8]?) -> Bool {
        if takeNull() {
            payload = nil
            return true
        }
        guard let text = stringToNextQuote(), let decoded = Base64.decodeStandard(UnsafeRawBufferPointer(rebasing: input[text]))
        else { return false }
        payload = decoded
        return true
    }

    /// A quoted UUID in its hyphenated text (the nil UUID included, for a caller to map to nil); nil, with
    /// the cursor where it was, for anything else.
    mutating func hyphenatedUUID() -> WireUUID? {
        let start = index
        guard let text = plainString(), let id = WireUUID(ascii: UnsafeRawBufferPointer(rebasing: input[text])) else {
            index = start
            return nil
        }
        return id
    }

    /// What `read` reads from the start of `input` when it takes every byte; nil otherwise.
    public static func whole<Value>(_ input: UnsafeRawBufferPointer, _ read: (inout JSONCursor) -> Value?) -> Value? {
        var cursor = JSONCursor(input: input)
        guard let value = read(&cursor), cursor.atEnd else { return nil }
        return value
    }
}
