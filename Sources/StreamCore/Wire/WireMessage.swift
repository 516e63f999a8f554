/// A message with a JSON shape on the wire.
///
/// Encoding writes the object with ``JSONWriter`` (fields in a fixed order, deterministic bytes);
/// decoding reads it through ``JSONFields`` with Go's zero-value rules.
public protocol WireMessage: Sendable {
    /// Decodes the message from a parsed JSON object.
    init(fields: JSONFields) throws(StreamsError)
    /// Writes the message as one JSON object.
    func write(to writer: inout JSONWriter)
    /// The message in `input` when it is exactly in the one form coordd's encoders write, read straight
    /// from the bytes; nil to let the JSON parser decide, which must then give the same message for what
    /// both accept. Messages a stream carries by the thousand have one (records, entries, renewals, lease
    /// answers), because building the parser's tree and strings was most of what decoding one cost; the
    /// default is nil.
    static func canonical(_ input: UnsafeRawBufferPointer) -> Self?
}

/// A message that may travel inside an envelope, registered under a discriminator
/// (`{"$type": …, "content": …}`, streamkit v1 §1).
public protocol EnvelopedMessage: WireMessage {
    /// The `$type` string, e.g. `streamkit://api/v1/peek`.
    static var discriminator: String { get }
}

/// A message that opens a logical stream (the first message the client sends).
public protocol RequestMessage: EnvelopedMessage {}

extension WireMessage {
    /// No form read without the parser.
    public static func canonical(_ input: UnsafeRawBufferPointer) -> Self? { nil }

    /// The message as bare JSON bytes.
    public func encoded() -> [UInt8] {
        var writer = JSONWriter()
        write(to: &writer)
        return writer.bytes
    }

    /// Decodes a bare JSON message: its encoders' form directly (``canonical(_:)``), anything else by the
    /// parser. Generic callers (a stream's `receive(_:)`) reach the direct reading too. Inlinable, and for
    /// the `[UInt8]` every stream hands out without the generic collection: it runs for every message, and
    /// the unspecialised generic path cost a lease renewal 6 % more CPU on each side.
    @inlinable
    public init(decoding bytes: [UInt8]) throws(StreamsError) {
        if let message = bytes.withUnsafeBytes({ Self.canonical($0) }) {
            self = message
            return
        }
        try self.init(fields: JSONFields(parsing: bytes))
    }

    /// Decodes a bare JSON message from any bytes, as ``init(decoding:)-(Array<UInt8>)`` does.
    public init(decoding bytes: some Collection<UInt8>) throws(StreamsError) {
        if let message = bytes.withContiguousStorageIfAvailable({ Self.canonical(UnsafeRawBufferPointer($0)) }) ?? nil {
            self = message
            return
        }
        try self.init(fields: JSONFields(parsing: bytes))
    }
}

extension EnvelopedMessage {
    /// The message inside an envelope, `$type` first.
    public func enveloped() -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("$type")
        writer.string(Self.discriminator)
        writer.key("content")
        write(to: &writer)
        writer.endObject()
        return writer.bytes
    }
}
