import CorePrimitives

/// Writes JSON text straight into a byte array, in the order the caller writes it.
///
/// Messages are encoded by hand with this writer instead of `JSONEncoder`: output is deterministic
/// (`$type` first, fields in declaration order), there is no reflection, and a 1,000-worker inventory
/// encodes in well under a millisecond. Commas are inserted automatically.
public struct JSONWriter: Sendable {
    /// The text written so far.
    public private(set) var bytes: [UInt8]
    /// Whether the next value or key is the first in its container (so it needs no comma).
    private var atFirst = true
    /// Whether a key was just written (so the next value needs no comma).
    private var afterKey = false

    /// Creates an empty writer, reserving `capacity` bytes.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always)
    private mutating func separate() {
        if afterKey {
            afterKey = false
        } else {
            if !atFirst { bytes.append(UInt8(ascii: ",")) }
            atFirst = false
        }
    }

    /// Writes `{`.
    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        atFirst = true
    }

    /// Writes `}`.
    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        atFirst = false
    }

    /// Writes `[`.
    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        atFirst = true
    }

    /// Writes `]`.
    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        atFirst = false
    }

    /// Writes an object key and the `:` after it.
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    /// Writes an object key given at run time (map keys), escaped. Labelled so that a literal key takes
    /// ``key(_:)`` (a `StaticString`, copied as it is): unlabelled, a literal chose this one, and every
    /// message paid an escaping scan per member.
    public mutating func key(escaping name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    /// Writes a string value, escaped.
    public mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
    }

    /// Writes a signed integer.
    public mutating func int(_ value: Int64) {
        separate()
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            appendDigits(value.magnitude)
        } else {
            appendDigits(UInt64(value))
        }
    }

    /// Writes an unsigned integer.
    public mutating func uint(_ value: UInt64) {
        separate()
        appendDigits(value)
    }

    /// Writes a floating-point number (non-finite values are written as `null`: JSON has no NaN).
    public mutating func double(_ value: Double) {
        guard value.isFinite else { return null() }
        separate()
        bytes.append(contentsOf: value.description.utf8)
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ value: Bool) {
        separate()
        // Static strings, not static arrays: a static array cost a lazy-initialisation check and a
        // retain per call, 2 % of the daemon's CPU at pipelined renewals (three booleans per result).
        let text: StaticString = value ? "true" : "false"
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Writes `null`.
    public mutating func null() {
        separate()
        ("null" as StaticString).withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Writes bytes as a padded base64 string, or `null` for nil (Go's encoding of `[]byte`).
    public mutating func base64(_ value: [UInt8]?) {
        guard let value else { return null() }
        separate()
        bytes.append(UInt8(ascii: "\""))
        Base64.encode(value, into: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes bytes as a lowercase hex string (lexkey cursors).
    public mutating func hex(_ value: [UInt8]) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        for b in value {
            bytes.append(HexText.digit(b >> 4))
            bytes.append(HexText.digit(b))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes a UUID in canonical lowercase hyphenated form; nil is written as the nil UUID, because
    /// Go's `omitempty` never omits a `uuid.UUID` (streamkit conventions).
    public mutating func uuid(_ value: WireUUID?) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        (value ?? .nil).appendText(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes a string-to-string map with keys sorted by their bytes (Go sorts map keys).
    public mutating func stringMap(_ map: [String: String]) {
        beginObject()
        for key in map.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            self.key(escaping: key)
            string(map[key] ?? "")
        }
        endObject()
    }

    /// Appends already-encoded JSON (a nested message written elsewhere) as one value.
    public mutating func raw(_ json: [UInt8]) {
        separate()
        bytes.append(contentsOf: json)
    }

    /// Bytes ``string(_:)`` writes for `value`: its quotes, and each byte as escaped here (a quote,
    /// backslash, newline, carriage return or tab takes 2 bytes, any other control character 6
    /// (`\u00XX`), everything else 1). Sizes are bounded with this before anything is encoded.
    public static func quotedCount(_ value: String) -> Int {
        var count = 2
        for c in value.utf8 {
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): count += 2
            case ..<0x20: count += 6
            default: count += 1
            }
        }
        return count
    }

    /// Bytes ``stringMap(_:)`` writes for `map`: braces, each key and value quoted, a colon per pair and
    /// a comma between pairs.
    public static func stringMapCount(_ map: [String: String]) -> Int {
        var count = 2 + max(0, map.count - 1)
        for (key, value) in map { count += quotedCount(key) + 1 + quotedCount(value) }
        return count
    }

    /// Most bytes ``string(_:)`` writes for a value of `utf8Count` UTF-8 bytes: every byte a control
    /// character written as `\u00XX`.
    public static func maxQuotedCount(utf8Count: Int) -> Int {
        2 + 6 * utf8Count
    }

    // MARK: Internals

    private mutating func appendDigits(_ value: UInt64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes hold the 20 digits of UInt64.max
        withUnsafeMutableBytes(of: &digits) { raw in
            var v = value
            var i = raw.count
            repeat {
                i -= 1
                raw[i] = UInt8(ascii: "0") &+ UInt8(v % 10)
                v /= 10
            } while v > 0
            bytes.append(contentsOf: raw[i...])
        }
    }

    private mutating func appendQuoted(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var runStart = 0
            for i in 0..<utf8.count {
                let c = utf8[i]
                guard c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                runStart = i + 1
                bytes.append(UInt8(ascii: "\\"))
                switch c {
                case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "\n"): bytes.append(UInt8(ascii: "n"))
                case UInt8(ascii: "\r"): bytes.append(UInt8(ascii: "r"))
                case UInt8(ascii: "\t"): bytes.append(UInt8(ascii: "t"))
                default:
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    bytes.append(HexText.digit(c >> 4))
                    bytes.append(HexText.digit(c))
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
