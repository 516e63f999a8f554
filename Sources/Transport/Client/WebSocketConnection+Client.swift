import StreamCore

extension WebSocketConnection {
    /// A client connection that will send `handshake`'s request and report the outcome to `completion`
    /// (on the loop, once): the muxer once upgraded, or why not.
    static func dialing(
        _ tcp: TCPConnection, tls: TLSEngine?, handshake: WebSocketClientHandshake, limits: WebSocketClientLimits,
        completion: @escaping (Result<MuxConnection, StreamsError>) -> Void
    ) -> WebSocketConnection {
        let connection = WebSocketConnection(
            tcp: tcp, role: .client, tls: tls, webSocketLimits: limits.webSocket, muxLimits: limits.mux,
            keepalive: limits.keepalive)
        connection.clientHandshake = handshake
        connection.clientCompletion = completion
        return connection
    }

    /// Starts TLS (when configured) and sends the upgrade request; the handshake must finish within
    /// `timeoutMs`.
    func startClient(timeoutMs: Int) {
        guard phase == .handshaking, let handshake = clientHandshake else { return }
        startHandshakeTimer(ms: timeoutMs)
        // With TLS the request waits in the engine until the handshake finishes, then goes out.
        writePlain(handshake.requestBytes)
    }

    /// The server's answer to the upgrade request.
    func clientReceive(_ bytes: UnsafeRawBufferPointer) {
        guard var handshake = clientHandshake else { return }
        clientHandshake = nil
        if handshakeBytes.count < Self.keptRefusalBytes {
            handshakeBytes.append(contentsOf: bytes.prefix(Self.keptRefusalBytes - handshakeBytes.count))
        }
        switch handshake.feed(bytes) {
        case .needMoreData:
            clientHandshake = handshake
        case .upgraded(_, let consumed):
            handshakeBytes = []
            let mux = openWebSocket(server: nil)
            if let completion = clientCompletion {
                clientCompletion = nil
                completion(.success(mux))
            }
            readFrames(bytes, from: consumed)
        case .failure(let error):
            failHandshake(Self.refusal(error, body: Self.body(of: handshakeBytes)))
            closeSocket()
        }
    }

    /// Bytes of a refused handshake kept to quote the server's reason: a head and a short body.
    private static let keptRefusalBytes = 32 * 1024

    /// The text after the response head, trimmed and cut to a line's length.
    private static func body(of response: [UInt8]) -> String {
        guard let head = response.firstRange(of: Array("\r\n\r\n".utf8)) else { return "" }
        let text = String(decoding: response[head.upperBound...].prefix(200), as: UTF8.self)
        return text.trimmingCharacters(in: " \r\n\t")
    }

    /// The error a failed handshake fails the dial with: the server's refusal of the credentials is
    /// permanent (`unauthorized`); a 4xx is a permanent refusal; anything else may pass.
    static func refusal(_ error: WebSocketClientHandshakeError, body: String) -> StreamsError {
        let detail = body.isEmpty ? error.description : "\(error.description): \(body)"
        if error.isAuthenticationFailure { return .unauthorized(detail) }
        if case .unexpectedStatus(let status, _) = error, (400..<500).contains(status), status != 408, status != 429 {
            return .handshakeRefused(detail)
        }
        return .streamClosed("WebSocket handshake failed: \(detail)")
    }
}

extension String {
    /// The string without leading and trailing characters from `characters`.
    fileprivate func trimmingCharacters(in characters: String) -> String {
        let set = Set(characters)
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}

extension StreamsError {
    /// The server refused the credentials (HTTP 401 or 403 to the upgrade); retrying with the same
    /// token fails the same way.
    public static func unauthorized(_ detail: String) -> StreamsError {
        StreamsError(.permanent, name: "unauthorized", message: "unauthorized: \(detail)")
    }

    /// The server refused the upgrade for a reason other than credentials (wrong path, not a
    /// WebSocket endpoint).
    public static func handshakeRefused(_ detail: String) -> StreamsError {
        StreamsError(.permanent, name: "handshake_refused", message: "WebSocket upgrade refused: \(detail)")
    }

    /// The provider was closed; no more streams open through it.
    public static let providerClosed = StreamsError(
        .permanent, name: "provider_closed", message: "the stream provider was closed")
}
