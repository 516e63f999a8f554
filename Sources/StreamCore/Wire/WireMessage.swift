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

/// A message a stream carries by the thousand, read straight from the bytes when it is in the one form
/// coordd's encoders write (``canonical(_:)``), and by the JSON parser otherwise, which gives the same
/// message for what both accept. Building the parser's tree and strings was most of what decoding one cost.
public protocol CanonicallyDecodable: WireMessage {
    /// The message in `input` when it is exactly in the encoders' form; nil to let the parser decide.
    static func canonical(_ input: UnsafeRawBufferPointer) -> Self?
}

extension CanonicallyDecodable {
    /// Decodes a bare JSON message: its encoders' form directly, anything else by the parser.
    @inlinable
    public init(decoding bytes: [UInt8]) throws(StreamsError) {
        if let message = bytes.withUnsafeBytes({ Self.canonical($0) }) {
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
