/// RFC 4648 base64: the padded standard alphabet that streamkit uses for `[]byte` fields and mux
/// payloads, and the unpadded URL-safe alphabet of JWTs.
public enum Base64 {
    /// Which alphabet, and whether `=` padding is written.
    public enum Alphabet: Sendable {
        /// `A–Z a–z 0–9 + /` with `=` padding (Go's `StdEncoding`).
        case standard
        /// `A–Z a–z 0–9 - _` without padding (JWT, RFC 7515).
        case url
    }

    private static let standardTable = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlTable = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Decoding table: byte → 6-bit value, 0xFF for bytes outside both alphabets. Accepts both
    /// alphabets' characters; `decode` checks which ones are allowed.
    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in standardTable.enumerated() { table[Int(c)] = UInt8(i) }
        table[Int(UInt8(ascii: "-"))] = 62
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    /// The number of bytes `encode` appends for `count` input bytes.
    public static func encodedCount(_ count: Int, alphabet: Alphabet = .standard) -> Int {
        switch alphabet {
        case .standard: return (count + 2) / 3 * 4
        case .url: return (count * 4 + 2) / 3
        }
    }

    /// Appends the base64 text of `bytes` to `out` (as ASCII bytes).
    public static func encode(_ bytes: some Collection<UInt8>, alphabet: Alphabet = .standard, into out: inout [UInt8]) {
        if alphabet == .standard,
           bytes.withContiguousStorageIfAvailable({ appendStandard(UnsafeRawBufferPointer($0), to: &out) }) != nil
        {
            return
        }
        let table = alphabet == .standard ? standardTable : urlTable
        out.reserveCapacity(out.count + encodedCount(bytes.count, alphabet: alphabet))
        var iterator = bytes.makeIterator()
        while let b0 = iterator.next() {
            let b1 = iterator.next()
            let b2 = b1 == nil ? nil : iterator.next()
            out.append(table[Int(b0 >> 2)])
            out.append(table[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
            if let b1 {
                out.append(table[Int((b1 & 0x0F) << 2 | (b2 ?? 0) >> 6)])
            } else if alphabet == .standard {
                out.append(UInt8(ascii: "="))
            }
            if let b2 {
                out.append(table[Int(b2 & 0x3F)])
            } else if alphabet == .standard {
                out.append(UInt8(ascii: "="))
            }
        }
    }

    /// The base64 text of `bytes`.
    public static func encode(_ bytes: some Collection<UInt8>, alphabet: Alphabet = .standard) -> String {
        var out: [UInt8] = []
        encode(bytes, alphabet: alphabet, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes base64 text, or returns nil when it is not valid for `alphabet`.
    ///
    /// `.standard` requires correct `=` padding (as Go's `StdEncoding` does); `.url` rejects padding.
    public static func decode(_ text: some Collection<UInt8>, alphabet: Alphabet = .standard) -> [UInt8]? {
        if alphabet == .standard,
           let decoded = text.withContiguousStorageIfAvailable({ decodeStandard(UnsafeRawBufferPointer($0)) })
        {
            return decoded
        }
        let count = text.count
        if alphabet == .standard && count % 4 != 0 { return nil }
        if alphabet == .url && count % 4 == 1 { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(count / 4 * 3 + 2)
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        for c in text {
            if c == UInt8(ascii: "=") {
                guard alphabet == .standard else { return nil }
                padding += 1
                continue
            }
            // Nothing may follow padding.
            if padding > 0 { return nil }
            let value = reverse[Int(c)]
            if value == 0xFF { return nil }
            let allowed: Bool
            switch alphabet {
            case .standard: allowed = c != UInt8(ascii: "-") && c != UInt8(ascii: "_")
            case .url: allowed = c != UInt8(ascii: "+") && c != UInt8(ascii: "/")
            }
            if !allowed { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        if padding > 2 { return nil }
        if alphabet == .standard && padding > 0 && (count - padding) % 4 + padding != 4 { return nil }
        return out
    }

    /// Decodes base64 text given as a string.
    public static func decode(_ text: String, alphabet: Alphabet = .standard) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode($0, alphabet: alphabet) }
    }
}

// MARK: - The padded standard alphabet over raw memory

/// Payloads are base64'd once into every entry and again into every mux frame: these run over
/// megabytes per message, so they work on raw memory, four characters (three bytes) per step.
extension Base64 {
    /// Writes the padded standard base64 of `input` to `output`, which must have room for
    /// ``encodedCount(_:alphabet:)`` bytes.
    public static func encodeStandard(_ input: UnsafeRawBufferPointer, to output: UnsafeMutableRawPointer) {
        guard let source = input.baseAddress else { return }
        standardTable.withUnsafeBufferPointer { tableBuffer in
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
                output.storeBytes(of: rest > 1 ? table[Int(v >> 6 & 0x3F)] : 0x3D, toByteOffset: o &+ 2, as: UInt8.self)
                output.storeBytes(of: rest > 2 ? table[Int(v & 0x3F)] : 0x3D, toByteOffset: o &+ 3, as: UInt8.self)
                i &+= 3
                o &+= 4
            }
        }
    }

    /// The padded standard base64 of `bytes`, as bytes.
    public static func encodedStandard(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { encodedStandard($0) }
    }

    private static func encodedStandard(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        let count = encodedCount(input.count)
        guard count > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            // count > 0, so the buffer has a base address.
            encodeStandard(input, to: UnsafeMutableRawPointer(buffer.baseAddress!))
            initialized = count
        }
    }

    private static func appendStandard(_ input: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        if out.isEmpty {
            out = encodedStandard(input)
        } else {
            out.append(contentsOf: encodedStandard(input))
        }
    }

    /// Decodes padded standard base64 (Go's `StdEncoding`), or nil when `text` is not: the same answers
    /// as ``decode(_:alphabet:)`` with `.standard`.
    public static func decodeStandard(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        let count = text.count
        guard count % 4 == 0 else { return nil }
        guard count > 0, let source = text.baseAddress else { return [] }
        var padding = 0
        if text[count - 1] == UInt8(ascii: "=") { padding = text[count - 2] == UInt8(ascii: "=") ? 2 : 1 }
        let outputCount = count / 4 * 3 - padding
        var valid = true
        let output = standardReverse.withUnsafeBufferPointer { tableBuffer in
            // 256 entries: every byte indexes it.
            let table = tableBuffer.baseAddress!
            return [UInt8](unsafeUninitializedCapacity: outputCount) { buffer, initialized in
                let out = UnsafeMutableRawPointer(buffer.baseAddress!)  // outputCount > 0: count >= 4 here
                var i = 0
                var o = 0
                let whole = padding > 0 ? count - 4 : count
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
                if valid && padding > 0 {
                    let a = table[Int(text[i])], b = table[Int(text[i &+ 1])]
                    let c = padding == 1 ? table[Int(text[i &+ 2])] : 0
                    if (a | b | c) & 0xC0 != 0 {
                        valid = false
                    } else {
                        let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6
                        out.storeBytes(of: UInt8(truncatingIfNeeded: v >> 16), toByteOffset: o, as: UInt8.self)
                        if padding == 1 {
                            out.storeBytes(of: UInt8(truncatingIfNeeded: v >> 8), toByteOffset: o &+ 1, as: UInt8.self)
                        }
                    }
                }
                initialized = valid ? outputCount : 0
            }
        }
        return valid ? output : nil
    }

    /// Byte → 6-bit value for the standard alphabet only, 0xFF for anything else (`=` included).
    private static let standardReverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in standardTable.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()
}
