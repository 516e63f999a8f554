/// How error texts quote what a peer sent: at most ``maxBytes`` of it, then `…`.
///
/// An error is sent back to the peer whose input caused it, so quoting input whole would let a peer
/// make the daemon echo megabytes (a 6 MiB `store_id` came back in an 8 MiB error frame). Every error
/// text that quotes a name, id, type or key taken from the wire goes through ``excerpt(_:)``.
public enum InputExcerpt {
    /// Bytes of input an error text quotes at most: enough to recognise any real name or id (a UUID is
    /// 36, a discriminator under 60, a name rarely past 100), small enough that an error stays one
    /// short line.
    public static let maxBytes = 256

    /// `text` when it is at most ``maxBytes`` UTF-8 bytes; otherwise its longest prefix of whole
    /// characters within ``maxBytes``, followed by `…`.
    public static func excerpt(_ text: String) -> String {
        guard text.utf8.count > maxBytes else { return text }
        return String(Substring(utf8Prefix(text, maxBytes: maxBytes))) + "…"
    }

    /// The longest prefix of `text` within `maxBytes` UTF-8 bytes that does not split a character's
    /// encoding (also what a WebSocket close reason is cut to).
    public static func utf8Prefix(_ text: String, maxBytes: Int) -> Substring.UTF8View {
        let utf8 = text.utf8
        guard utf8.count > maxBytes else { return Substring(text).utf8 }
        var end = utf8.index(utf8.startIndex, offsetBy: max(0, maxBytes))
        // Back off to the start of a scalar: continuation bytes are 0b10xxxxxx.
        while end > utf8.startIndex, utf8[end] & 0xC0 == 0x80 { end = utf8.index(before: end) }
        return utf8[..<end]
    }

    /// ``excerpt(_:)`` of bytes read as UTF-8 (invalid sequences become U+FFFD), without decoding more
    /// than the excerpt needs.
    public static func excerpt(_ bytes: some Collection<UInt8>) -> String {
        guard bytes.count > maxBytes else { return String(decoding: bytes, as: UTF8.self) }
        return excerpt(String(decoding: bytes.prefix(maxBytes + 4), as: UTF8.self))
    }
}
