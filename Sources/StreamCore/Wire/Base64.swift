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
        decode(Array(text.utf8), alphabet: alphabet)
    }
}
