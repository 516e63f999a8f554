/// A message with a JSON shape on the wire.
///
/// Encoding writes the object with ``JSONWriter`` (fields in a fixed order, deterministic bytes);
/// decoding reads it through ``JSONFields`` with Go's zero-value rules.
public protocol WireMessage: Sendable {
    /// Decodes the message from a parsed JSON object.
    init(fields: JSONFields) throws(StreamsError)
    /// Writes the message as one JSON object.
    func write(to writer: inout JSONWriter)
}

/// A message registered under a discriminator, so it can travel inside an envelope
/// (`{"$type": …, "content": …}`, streamkit v1 §1).
public protocol EnvelopedMessage: WireMessage {
    /// The `$type` string, e.g. `streamkit://api/v1/peek`.
    static var discriminator: String { get }
}

/// A message that opens a logical stream (the first message the client sends).
public protocol RequestMessage: EnvelopedMessage {}

extension WireMessage {
    /// The message as bare JSON bytes.
    public func encoded() -> [UInt8] {
        var writer = JSONWriter()
        write(to: &writer)
        return writer.bytes
    }

    /// Decodes a bare JSON message.
    public init(decoding bytes: some Collection<UInt8>) throws(StreamsError) {
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
