/// RFC 4648 base64: the padded standard alphabet that streamkit uses for `[]byte` fields and mux
/// payloads, and the unpadded URL-safe alphabet of JWTs.
///
/// Payloads are base64'd once into every entry and again into every mux frame, so there is one
/// implementation and it works on raw memory, four characters (three bytes) per step; every other entry
/// point copies into contiguous memory once and calls it.
public enum Base64 {
    /// Which alphabet, and whether `=` padding is written.
    public enum Alphabet: Sendable {
        /// `A–Z a–z 0–9 + /` with `=` padding (Go's `StdEncoding`).
        case standard
        /// `A–Z a–z 0–9 - _` without padding (JWT, RFC 7515).
        case url
    }

    /// The number of bytes `encode` writes for `count` input bytes.
    public static func encodedCount(_ count: Int, alphabet: Alphabet = .standard) -> Int {
        switch alphabet {
        case .standard: return (count + 2) / 3 * 4
        case .url: return (count * 4 + 2) / 3
        }
    }

    /// Appends the base64 text of `bytes` to `out` (as ASCII bytes), encoded in temporary memory (on the
    /// stack for a small payload) and copied once: no array of its own to allocate (a produced record's
    /// payload is encoded this way into its JSON).
    public static func encode(_ bytes: some Collection<UInt8>, alphabet: Alphabet = .standard, into out: inout [UInt8]) {
        let appended: Void? = bytes.withContiguousStorageIfAvailable { append(UnsafeRawBufferPointer($0), alphabet: alphabet, to: &out) }
        if appended == nil { Array(bytes).withUnsafeBytes { append($0, alphabet: alphabet, to: &out) } }
    }

    private static func append(_ input: UnsafeRawBufferPointer, alphabet: Alphabet, to out: inout [UInt8]) {
        let count = encodedCount(input.count, alphabet: alphabet)
        guard count > 0 else { return }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count) { text in
            // count > 0, so the buffer has an address.
            encode(input, alphabet: alphabet, to: UnsafeMutableRawPointer(text.baseAddress!))
            out.append(contentsOf: UnsafeBufferPointer(text))
        }
    }

    /// The base64 text of `bytes`.
    public static func encode(_ bytes: some Collection<UInt8>, alphabet: Alphabet = .standard) -> String {
        var out: [UInt8] = []
        encode(bytes, alphabet: alphabet, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The padded standard base64 of `bytes`, as bytes.
    public static func encodedStandard(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { encoded($0, alphabet: .standard) }
    }

    /// Decodes base64 text, or returns nil when it is not valid for `alphabet`.
    ///
    /// `.standard` requires correct `=` padding (as Go's `StdEncoding` does); `.url` rejects padding.
    public static func decode(_ text: some Collection<UInt8>, alphabet: Alphabet = .standard) -> [UInt8]? {
        if let decoded = text.withContiguousStorageIfAvailable({ decode(UnsafeRawBufferPointer($0), alphabet: alphabet) }) {
            return decoded
        }
        return Array(text).withUnsafeBytes { decode($0, alphabet: alphabet) }
    }

    /// Decodes base64 text given as a string.
    public static func decode(_ text: String, alphabet: Alphabet = .standard) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode(UnsafeRawBufferPointer($0), alphabet: alphabet) }
    }

    /// Writes the padded standard base64 of `input` to `output`, which must have room for
    /// ``encodedCount(_:alphabet:)`` bytes.
    public static func encodeStandard(_ input: UnsafeRawBufferPointer, to output: UnsafeMutableRawPointer) {
        encode(input, alphabet: .standard, to: output)
    }

    /// Decodes padded standard base64 (Go's `StdEncoding`) from raw memory, or nil when `text` is not.
    public static func decodeStandard(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        decode(text, alphabet: .standard)
    }
}

// MARK: - The one implementation, over raw memory

extension Base64 {
    private static let standardTable = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlTable = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Byte → 6-bit value for the standard alphabet only, 0xFF for anything else (`=` included).
    private static let standardReverse = reverse(of: standardTable)
    /// Byte → 6-bit value for the URL-safe alphabet only, 0xFF for anything else.
    private static let urlReverse = reverse(of: urlTable)

    private static func reverse(of table: [UInt8]) -> [UInt8] {
        var reverse = [UInt8](repeating: 0xFF, count: 256)
        for (value, character) in table.enumerated() { reverse[Int(character)] = UInt8(value) }
        return reverse
    }

    /// Writes the base64 of `input` in `alphabet` to `output`, which must have room for
    /// ``encodedCount(_:alphabet:)`` bytes.
    public static func encode(_ input: UnsafeRawBufferPointer, alphabet: Alphabet, to output: UnsafeMutableRawPointer) {
        guard let source = input.baseAddress else { return }
        let padded = alphabet == .standard
        (padded ? standardTable : urlTable).withUnsafeBufferPointer { tableBuffer in
            // The table has 64 entries and every index below is masked to 6 bits.
            let table = tableBuffer.baseAddress!
            var i = 0
            var o = 0
            // Three bytes in, four characters out per step: one load and one store (little-endian).
            // A 4-byte load needs one byte beyond the group, so the last group goes below.
            while i + 4 <= input.count {
                let v = UInt32(bigEndian: source.loadUnaligned(fromByteOffset: i, as: UInt32.self)) >> 8
                let word = UInt32(table[Int(v >> 18)]) | UInt32(table[Int(v >> 12 & 0x3F)]) << 8
                    | UInt32(table[Int(v >> 6 & 0x3F)]) << 16 | UInt32(table[Int(v & 0x3F)]) << 24
                output.storeBytes(of: word.littleEndian, toByteOffset: o, as: UInt32.self)
                i &+= 3
                o &+= 4
            }
            while i < input.count {
                let rest = input.count - i
                let v = UInt32(input[i]) << 16 | (rest > 1 ? UInt32(input[i &+ 1]) << 8 : 0)
                    | (rest > 2 ? UInt32(input[i &+ 2]) : 0)
                output.storeBytes(of: table[Int(v >> 18)], toByteOffset: o, as: UInt8.self)
                output.storeBytes(of: table[Int(v >> 12 & 0x3F)], toByteOffset: o &+ 1, as: UInt8.self)
                o &+= 2
                if rest > 1 || padded {
                    output.storeBytes(of: rest > 1 ? table[Int(v >> 6 & 0x3F)] : 0x3D, toByteOffset: o, as: UInt8.self)
                    o &+= 1
                }
                if rest > 2 || padded {
                    output.storeBytes(of: rest > 2 ? table[Int(v & 0x3F)] : 0x3D, toByteOffset: o, as: UInt8.self)
                    o &+= 1
                }
                i &+= 3
            }
        }
    }

    private static func encoded(_ input: UnsafeRawBufferPointer, alphabet: Alphabet) -> [UInt8] {
        let count = encodedCount(input.count, alphabet: alphabet)
        guard count > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            // count > 0, so the buffer has a base address.
            encode(input, alphabet: alphabet, to: UnsafeMutableRawPointer(buffer.baseAddress!))
            initialized = count
        }
    }

    /// Decodes base64 in `alphabet` from raw memory, or nil when `text` is not valid for it: `.standard`
    /// needs whole groups of four with correct `=` padding, `.url` takes no padding and a last group of
    /// two or three characters.
    public static func decode(_ text: UnsafeRawBufferPointer, alphabet: Alphabet) -> [UInt8]? {
        let count = text.count
        guard count > 0, let source = text.baseAddress else { return [] }
        // Characters in the last, partial group, and the bytes they carry.
        var tail = 0
        switch alphabet {
        case .standard:
            guard count % 4 == 0 else { return nil }
            if text[count - 1] == UInt8(ascii: "=") { tail = text[count - 2] == UInt8(ascii: "=") ? 2 : 3 }
        case .url:
            tail = count % 4
            guard tail != 1 else { return nil }
        }
        let whole = count - (tail == 0 ? 0 : alphabet == .standard ? 4 : tail)
        let outputCount = whole / 4 * 3 + (tail == 0 ? 0 : tail - 1)
        guard outputCount > 0 else { return nil }  // never for count > 0; the buffer below needs an address
        var valid = true
        let output = (alphabet == .standard ? standardReverse : urlReverse).withUnsafeBufferPointer { tableBuffer in
            // 256 entries: every byte indexes it.
            let table = tableBuffer.baseAddress!
            return [UInt8](unsafeUninitializedCapacity: outputCount) { buffer, initialized in
                let out = UnsafeMutableRawPointer(buffer.baseAddress!)  // outputCount > 0
                var i = 0
                var o = 0
                // Four characters in, three bytes out per step, with one load.
                while i < whole {
                    let w = source.loadUnaligned(fromByteOffset: i, as: UInt32.self).littleEndian
                    let a = table[Int(w & 0xFF)], b = table[Int(w >> 8 & 0xFF)]
                    let c = table[Int(w >> 16 & 0xFF)], d = table[Int(w >> 24)]
                    if (a | b | c | d) & 0xC0 != 0 {
                        valid = false
                        break
                    }
                    let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    out.storeBytes(of: UInt8(truncatingIfNeeded: v >> 16), toByteOffset: o, as: UInt8.self)
                    out.storeBytes(of: UInt8(truncatingIfNeeded: v >> 8), toByteOffset: o &+ 1, as: UInt8.self)
                    out.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: o &+ 2, as: UInt8.self)
                    i &+= 4
                    o &+= 3
                }
                // The last group: two or three characters carrying one or two bytes.
                if valid && tail > 0 {
                    let a = table[Int(text[i])], b = table[Int(text[i &+ 1])]
                    let c = tail == 3 ? table[Int(text[i &+ 2])] : 0
                    if (a | b | c) & 0xC0 != 0 {
                        valid = false
                    } else {
                        let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6
                        out.storeBytes(of: UInt8(truncatingIfNeeded: v >> 16), toByteOffset: o, as: UInt8.self)
                        if tail == 3 {
                            out.storeBytes(of: UInt8(truncatingIfNeeded: v >> 8), toByteOffset: o &+ 1, as: UInt8.self)
                        }
                    }
                }
                initialized = valid ? outputCount : 0
            }
        }
        return valid ? output : nil
    }
}
