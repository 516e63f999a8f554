import StreamCore

/// What a server connection needs from its ``WebSocketServer``.
struct WebSocketServerContext: Sendable {
    var configuration: WebSocketServerConfiguration
    var acceptor: any StreamAcceptor
    var connections: ServerConnections
}

extension WebSocketConnection {
    /// A connection accepted by a server; the header timeout starts now.
    static func accepted(_ tcp: TCPConnection, context: WebSocketServerContext) -> WebSocketConnection {
        let configuration = context.configuration
        var engine: TLSEngine?
        var engineError: TLSError?
        if let tls = configuration.tls {
            do {
                engine = try TLSEngine.server(context: tls)
            } catch {
                engineError = error
            }
        }
        let connection = WebSocketConnection(
            tcp: tcp, role: .server, tls: engine, webSocketLimits: configuration.webSocketLimits,
            muxLimits: configuration.muxLimits, keepalive: configuration.keepalive)
        connection.server = context
        connection.requestParser = HTTPRequestParser(limits: configuration.httpLimits)
        connection.startHandshakeTimer(ms: configuration.httpLimits.headerTimeoutMs)
        if let engineError { tcp.loop.events.report(.tlsHandshakeFailed(peer: tcp.remoteAddress, engineError)) }
        if !context.connections.add(connection) || engineError != nil {
            // The server is shutting down, or TLS cannot serve this connection: it ends at once.
            connection.loop.execute { connection.closeSocket() }
        }
        return connection
    }

    /// Request bytes before the upgrade.
    func serverReceive(_ bytes: UnsafeRawBufferPointer) {
        guard var parser = requestParser else { return }
        // Taken out while it parses, so its buffers are not copied on write.
        requestParser = nil
        switch parser.feed(bytes) {
        case .needMoreData:
            requestParser = parser
        case .failure(let error):
            respond(error.response, headOnly: false)
        case .head(let head, let consumed):
            route(head, bytes: bytes, consumed: consumed)
        }
    }

    private func route(_ head: HTTPRequestHead, bytes: UnsafeRawBufferPointer, consumed: Int) {
        guard let server else { return }
        cancelHandshakeTimer()
        guard head.path == server.configuration.path else {
            let response = server.acceptor.respond(to: head) ?? HTTPResponse.text(status: 404, "not found\n")
            respond(response, headOnly: head.method == "HEAD")
            return
        }
        let authorization: any ConnectionAuthorization
        switch server.acceptor.authorize(head, peer: tcp.remoteAddress) {
        case .failure(let refusal):
            respond(refusal, headOnly: false)
            return
        case .success(let granted):
            authorization = granted
        }
        switch WebSocketHandshake.serverResponse(for: head) {
        case .failure(let rejection):
            respond(rejection.response, headOnly: false)
        case .success(let response):
            writePlain(response.encoded())
            _ = openWebSocket(server: MuxConnection.ServerRole(authorization: authorization, acceptor: server.acceptor))
            server.connections.upgraded(self)
            loop.events.report(.webSocketOpened(peer: tcp.remoteAddress))
            // Frames the client sent right behind its request.
            readFrames(bytes, from: consumed)
        }
    }

    /// Answers a plain request (or a refused upgrade) and closes: one request per connection.
    private func respond(_ response: HTTPResponse, headOnly: Bool) {
        var response = response
        response.closeConnection = true
        var out: [UInt8] = []
        if headOnly { response.encodeHead(into: &out) } else { response.encode(into: &out) }
        writePlain(out)
        closeSocket()
    }
}
