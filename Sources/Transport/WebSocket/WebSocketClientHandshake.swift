import StreamCore

/// The client side of the RFC 6455 §4.1 opening handshake: the upgrade request to send, then an
/// incremental check of the server's answer.
///
/// The request carries `Host`, the upgrade fields, a fresh random 16-byte key, and the caller's extra
/// fields, such as `Authorization: Bearer …` and `Origin: http://localhost` (which a streamkit server
/// requires and coordd does not).
public struct WebSocketClientHandshake: Sendable {
    /// What feeding the server's bytes produced.
    public enum Event: Sendable, Hashable {
        /// Every byte was taken; the response head is not complete yet.
        case needMoreData
        /// The server agreed. The first `consumed` bytes of the last input were the response head;
        /// any bytes after them are already WebSocket frames.
        case upgraded(HTTPResponseHead, consumed: Int)
        /// The server refused, or answered something that is not a valid upgrade.
        case failure(WebSocketClientHandshakeError)
    }

    /// Header fields the handshake writes itself; extra headers may not repeat them.
    private static let ownFields = [
        "Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version",
    ]

    /// The request to send.
    public let request: HTTPRequestHead
    /// The `Sec-WebSocket-Key` sent: base64 of 16 random bytes.
    public let key: String
    /// The `Sec-WebSocket-Accept` value the server must answer with.
    public let expectedAccept: String
    private var parser: HTTPResponseParser
    private var result: Event?

    /// Prepares a handshake with a random key from OpenSSL's `RAND_bytes`.
    ///
    /// - Parameters:
    ///   - host: the `Host` value, with the port when it is not the scheme's default
    ///     (`127.0.0.1:7400`, `[::1]:7400`).
    ///   - path: the request target, e.g. `/streamz`.
    ///   - headers: extra fields such as `Authorization` and `Origin`.
    ///   - limits: limits for the response head.
    public init(host: String, path: String, headers: HTTPHeaders = [:], limits: HTTPLimits = .standard) {
        self.init(host: host, path: path, headers: headers, keyBytes: SecureRandom.bytes(16), limits: limits)
    }

    /// Prepares a handshake with a given 16-byte key (tests use fixed keys).
    init(host: String, path: String, headers: HTTPHeaders, keyBytes: [UInt8], limits: HTTPLimits) {
        precondition(keyBytes.count == 16, "a WebSocket key is 16 bytes")
        for name in Self.ownFields {
            precondition(!headers.contains(name), "the handshake writes \(name) itself")
        }
        let key = Base64.encode(keyBytes)
        var fields: HTTPHeaders = [
            "Host": host,
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": key,
            "Sec-WebSocket-Version": WebSocketHandshake.protocolVersion,
        ]
        for field in headers { fields.add(name: field.name, value: field.value) }
        self.request = HTTPRequestHead(method: "GET", target: path, version: .http1_1, headers: fields)
        self.key = key
        self.expectedAccept = WebSocketHandshake.acceptValue(forKey: key)
        self.parser = HTTPResponseParser(limits: limits)
    }

    /// The request bytes to send.
    public var requestBytes: [UInt8] { request.encoded() }

    /// Feeds bytes received from the server.
    public mutating func feed(_ input: UnsafeRawBufferPointer) -> Event {
        if let result { return result }
        let event: Event
        switch parser.feed(input) {
        case .needMoreData:
            return .needMoreData
        case .failure(let error):
            event = .failure(.malformedResponse(error))
        case .head(let head, let consumed):
            if let error = validate(head) {
                event = .failure(error)
            } else {
                event = .upgraded(head, consumed: consumed)
            }
        }
        result = event
        return event
    }

    /// Feeds bytes received from the server.
    public mutating func feed(_ bytes: [UInt8]) -> Event {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// Checks a complete response against RFC 6455 §4.1 (the client's checks 1–6).
    private func validate(_ head: HTTPResponseHead) -> WebSocketClientHandshakeError? {
        let headers = head.headers
        guard head.status == 101 else { return .unexpectedStatus(head.status, reason: head.reason) }
        guard headers.containsToken("websocket", in: "Upgrade") else { return .missingUpgrade }
        guard headers.containsToken("upgrade", in: "Connection") else { return .missingConnectionUpgrade }
        guard headers["Sec-WebSocket-Accept"] == expectedAccept else { return .wrongAcceptKey }
        if let extensions = headers["Sec-WebSocket-Extensions"], !extensions.isEmpty {
            return .unexpectedExtension(extensions)
        }
        if let subprotocol = headers["Sec-WebSocket-Protocol"] { return .unexpectedSubprotocol(subprotocol) }
        return nil
    }
}

/// Why a client's WebSocket handshake failed.
public enum WebSocketClientHandshakeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The response head could not be parsed (or was too large).
    case malformedResponse(HTTPParseError)
    /// The server answered with a status other than 101, e.g. 401 for a missing or rejected token.
    case unexpectedStatus(Int, reason: String)
    /// The 101 response lacks `Upgrade: websocket`.
    case missingUpgrade
    /// The 101 response lacks the `upgrade` connection option.
    case missingConnectionUpgrade
    /// `Sec-WebSocket-Accept` does not match the key sent.
    case wrongAcceptKey
    /// The server agreed to an extension that was never offered.
    case unexpectedExtension(String)
    /// The server chose a subprotocol that was never offered.
    case unexpectedSubprotocol(String)

    /// True when the server refused the credentials (401 or 403), which a reconnecting client treats
    /// differently from a transient failure.
    public var isAuthenticationFailure: Bool {
        if case .unexpectedStatus(let status, _) = self { return status == 401 || status == 403 }
        return false
    }

    /// A one-line rendering for logs.
    public var description: String {
        switch self {
        case .malformedResponse(let error): "malformed handshake response: \(error.reason)"
        case .unexpectedStatus(let status, let reason): "handshake answered \(status) \(reason)"
        case .missingUpgrade: "handshake response lacks Upgrade: websocket"
        case .missingConnectionUpgrade: "handshake response lacks Connection: Upgrade"
        case .wrongAcceptKey: "handshake response has the wrong Sec-WebSocket-Accept"
        case .unexpectedExtension(let value): "server agreed to an unrequested extension: \(value)"
        case .unexpectedSubprotocol(let value): "server chose an unrequested subprotocol: \(value)"
        }
    }
}
