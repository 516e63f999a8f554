import StreamCore

/// Opens one client connection: resolve, TCP connect, TLS, the WebSocket upgrade with the bearer
/// token, and the muxer on top.
enum WebSocketDialer {
    /// A connected muxer, or why not: `unauthorized` / `handshake_refused` (permanent) when the server
    /// refused the upgrade, a transient error for everything that may pass (refused, reset, timed out).
    static func dial(
        url: WebSocketURL, token: String?, tls: TLSContext?, loop: EventLoop, limits: WebSocketClientLimits
    ) async throws(StreamsError) -> MuxConnection {
        let address = try await HostResolver.resolve(host: url.host, port: url.port)
        var headers: HTTPHeaders = ["Origin": limits.origin]
        if let token {
            guard HTTPHeaders.isValidValue(token), !token.isEmpty else {
                throw .unauthorized("the token is not a valid header value")
            }
            headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        let handshake = WebSocketClientHandshake(host: url.hostHeader, path: url.path, headers: headers, limits: limits.http)
        let outcome = LoopOutcome<MuxConnection>()
        let serverName = url.host
        do {
            _ = try await TCPConnection.connect(host: address.host, port: address.port, on: loop) { tcp in
                var engine: TLSEngine?
                if let tls {
                    do throws(TLSError) {
                        engine = try TLSEngine.client(context: tls, serverName: serverName)
                    } catch {
                        outcome.complete(.failure(.streamClosed("cannot start TLS: \(error.message)")))
                    }
                }
                let connection = WebSocketConnection.dialing(tcp, tls: engine, handshake: handshake, limits: limits) {
                    outcome.complete($0)
                }
                if tls == nil || engine != nil {
                    // Runs after the runtime has activated the connection.
                    tcp.loop.execute { connection.startClient(timeoutMs: limits.handshakeTimeoutMs) }
                } else {
                    tcp.loop.execute { connection.closeSocket() }
                }
                return connection
            }
        } catch {
            throw .streamClosed("cannot connect to \(url): \(error)")
        }
        return try await outcome.value()
    }
}
