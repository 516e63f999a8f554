/// Bounds and strictness of the JSON parser, so hostile input cannot exhaust the stack or memory, and a
/// reader that must not see a document two ways (a token's claims) can ask for the strict grammar.
public struct JSONLimits: Sendable {
    /// Deepest nesting of arrays and objects by default: messages nest a few levels; 64 keeps a
    /// hostile document from recursing the parser deep.
    public static let defaultMaxDepth = 64
    /// Largest document by default: the WebSocket frame cap (streamkit v1 §3.2), the largest message
    /// any transport delivers.
    public static let defaultMaxBytes = WireLimits.maxFramePayloadBytes

    /// Deepest nesting of arrays and objects.
    public var maxDepth = JSONLimits.defaultMaxDepth
    /// Largest document in bytes.
    public var maxBytes = JSONLimits.defaultMaxBytes
    /// Whether a key that appears twice in one object is an error. Off by default: streamkit's Go
    /// decoder keeps the last value, and its clients may rely on that. On for security-relevant
    /// documents, where two `exp` claims must not be read two ways (RFC 7519 §4 lets a parser reject them).
    public var rejectsDuplicateKeys = false
    /// Whether invalid UTF-8 in a string and an escaped unpaired surrogate are errors. Off by default,
    /// as Go's decoder replaces both with U+FFFD; on where text must round-trip exactly (RFC 8259 §8.2).
    public var rejectsInvalidUnicode = false

    /// The default limits: Go-compatible, lenient about duplicate keys and invalid Unicode.
    public init() {}

    /// Limits with every field given.
    public init(maxDepth: Int, maxBytes: Int, rejectsDuplicateKeys: Bool = false, rejectsInvalidUnicode: Bool = false) {
        self.maxDepth = maxDepth
        self.maxBytes = maxBytes
        self.rejectsDuplicateKeys = rejectsDuplicateKeys
        self.rejectsInvalidUnicode = rejectsInvalidUnicode
    }

    /// The strict grammar at the given bounds: duplicate keys and invalid Unicode are errors.
    public static func strict(maxDepth: Int, maxBytes: Int) -> JSONLimits {
        JSONLimits(maxDepth: maxDepth, maxBytes: maxBytes, rejectsDuplicateKeys: true, rejectsInvalidUnicode: true)
    }
}

/// Why a JSON document could not be parsed.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, with the byte offset.
    public var message: String

    /// Creates an error with a message.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
