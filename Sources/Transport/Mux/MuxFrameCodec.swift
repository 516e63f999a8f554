import Glibc
import StreamCore

/// The mux frame on the hot path: every stream message is encoded straight into its WebSocket frame,
/// and every received frame is scanned in place, without building a JSON tree or a `String` for the
/// base64 payload.
///
/// Both directions give exactly the bytes and values of ``MuxFrame/encoded()`` and
/// ``MuxFrame/decode(_:maxPayloadBytes:)``. Anything the scanner does not expect (escapes, numbers,
/// nested objects, duplicate keys in another case) falls back to the general decoder, so the two can
/// never disagree.
enum MuxFrameCodec {
    // MARK: Encoding

    // Static strings, not arrays: an array kept in a static costs a once-check and a retain at every use,
    // and these are written into every frame sent.
    private static let controlTypeKey: StaticString = #"{"ControlType":""#
    private static let storeKey: StaticString = #"","store_id":""#
    private static let channelKey: StaticString = #"","channel_id":""#
    private static let payloadKey: StaticString = #"","payload":"#
    private static let null: StaticString = "null"

    /// One WebSocket text frame carrying `frame` (masked with `maskKey` when given, as a client must).
    static func webSocketFrame(_ frame: MuxFrame, maskKey: UInt32?) -> [UInt8] {
        if let trace = frame.traceContext, !trace.isEmpty {
            // Only streamkit's own clients send trace context; the general encoder writes it.
            return framed(frame.encoded(), maskKey: maskKey)
        }
        let type = frame.controlType.asciiName
        let payloadCount = frame.payload.map { 2 + Base64.encodedCount($0.count) } ?? null.utf8CodeUnitCount
        let jsonCount = headCount(type) + payloadCount + 1
        let header = WebSocketFrameHeader(opcode: .text, payloadLength: jsonCount, maskKey: maskKey)
        let total = header.count + jsonCount
        // Written through one pointer into one allocation: this runs for every message sent.
        return [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            let base = UnsafeMutableRawPointer(buffer.baseAddress!)  // capacity > 0: a frame is never empty
            var writer = RawWriter(base: base)
            header.withUnsafeBytes { writer.write($0) }
            let start = writer.offset
            writer.writeHead(frame, type: type)
            if let payload = frame.payload {
                writer.writeByte(0x22)
                if MuxPayloadCache.shared.accepts(payload) {
                    // A large payload is usually one fanned out to many streams: encoded once.
                    writer.write(MuxPayloadCache.shared.base64(of: payload))
                } else {
                    payload.withUnsafeBytes { writer.writeBase64($0) }
                }
                writer.writeByte(0x22)
            } else {
                writer.write(null)
            }
            writer.writeByte(0x7D)
            precondition(writer.offset == total, "mux frame length computed as \(total), wrote \(writer.offset)")
            if let maskKey {
                WebSocketMasking.apply(
                    key: maskKey, keyOffset: 0,
                    to: UnsafeMutableRawBufferPointer(start: base + start, count: jsonCount))
            }
            initialized = total
        }
    }

    /// `frame` as the buffers to write, in order. On the server side (no mask), a large payload is sent as
    /// three: the frame's head up to the payload's opening quote, the payload's base64 from
    /// ``MuxPayloadCache`` — the same storage for every stream that sends this payload — and the closing
    /// `"}`. A snapshot fanned out to thousands of connections is then held once by their write queues,
    /// not once per connection, and never copied into each frame. Anything else is one buffer.
    static func webSocketFrameParts(_ frame: MuxFrame, maskKey: UInt32?) -> [[UInt8]] {
        guard maskKey == nil, frame.traceContext?.isEmpty ?? true, let payload = frame.payload,
              MuxPayloadCache.shared.accepts(payload)
        else { return [webSocketFrame(frame, maskKey: maskKey)] }
        let base64 = MuxPayloadCache.shared.base64(of: payload)
        let type = frame.controlType.asciiName
        let prefixCount = headCount(type) + 1
        let jsonCount = prefixCount + base64.count + closing.count
        let header = WebSocketFrameHeader(opcode: .text, payloadLength: jsonCount, maskKey: nil)
        let head = [UInt8](unsafeUninitializedCapacity: header.count + prefixCount) { buffer, initialized in
            var writer = RawWriter(base: UnsafeMutableRawPointer(buffer.baseAddress!))
            header.withUnsafeBytes { writer.write($0) }
            writer.writeHead(frame, type: type)
            writer.writeByte(0x22)
            precondition(writer.offset == header.count + prefixCount, "mux frame head length computed wrong")
            initialized = writer.offset
        }
        return [head, base64, closing]
    }

    /// Bytes of a frame's JSON before its payload value, for a control type of `type`.
    private static func headCount(_ type: StaticString) -> Int {
        controlTypeKey.utf8CodeUnitCount + type.utf8CodeUnitCount + storeKey.utf8CodeUnitCount + WireUUID.textCount
            + channelKey.utf8CodeUnitCount + WireUUID.textCount + payloadKey.utf8CodeUnitCount
    }

    /// What follows a payload's base64 at the end of a frame: its closing quote and the object's brace.
    private static let closing = Array(#""}"#.utf8)

    /// Sequential writes into memory the caller sized exactly.
    private struct RawWriter {
        let base: UnsafeMutableRawPointer
        var offset = 0

        mutating func write(_ bytes: UnsafeRawBufferPointer) {
            guard let source = bytes.baseAddress else { return }
            (base + offset).copyMemory(from: source, byteCount: bytes.count)
            offset += bytes.count
        }

        mutating func write(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { write($0) }
        }

        mutating func write(_ text: StaticString) {
            text.withUTF8Buffer { write(UnsafeRawBufferPointer($0)) }
        }

        /// A frame's JSON up to its payload value: control type, store and channel, the payload key.
        mutating func writeHead(_ frame: MuxFrame, type: StaticString) {
            write(MuxFrameCodec.controlTypeKey)
            write(type)
            write(MuxFrameCodec.storeKey)
            writeUUID(frame.storeID ?? .nil)
            write(MuxFrameCodec.channelKey)
            writeUUID(frame.channelID ?? .nil)
            write(MuxFrameCodec.payloadKey)
        }

        mutating func writeByte(_ byte: UInt8) {
            base.storeBytes(of: byte, toByteOffset: offset, as: UInt8.self)
            offset += 1
        }

        /// The canonical lowercase hyphenated text (36 bytes).
        mutating func writeUUID(_ id: WireUUID) {
            id.write(to: base + offset)
            offset += WireUUID.textCount
        }

        /// Padded standard base64 of `input`.
        mutating func writeBase64(_ input: UnsafeRawBufferPointer) {
            Base64.encodeStandard(input, to: base + offset)
            offset += Base64.encodedCount(input.count)
        }
    }

    /// `json` behind a text frame header, masked when `maskKey` is given.
    private static func framed(_ json: [UInt8], maskKey: UInt32?) -> [UInt8] {
        let header = WebSocketFrameHeader(opcode: .text, payloadLength: json.count, maskKey: maskKey)
        var out: [UInt8] = []
        out.reserveCapacity(header.count + json.count)
        header.withUnsafeBytes { out.append(contentsOf: $0) }
        let start = out.count
        out.append(contentsOf: json)
        if let maskKey {
            out.withUnsafeMutableBytes { buffer in
                WebSocketMasking.apply(key: maskKey, keyOffset: 0, to: UnsafeMutableRawBufferPointer(rebasing: buffer[start...]))
            }
        }
        return out
    }

    // MARK: Decoding

    /// Decodes one frame's JSON text (see the type's documentation).
    static func decode(_ text: [UInt8], maxPayloadBytes: Int) -> Result<MuxFrame, MuxFrameError> {
        let scanned = text.withUnsafeBytes { scanCanonical($0, maxPayloadBytes: maxPayloadBytes) }
        return scanned ?? MuxFrame.decode(text, maxPayloadBytes: maxPayloadBytes)
    }

    /// The fields of a canonical frame, or nil to let the general decoder decide.
    static func scanCanonical(_ input: UnsafeRawBufferPointer, maxPayloadBytes: Int) -> Result<MuxFrame, MuxFrameError>? {
        var reader = JSONCursor(input: input)
        var controlType: MuxControlType?
        var storeID: WireUUID?
        var channelID: WireUUID?
        var payload: Range<Int>?
        var seen: UInt8 = 0
        reader.skipSpace()
        guard reader.take(0x7B) else { return nil }
        reader.skipSpace()
        if reader.take(0x7D) { return nil }
        while true {
            guard let key = reader.plainString() else { return nil }
            reader.skipSpace()
            guard reader.take(0x3A) else { return nil }
            reader.skipSpace()
            guard let field = Field(key: input, key) else { return nil }
            // A repeated key (perhaps in another case) is left to the general decoder's rules.
            let bit: UInt8 = 1 << field.rawValue
            guard seen & bit == 0 else { return nil }
            seen |= bit
            if reader.takeNull() {
                if field == .controlType { return nil }
            } else {
                guard let value = field == .payload ? reader.stringToNextQuote() : reader.plainString() else { return nil }
                let bytes = UnsafeRawBufferPointer(rebasing: input[value])
                switch field {
                case .controlType:
                    guard let type = MuxControlType(ascii: bytes) else { return nil }
                    controlType = type
                case .storeID, .channelID:
                    guard let id = WireUUID(ascii: bytes) else { return nil }
                    if field == .storeID { storeID = id.isNil ? nil : id } else { channelID = id.isNil ? nil : id }
                case .payload:
                    payload = value
                }
            }
            reader.skipSpace()
            if reader.take(0x7D) { break }
            guard reader.take(0x2C) else { return nil }
            reader.skipSpace()
        }
        reader.skipSpace()
        guard reader.atEnd, let controlType else { return nil }
        var frame = MuxFrame(controlType: controlType, storeID: storeID, channelID: channelID)
        if let payload {
            let encoded = UnsafeRawBufferPointer(rebasing: input[payload])
            guard encoded.count / 4 * 3 - 2 <= maxPayloadBytes, let decoded = Base64.decodeStandard(encoded),
                decoded.count <= maxPayloadBytes
            else { return nil }
            frame.payload = decoded
        }
        return .success(frame)
    }

    /// The keys of a frame, matched ignoring ASCII case as Go matches struct fields.
    private enum Field: Int {
        case payload = 0
        case storeID = 1
        case channelID = 2
        case controlType = 3

        /// The field named by `input[range]`, by its length and then its bytes.
        init?(key input: UnsafeRawBufferPointer, _ range: Range<Int>) {
            let field: Field
            let name: StaticString
            switch range.count {
            case 7: (field, name) = (.payload, "payload")
            case 8: (field, name) = (.storeID, "store_id")
            case 10: (field, name) = (.channelID, "channel_id")
            case 11: (field, name) = (.controlType, "controltype")
            default: return nil
            }
            let expected = name.utf8Start
            var offset = 0
            for index in range {
                guard HTTPSyntax.lowercased(input[index]) == expected[offset] else { return nil }
                offset += 1
            }
            self = field
        }
    }
}

extension MuxControlType {
    /// The type named by exactly these ASCII bytes.
    fileprivate init?(ascii bytes: UnsafeRawBufferPointer) {
        let candidate: MuxControlType
        switch (bytes.count, bytes.first) {
        case (4, 0x64?): candidate = .data  // "d"
        case (4, 0x70?): candidate = bytes[1] == 0x69 ? .ping : .pong  // "p", then "i" or "o"
        case (5, 0x63?): candidate = .close  // "c"
        case (5, 0x65?): candidate = .error  // "e"
        default: return nil
        }
        // The lengths matched above.
        guard memcmp(candidate.asciiName.utf8Start, bytes.baseAddress!, bytes.count) == 0 else { return nil }
        self = candidate
    }

    /// The raw value as a static string: read and written for every frame, where the raw value would
    /// build a `String` (and an array of its bytes) each time.
    fileprivate var asciiName: StaticString {
        switch self {
        case .data: "data"
        case .ping: "ping"
        case .pong: "pong"
        case .close: "close"
        case .error: "error"
        }
    }
}

extension MuxFrame {
    /// The parsing entry point for a received frame's JSON text, as a connection runs it on every frame:
    /// the in-place scanner for canonical frames, the general ``decode(_:maxPayloadBytes:)`` for the rest.
    /// Both give the same answer for every input.
    public static func decodeReceived(
        _ text: [UInt8], maxPayloadBytes: Int = MuxLimits.defaultMaxMessagePayloadBytes
    ) -> Result<MuxFrame, MuxFrameError> {
        MuxFrameCodec.decode(text, maxPayloadBytes: maxPayloadBytes)
    }

    /// The WebSocket text frame that carries this frame, exactly as a connection sends it (masked with
    /// `maskKey` when given, as a client must).
    public func webSocketFrame(maskKey: UInt32? = nil) -> [UInt8] {
        MuxFrameCodec.webSocketFrame(self, maskKey: maskKey)
    }
}
