/// An incremental RFC 6455 frame parser, restricted to what streamkit peers send: unfragmented text
/// frames and control frames.
///
/// Feed it the bytes of a connection as they arrive; it yields one frame at a time with its payload
/// unmasked, or a `WebSocketProtocolFailure` carrying the close code to answer with:
///
/// | Violation | Close code |
/// |---|---|
/// | mask bit wrong for the role (clients mask, servers do not) | 1002 |
/// | RSV bits set (no extension is ever negotiated), unknown opcode | 1002 |
/// | control frame longer than 125 bytes or without FIN | 1002 |
/// | 64-bit length with the top bit set | 1002 |
/// | close payload of 1 byte, or a close code not valid on the wire | 1002 |
/// | binary frame | 1003 |
/// | fragmented message (text without FIN, continuation frame) | 1003 |
/// | text payload or close reason that is not UTF-8 | 1007 |
/// | payload longer than `WebSocketLimits.maxFramePayloadBytes` | 1009 |
///
/// Everything the header can reveal is checked as soon as the header is complete (the first two
/// bytes as soon as they arrive), so an oversized frame is refused before any payload is buffered.
/// Non-minimal length encodings are accepted, as RFC 6455 §5.2 lets readers do. After a failure the
/// parser keeps answering it: the connection sends a close frame with its code and stops reading.
public struct WebSocketFrameParser: Sendable {
    /// What the next step of parsing produced.
    public enum Event: Sendable, Hashable {
        /// Every input byte was taken; the current frame is incomplete.
        case needMoreData
        /// A complete frame; bytes after it in the input are still to be parsed.
        case frame(WebSocketFrame)
        /// The peer broke the protocol.
        case failure(WebSocketProtocolFailure)
    }

    private enum State: Sendable {
        case header
        case payload
        case failed(WebSocketProtocolFailure)
    }

    /// Which end this parser reads for (it decides the required mask bit).
    public let role: WebSocketRole
    /// The limits this parser enforces.
    public let limits: WebSocketLimits

    private var state = State.header
    /// A header split across inputs, at most 14 bytes; empty when headers arrive whole.
    private var pendingHeader: [UInt8] = []
    private var opcode = WebSocketOpcode.text
    private var fin = true
    private var masked = false
    /// The masking key in memory order (as the four bytes appear on the wire).
    private var maskKey: UInt32 = 0
    private var payloadLength = 0
    private var payload: [UInt8] = []

    /// Creates a parser for frames arriving at `role`'s end.
    public init(role: WebSocketRole, limits: WebSocketLimits = .standard) {
        self.role = role
        self.limits = limits
        pendingHeader.reserveCapacity(14)
    }

    /// Parses from `input[offset...]`, advancing `offset` past the bytes used, until one frame is
    /// complete, the input is exhausted, or the peer is found breaking the protocol. Call it again
    /// with the same input and offset until it answers `.needMoreData`.
    public mutating func next(in input: UnsafeRawBufferPointer, at offset: inout Int) -> Event {
        precondition(offset >= 0 && offset <= input.count, "offset \(offset) outside input of \(input.count) bytes")
        while true {
            switch state {
            case .failed(let failure):
                return .failure(failure)
            case .header:
                if let event = readHeader(from: input, at: &offset) { return event }
            case .payload:
                return readPayload(from: input, at: &offset)
            }
        }
    }

    /// Parses from `input[offset...]`; see `next(in:at:)` for buffers.
    public mutating func next(in input: [UInt8], at offset: inout Int) -> Event {
        input.withUnsafeBytes { next(in: $0, at: &offset) }
    }

    // MARK: - Header

    /// Bytes in a header whose second byte is `second`: 2, plus 2 or 8 for an extended length, plus 4
    /// for a masking key.
    @inline(__always)
    private static func headerLength(second: UInt8) -> Int {
        let lengthBytes = switch second & 0x7F {
        case 126: 2
        case 127: 8
        default: 0
        }
        return 2 + lengthBytes + (second & 0x80 != 0 ? 4 : 0)
    }

    /// Reads a header; nil when it is complete and the payload state was entered, else the event
    /// to return.
    private mutating func readHeader(from input: UnsafeRawBufferPointer, at offset: inout Int) -> Event? {
        let available = input.count - offset
        if pendingHeader.isEmpty && available >= 2 {
            // Fast path: the header is parsed in place when the input holds it whole.
            if let failure = checkFirstBytes(input[offset], input[offset + 1]) { return fail(failure) }
            let length = Self.headerLength(second: input[offset + 1])
            if available >= length {
                defer { offset += length }
                return beginFrame(header: UnsafeRawBufferPointer(rebasing: input[offset..<(offset + length)]))
            }
        }
        // Slow path: gather the header across inputs.
        while true {
            let length = pendingHeader.count < 2 ? 2 : Self.headerLength(second: pendingHeader[1])
            if pendingHeader.count == length { break }
            guard offset < input.count else { return .needMoreData }
            let take = min(length - pendingHeader.count, input.count - offset)
            pendingHeader.append(contentsOf: input[offset..<(offset + take)])
            offset += take
            if pendingHeader.count == 2, let failure = checkFirstBytes(pendingHeader[0], pendingHeader[1]) {
                return fail(failure)
            }
        }
        defer { pendingHeader.removeAll(keepingCapacity: true) }
        return pendingHeader.withUnsafeBytes { beginFrame(header: $0) }
    }

    /// Checks everything the first two header bytes decide.
    private func checkFirstBytes(_ first: UInt8, _ second: UInt8) -> WebSocketProtocolFailure? {
        if first & 0x70 != 0 { return protocolError("reserved bits set without a negotiated extension") }
        guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else {
            return protocolError("unknown opcode \(first & 0x0F)")
        }
        let fin = first & 0x80 != 0
        let masked = second & 0x80 != 0
        switch role {
        case .server where !masked: return protocolError("client frames must be masked")
        case .client where masked: return protocolError("server frames must not be masked")
        default: break
        }
        if opcode.isControl {
            if !fin { return protocolError("fragmented control frame") }
            if Int(second & 0x7F) > WebSocketLimits.maxControlPayloadBytes {
                return protocolError("control frame payload over 125 bytes")
            }
            return nil
        }
        switch opcode {
        case .binary:
            return WebSocketProtocolFailure(code: .unsupportedData, reason: "binary frames are not supported")
        case .continuation:
            return WebSocketProtocolFailure(code: .unsupportedData, reason: "fragmented messages are not supported")
        default:
            guard fin else {
                return WebSocketProtocolFailure(code: .unsupportedData, reason: "fragmented messages are not supported")
            }
            return nil
        }
    }

    /// Takes a complete, already checked header; nil when payload bytes follow, else the event.
    private mutating func beginFrame(header: UnsafeRawBufferPointer) -> Event? {
        // checkFirstBytes accepted the header, so the opcode is one of the defined values.
        opcode = WebSocketOpcode(rawValue: header[0] & 0x0F) ?? .text
        fin = header[0] & 0x80 != 0
        masked = header[1] & 0x80 != 0
        var position = 2
        var length = UInt64(header[1] & 0x7F)
        let extended = length == 126 ? 2 : length == 127 ? 8 : 0
        if extended > 0 {
            length = 0
            for i in 0..<extended { length = length << 8 | UInt64(header[2 + i]) }
            position += extended
        }
        if length & (1 << 63) != 0 { return fail(protocolError("64-bit payload length with the top bit set")) }
        guard length <= UInt64(limits.maxFramePayloadBytes) else {
            return fail(
                WebSocketProtocolFailure(
                    code: .messageTooBig,
                    reason: "frame payload of \(length) bytes exceeds the \(limits.maxFramePayloadBytes)-byte limit"))
        }
        if masked { maskKey = header.loadUnaligned(fromByteOffset: position, as: UInt32.self) }
        payloadLength = Int(length)
        if payloadLength == 0 { return finishFrame() }
        state = .payload
        return nil
    }

    // MARK: - Payload

    private mutating func readPayload(from input: UnsafeRawBufferPointer, at offset: inout Int) -> Event {
        let received = payload.count
        let take = min(payloadLength - received, input.count - offset)
        let source = UnsafeRawBufferPointer(rebasing: input[offset..<(offset + take)])
        offset += take
        if received == 0 && take == payloadLength {
            // The whole payload is here: allocate it exactly and unmask while copying, in one pass.
            payload = [UInt8](unsafeUninitializedCapacity: take) { buffer, initialized in
                let destination = UnsafeMutableRawBufferPointer(buffer)
                if masked {
                    WebSocketMasking.copy(source, to: destination, key: maskKey, keyOffset: 0)
                } else {
                    destination.copyMemory(from: source)
                }
                initialized = take
            }
            return finishFrame()
        }
        let needed = received + take
        if payload.capacity < needed {
            // Grow geometrically but never past the announced length: memory follows the bytes that
            // actually arrived, not the length a peer announced.
            payload.reserveCapacity(
                min(payloadLength, max(needed, payload.capacity * 2, limits.initialPayloadReserveBytes)))
        }
        payload.append(contentsOf: source)
        if masked {
            payload.withUnsafeMutableBytes { buffer in
                WebSocketMasking.apply(
                    key: maskKey, keyOffset: received, to: UnsafeMutableRawBufferPointer(rebasing: buffer[received...]))
            }
        }
        return payload.count == payloadLength ? finishFrame() : .needMoreData
    }

    /// Validates the complete payload and hands the frame over.
    private mutating func finishFrame() -> Event {
        switch opcode {
        case .text:
            guard UTF8Validation.isValid(payload) else {
                return fail(WebSocketProtocolFailure(code: .invalidPayload, reason: "text frame is not valid UTF-8"))
            }
        case .close:
            if payload.count == 1 { return fail(protocolError("close frame with a 1-byte payload")) }
            if payload.count >= 2 {
                let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
                guard WebSocketCloseCode(rawValue: code).isValidOnWire else {
                    return fail(protocolError("invalid close code \(code)"))
                }
                let reasonIsValid = payload.withUnsafeBytes {
                    UTF8Validation.isValid(UnsafeRawBufferPointer(rebasing: $0[2...]))
                }
                guard reasonIsValid else {
                    return fail(
                        WebSocketProtocolFailure(code: .invalidPayload, reason: "close reason is not valid UTF-8"))
                }
            }
        default:
            break
        }
        state = .header
        let frame = WebSocketFrame(opcode: opcode, fin: fin, payload: payload)
        payload = []
        return .frame(frame)
    }

    // MARK: - Failure

    private func protocolError(_ reason: String) -> WebSocketProtocolFailure {
        WebSocketProtocolFailure(code: .protocolError, reason: reason)
    }

    private mutating func fail(_ failure: WebSocketProtocolFailure) -> Event {
        state = .failed(failure)
        payload = []
        pendingHeader = []
        return .failure(failure)
    }
}
