/// Everything a ``WebSocketServer`` listens with, in one value.
public struct WebSocketServerConfiguration: Sendable {
    /// The address to bind: an IPv4 or IPv6 literal, or `localhost`.
    public var host: String
    /// The port; 0 picks a free one (read it back from ``WebSocketServer/port``).
    public var port: Int
    /// TLS for every connection when set (`wss://`); plain TCP otherwise.
    public var tls: TLSContext?
    /// Request head size limits and the header timeout (from accept until the head is complete,
    /// TLS handshake included).
    public var httpLimits: HTTPLimits
    /// WebSocket frame limits (8 MiB frame cap).
    public var webSocketLimits: WebSocketLimits
    /// Mux limits: payload size, receive queues, streams per connection, tombstones.
    public var muxLimits: MuxLimits
    /// JSON ping/pong timings.
    public var keepalive: MuxKeepalive
    /// The upgrade path (streamkit v1 §3.2).
    public var path: String

    /// Creates a configuration; every parameter but the address has coordd's default.
    public init(
        host: String, port: Int, tls: TLSContext? = nil, httpLimits: HTTPLimits = .standard,
        webSocketLimits: WebSocketLimits = .standard, muxLimits: MuxLimits = MuxLimits(),
        keepalive: MuxKeepalive = MuxKeepalive(), path: String = "/streamz"
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.httpLimits = httpLimits
        self.webSocketLimits = webSocketLimits
        self.muxLimits = muxLimits
        self.keepalive = keepalive
        self.path = path
    }
}
