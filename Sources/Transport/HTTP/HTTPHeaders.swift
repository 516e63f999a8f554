/// The header fields of an HTTP head, in the order received or added, looked up case-insensitively.
///
/// A name may occur more than once; `subscript(_:)` combines the values with `", "` as RFC 9110 §5.3
/// allows for list-valued fields. Heads are small (at most `HTTPLimits.maxHeaderCount` fields), so a
/// linear scan beats hashing and keeps the received order for re-encoding.
public struct HTTPHeaders: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// One header line: a name (a token) and a value (already stripped of surrounding whitespace).
    public struct Field: Sendable, Hashable {
        /// The name as written, e.g. `Sec-WebSocket-Key`.
        public var name: String
        /// The value without leading or trailing whitespace.
        public var value: String
    }

    private var fields: [Field] = []

    /// An empty collection.
    public init() {}

    /// Fields from a literal, in order: `["Authorization": "Bearer …", "Origin": "http://localhost"]`.
    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { add(name: name, value: value) }
    }

    /// The number of fields (a repeated name counts once per line).
    public var count: Int { fields.count }

    /// True when there are no fields.
    public var isEmpty: Bool { fields.isEmpty }

    /// Iterates the fields in order.
    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    /// Appends a field.
    ///
    /// Writing an invalid name or a value containing CR, LF or another control character would let
    /// text break out of its header line, so it is a programmer error: callers check untrusted text
    /// with `isValidName` / `isValidValue` first.
    public mutating func add(name: String, value: String) {
        precondition(Self.isValidName(name), "invalid HTTP header name \(name.debugDescription)")
        precondition(Self.isValidValue(value), "invalid HTTP header value for \(name)")
        fields.append(Field(name: name, value: value))
    }

    /// Appends a field the parser has already validated.
    mutating func appendValidated(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// Removes every field called `name` (ignoring case) and appends one with `value`.
    public mutating func replaceOrAdd(name: String, value: String) {
        remove(name: name)
        add(name: name, value: value)
    }

    /// Removes every field called `name` (ignoring case).
    public mutating func remove(name: String) {
        fields.removeAll { HTTPSyntax.equalsIgnoringCase($0.name.utf8, name.utf8) }
    }

    /// The value of `name` (ignoring case); several fields of that name are joined with `", "`.
    /// Nil when absent.
    public subscript(name: String) -> String? {
        var combined: String?
        for field in fields where HTTPSyntax.equalsIgnoringCase(field.name.utf8, name.utf8) {
            if let existing = combined {
                combined = existing + ", " + field.value
            } else {
                combined = field.value
            }
        }
        return combined
    }

    /// Every value of `name` (ignoring case), one per field, in order.
    public func values(for name: String) -> [String] {
        fields.filter { HTTPSyntax.equalsIgnoringCase($0.name.utf8, name.utf8) }.map(\.value)
    }

    /// True when a field called `name` (ignoring case) is present.
    public func contains(_ name: String) -> Bool {
        fields.contains { HTTPSyntax.equalsIgnoringCase($0.name.utf8, name.utf8) }
    }

    /// True when a comma-separated field `name` lists `token`, both compared ignoring case, e.g.
    /// `containsToken("upgrade", in: "Connection")` for `Connection: keep-alive, Upgrade`.
    public func containsToken(_ token: String, in name: String) -> Bool {
        fields.contains {
            HTTPSyntax.equalsIgnoringCase($0.name.utf8, name.utf8) && HTTPSyntax.listContainsToken($0.value, token)
        }
    }

    /// The elements of every comma-separated field `name` (ignoring case), in order, without their
    /// optional whitespace; empty elements are skipped. `Sec-WebSocket-Protocol: a, b` → `["a", "b"]`.
    public func listElements(for name: String) -> [Substring] {
        values(for: name).flatMap(HTTPSyntax.listElements)
    }

    /// True when `name` is a non-empty token (RFC 9110 §5.1).
    public static func isValidName(_ name: String) -> Bool { HTTPSyntax.isToken(name.utf8) }

    /// True when `value` has only HTAB, SP, visible characters and non-ASCII bytes, and no surrounding
    /// whitespace (RFC 9110 §5.5).
    public static func isValidValue(_ value: String) -> Bool {
        let bytes = value.utf8
        guard bytes.allSatisfy(HTTPSyntax.isFieldValueByte) else { return false }
        guard let first = bytes.first, let last = bytes.last else { return true }
        return first != HTTPSyntax.space && first != HTTPSyntax.tab
            && last != HTTPSyntax.space && last != HTTPSyntax.tab
    }

    /// Appends `Name: value\r\n` for every field.
    func write(into out: inout [UInt8]) {
        for field in fields {
            out.append(contentsOf: field.name.utf8)
            out.append(HTTPSyntax.colon)
            out.append(HTTPSyntax.space)
            out.append(contentsOf: field.value.utf8)
            out.append(HTTPSyntax.cr)
            out.append(HTTPSyntax.lf)
        }
    }
}
