/// Which end of a WebSocket connection a parser or encoder serves. It decides masking (RFC 6455 §5.1):
/// a client masks every frame it sends, a server never does, and each rejects the other's mistake.
public enum WebSocketRole: Sendable, Hashable {
    /// The accepting end: reads masked frames, writes unmasked ones.
    case server
    /// The connecting end: reads unmasked frames, writes masked ones.
    case client
}

/// A frame opcode (RFC 6455 §5.2). The reserved values are not representable: the parser rejects
/// them before a frame exists.
public enum WebSocketOpcode: UInt8, Sendable, Hashable {
    /// A continuation of a fragmented message (refused: streamkit peers never fragment).
    case continuation = 0x0
    /// A UTF-8 text frame: one mux message.
    case text = 0x1
    /// A binary frame (refused: streamkit speaks text only).
    case binary = 0x2
    /// The closing handshake.
    case close = 0x8
    /// A ping, answered with a pong carrying the same payload.
    case ping = 0x9
    /// A pong.
    case pong = 0xA

    /// True for close, ping and pong (opcodes with the high bit set).
    public var isControl: Bool { rawValue & 0x8 != 0 }
}

/// A close status code (RFC 6455 §7.4), as sent in close frames and carried by protocol failures.
public struct WebSocketCloseCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The numeric code.
    public var rawValue: UInt16

    /// Wraps a numeric code.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// 1000: the purpose of the connection is fulfilled.
    public static let normalClosure = WebSocketCloseCode(rawValue: 1000)
    /// 1001: the endpoint is going away (server shutdown, client leaving).
    public static let goingAway = WebSocketCloseCode(rawValue: 1001)
    /// 1002: the peer broke the framing rules.
    public static let protocolError = WebSocketCloseCode(rawValue: 1002)
    /// 1003: a data type this endpoint does not accept (here: binary and fragmented messages).
    public static let unsupportedData = WebSocketCloseCode(rawValue: 1003)
    /// 1007: a text payload that is not UTF-8.
    public static let invalidPayload = WebSocketCloseCode(rawValue: 1007)
    /// 1008: a policy violation (for example an unauthorised store).
    public static let policyViolation = WebSocketCloseCode(rawValue: 1008)
    /// 1009: a frame larger than `WebSocketLimits.maxFramePayloadBytes`.
    public static let messageTooBig = WebSocketCloseCode(rawValue: 1009)
    /// 1011: an unexpected condition inside the endpoint.
    public static let internalError = WebSocketCloseCode(rawValue: 1011)
    /// 1012: the service is restarting (IANA registry).
    public static let serviceRestart = WebSocketCloseCode(rawValue: 1012)
    /// 1013: overloaded, try again later (IANA registry).
    public static let tryAgainLater = WebSocketCloseCode(rawValue: 1013)

    /// True for codes a close frame may carry: 1000–1003, 1007–1014 and 3000–4999. 1005, 1006 and
    /// 1015 are reserved for local use and never sent (RFC 6455 §7.4.1, IANA registry).
    public var isValidOnWire: Bool {
        switch rawValue {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    /// A one-line rendering for logs.
    public var description: String { String(rawValue) }
}

/// One complete, unfragmented frame as the parser yields it, payload already unmasked.
public struct WebSocketFrame: Sendable, Hashable {
    /// The opcode: `.text`, `.close`, `.ping` or `.pong` (the parser refuses the others).
    public var opcode: WebSocketOpcode
    /// The FIN bit; always true for a yielded frame, since fragmentation is refused.
    public var fin: Bool
    /// The unmasked payload. The parser hands it over and keeps no reference, so it is the
    /// caller's to keep or move elsewhere without a copy.
    public var payload: [UInt8]

    /// Creates a frame.
    public init(opcode: WebSocketOpcode, fin: Bool = true, payload: [UInt8]) {
        self.opcode = opcode
        self.fin = fin
        self.payload = payload
    }

    /// For a close frame with a body, its status code; nil when the close frame has none (which the
    /// receiver treats as 1005, "no status received") or for other opcodes.
    public var closeCode: WebSocketCloseCode? {
        guard opcode == .close, payload.count >= 2 else { return nil }
        return WebSocketCloseCode(rawValue: UInt16(payload[0]) << 8 | UInt16(payload[1]))
    }

    /// For a close frame, the reason text after the code (empty when absent).
    public var closeReason: String {
        guard opcode == .close, payload.count > 2 else { return "" }
        return String(decoding: payload[2...], as: UTF8.self)
    }
}

/// A framing violation by the peer: the close code to send in the close frame, and why.
public struct WebSocketProtocolFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The code for the close frame answering the violation.
    public var code: WebSocketCloseCode
    /// A short reason, at most 123 bytes so it fits a close frame.
    public var reason: String

    /// Creates a failure.
    public init(code: WebSocketCloseCode, reason: String) {
        self.code = code
        self.reason = reason
    }

    /// A one-line rendering for logs.
    public var description: String { "\(code.rawValue) \(reason)" }
}
