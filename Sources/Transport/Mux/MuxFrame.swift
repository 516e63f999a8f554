import StreamCore

/// The kind of a mux frame: streamkit's `ControlType` (streamkit v1 §3.3).
public enum MuxControlType: String, Sendable, Hashable, CaseIterable {
    /// One message of one logical stream.
    case data
    /// Connection keepalive; answered with `pong`.
    case ping
    /// The answer to `ping`.
    case pong
    /// Shuts down the whole connection (not one stream).
    case close
    /// A per-channel error whose payload is a `mux::error` message.
    case error
}

/// One streamkit mux frame (`MuxerMsg`): the JSON object carried by each WebSocket text frame.
///
/// Encoded exactly as streamkit's Go encoder writes it: `ControlType` (capitalised, no JSON tag in
/// Go) first, then `store_id`, `channel_id` (the nil UUID when absent, since Go never omits a
/// `uuid.UUID`), `payload` (padded base64, or `null`) and `trace_context` (omitted when empty).
/// Decoding is tolerant like Go's: keys match in any case, absent fields read as absent.
public struct MuxFrame: Sendable, Hashable {
    /// What the frame is.
    public var controlType: MuxControlType
    /// The store the frame's stream addresses; nil for connection-level frames.
    public var storeID: WireUUID?
    /// The logical stream; nil for connection-level frames.
    public var channelID: WireUUID?
    /// The raw bytes of one application message (base64 on the wire); nil is JSON `null`.
    public var payload: [UInt8]?
    /// W3C trace propagation keys; only client data frames carry them, and nothing reads them.
    public var traceContext: [String: String]?

    /// Creates a frame.
    public init(
        controlType: MuxControlType, storeID: WireUUID? = nil, channelID: WireUUID? = nil,
        payload: [UInt8]? = nil, traceContext: [String: String]? = nil
    ) {
        self.controlType = controlType
        self.storeID = storeID
        self.channelID = channelID
        self.payload = payload
        self.traceContext = traceContext
    }

    /// A connection-level `ping`.
    public static let ping = MuxFrame(controlType: .ping)
    /// A connection-level `pong`.
    public static let pong = MuxFrame(controlType: .pong)
    /// A connection-level `close`.
    public static let close = MuxFrame(controlType: .close)

    /// The frame's JSON text.
    public func encoded() -> [UInt8] {
        var writer = JSONWriter(capacity: 128 + Base64.encodedCount(payload?.count ?? 0))
        write(to: &writer)
        return writer.bytes
    }

    /// Writes the frame's JSON object.
    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("ControlType")
        w.string(controlType.rawValue)
        w.key("store_id")
        w.uuid(storeID)
        w.key("channel_id")
        w.uuid(channelID)
        w.key("payload")
        w.base64(payload)
        if let traceContext, !traceContext.isEmpty {
            w.key("trace_context")
            w.stringMap(traceContext)
        }
        w.endObject()
    }
}

/// Why a text frame is not a usable mux frame, with as much of the frame as could be read so the
/// answer can go to the right channel.
public struct MuxFrameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The store named by the frame, when it could be read.
    public var storeID: WireUUID?
    /// The channel named by the frame, when it could be read.
    public var channelID: WireUUID?
    /// What is wrong, e.g. `invalid mux frame: payload is not valid base64`.
    public var message: String

    /// Creates an error.
    public init(storeID: WireUUID? = nil, channelID: WireUUID? = nil, message: String) {
        self.storeID = storeID
        self.channelID = channelID
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

extension MuxFrame {
    /// Decodes one frame's JSON text.
    ///
    /// `maxPayloadBytes` is checked from the base64 length before anything is decoded, so an
    /// oversized payload costs no allocation of its own.
    public static func decode(
        _ bytes: some Collection<UInt8>, maxPayloadBytes: Int = MuxLimits.defaultMaxMessagePayloadBytes
    ) -> Result<MuxFrame, MuxFrameError> {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            return .failure(MuxFrameError(message: "invalid mux frame: \(error.message)"))
        }
        guard case .object(let members) = value else {
            return .failure(MuxFrameError(message: "invalid mux frame: expected a JSON object, got \(value.typeName)"))
        }
        let fields = FoldedMembers(members)
        // The ids first, so every later failure can name its channel.
        var ids: (store: WireUUID?, channel: WireUUID?) = (nil, nil)
        for (name, slot) in [("store_id", 0), ("channel_id", 1)] {
            switch fields[name] {
            case nil, .null?:
                continue
            case .string(let text)?:
                guard let id = WireUUID(text) else {
                    return .failure(
                        MuxFrameError(
                            storeID: ids.store, channelID: ids.channel,
                            message: "invalid mux frame: \(name) \"\(InputExcerpt.excerpt(text))\" is not a UUID"))
                }
                if slot == 0 { ids.store = id.isNil ? nil : id } else { ids.channel = id.isNil ? nil : id }
            case let other?:
                return .failure(
                    MuxFrameError(
                        storeID: ids.store, channelID: ids.channel,
                        message: "invalid mux frame: \(name) must be a UUID string, got \(other.typeName)"))
            }
        }
        func failure(_ message: String) -> Result<MuxFrame, MuxFrameError> {
            .failure(MuxFrameError(storeID: ids.store, channelID: ids.channel, message: "invalid mux frame: \(message)"))
        }
        guard case .string(let typeText)? = fields["ControlType"] else {
            return failure("missing ControlType")
        }
        guard let controlType = MuxControlType(rawValue: typeText) else {
            return failure("unknown ControlType \"\(InputExcerpt.excerpt(typeText))\"")
        }
        var payload: [UInt8]?
        switch fields["payload"] {
        case nil, .null?:
            break
        case .string(let text)?:
            let utf8 = text.utf8
            // Every 4 base64 characters carry at most 3 bytes.
            if utf8.count / 4 * 3 - 2 > maxPayloadBytes {
                return failure("payload over \(maxPayloadBytes) bytes (MuxLimits.maxMessagePayloadBytes)")
            }
            guard let decoded = Base64.decode(utf8) else { return failure("payload is not valid base64") }
            guard decoded.count <= maxPayloadBytes else {
                return failure("payload of \(decoded.count) bytes is over \(maxPayloadBytes) (MuxLimits.maxMessagePayloadBytes)")
            }
            payload = decoded
        case let other?:
            return failure("payload must be a base64 string, got \(other.typeName)")
        }
        var traceContext: [String: String]?
        switch fields["trace_context"] {
        case nil, .null?:
            break
        case .object(let map)?:
            var context: [String: String] = [:]
            for (key, value) in map {
                guard case .string(let text) = value else { return failure("trace_context values must be strings") }
                context[key] = text
            }
            // An empty map is no trace context: the encoder omits it, so a frame reads back as it was sent.
            traceContext = context.isEmpty ? nil : context
        case let other?:
            return failure("trace_context must be an object, got \(other.typeName)")
        }
        return .success(
            MuxFrame(
                controlType: controlType, storeID: ids.store, channelID: ids.channel, payload: payload,
                traceContext: traceContext))
    }
}

/// Object members looked up as Go's `encoding/json` matches struct fields: an exact key first, then
/// any key equal ignoring ASCII case.
private struct FoldedMembers {
    let members: JSONObject

    init(_ members: JSONObject) {
        self.members = members
    }

    subscript(name: String) -> JSONValue? {
        if let exact = members[name] { return exact }
        let folded = name.lowercased()
        for (key, value) in members where key.count == name.count && key.lowercased() == folded {
            return value
        }
        return nil
    }
}
