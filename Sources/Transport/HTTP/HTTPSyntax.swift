/// Character classes and small comparisons from RFC 9110 / RFC 9112 shared by the HTTP parsers, the
/// header collection and the WebSocket handshake.
enum HTTPSyntax {
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let comma: UInt8 = 0x2C

    /// `tchar` (RFC 9110 §5.6.2) as a 256-entry table, so classifying a byte is one load.
    private static let tokenTable: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(byte)] = true }
        for byte in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(byte)] = true }
        for byte in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(byte)] = true }
        for byte in "!#$%&'*+-.^_`|~".utf8 { table[Int(byte)] = true }
        return table
    }()

    /// True for a byte allowed in a token (method, header name).
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool { tokenTable[Int(byte)] }

    /// True for a byte allowed in a field value: HTAB, SP, VCHAR and obs-text (RFC 9110 §5.5).
    /// CR, LF, NUL and the other controls are not, which is what stops header injection.
    @inline(__always)
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == tab || (byte >= 0x20 && byte != 0x7F)
    }

    /// True for a byte allowed in a request target: visible ASCII only (RFC 3986 characters, and
    /// nothing that could end the request line).
    @inline(__always)
    static func isTargetByte(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7F }

    /// True when `bytes` is a non-empty token.
    static func isToken(_ bytes: some Sequence<UInt8>) -> Bool {
        var any = false
        for byte in bytes {
            guard isTokenByte(byte) else { return false }
            any = true
        }
        return any
    }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    /// ASCII case-insensitive equality, the comparison RFC 9110 prescribes for header names and tokens.
    static func equalsIgnoringCase(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where lowercased(x) != lowercased(y) { return false }
        return true
    }

    /// True when the comma-separated list `list` (RFC 9110 §5.6.1) has an element equal to `token`,
    /// ignoring case and optional whitespace.
    static func listContainsToken(_ list: String, _ token: String) -> Bool {
        listElements(list).contains { equalsIgnoringCase($0.utf8, token.utf8) }
    }

    /// The elements of the comma-separated list `list` (RFC 9110 §5.6.1) without their optional
    /// whitespace. Empty elements are skipped, as the RFC requires.
    static func listElements(_ list: String) -> [Substring] {
        list.split(separator: ",").compactMap { element in
            var element = element
            while let first = element.first, first == " " || first == "\t" { element.removeFirst() }
            while let last = element.last, last == " " || last == "\t" { element.removeLast() }
            return element.isEmpty ? nil : element
        }
    }
}
