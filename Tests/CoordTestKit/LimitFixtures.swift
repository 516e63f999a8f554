import StreamCore

/// Records and names at the store's size limits, made of the bytes that cost most in an entry's JSON.
public enum LimitFixtures {
    /// A name of `bytes` UTF-8 bytes, every one a control character (6 bytes each as JSON, `\u0001`).
    public static func name(bytes: Int) -> String {
        String(repeating: "\u{01}", count: bytes)
    }

    /// Metadata whose JSON object (``JSONWriter/stringMapCount(_:)``) is exactly `jsonBytes` bytes
    /// (at least 7: one pair), mostly control characters.
    public static func metadata(jsonBytes: Int) -> [String: String] {
        precondition(jsonBytes >= 7, "one pair takes at least 7 bytes of JSON")
        // {"key":"value"}: 7 bytes of braces, quotes and colon, 6 per control character, 1 per letter.
        let keyCharacters = min(100, (jsonBytes - 7) / 6)
        let rest = jsonBytes - 7 - 6 * keyCharacters
        let value = String(repeating: "\u{02}", count: rest / 6) + String(repeating: "v", count: rest % 6)
        return [String(repeating: "\u{01}", count: keyCharacters): value]
    }

    /// A record of `payloadBytes` bytes with `metadata`.
    public static func record(_ sequence: UInt64, payloadBytes: Int, metadata: [String: String]? = nil) -> Record {
        var payload = [UInt8](repeating: 0, count: payloadBytes)
        for index in stride(from: 0, to: payloadBytes, by: 4_099) { payload[index] = UInt8(truncatingIfNeeded: index / 4_099) }
        return Record(sequence: sequence, payload: payload, metadata: metadata)
    }
}
