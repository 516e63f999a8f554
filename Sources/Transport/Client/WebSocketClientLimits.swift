/// Every count, time and size the WebSocket client bounds, each with where it comes from.
public struct WebSocketClientLimits: Sendable, Hashable {
    /// Attempts one `callStream` makes to get a connection and send its request: streamkit's
    /// `maxEncodeAttempts` (7, streamkit v1 §3.5). With the backoff below a dead server is reported
    /// after about six seconds.
    public var maxCallAttempts = 7
    /// Server URLs one provider takes (the daemons of a cluster): coordd's choice, many more than any
    /// cluster has, and a bound on what a mistyped list can make a client hold.
    public static let maxURLs = 64
    /// The first pause between attempts: streamkit's 100 ms, doubling per attempt.
    public var backoffInitialMs = 100
    /// The longest pause between attempts: streamkit's 10 s cap.
    public var backoffMaxMs = 10_000
    /// Each pause is moved by up to this fraction either way (streamkit's ±20 %), so clients that lost
    /// the same server do not all come back at once.
    public var backoffJitter = 0.2
    /// How long the TCP connect, TLS handshake and HTTP upgrade together may take. coordd's choice.
    public var handshakeTimeoutMs = 10_000
    /// The `Origin` sent with the upgrade: a streamkit server refuses an upgrade without one, and its
    /// Go client sends this value (streamkit v1 §3.2).
    public var origin = "http://localhost"
    /// Limits for the server's response head.
    public var http = HTTPLimits.standard
    /// WebSocket frame limits.
    public var webSocket = WebSocketLimits.standard
    /// Mux limits.
    public var mux = MuxLimits()
    /// JSON ping/pong timings: a ping every 30 s (streamkit's client pings every second).
    public var keepalive = MuxKeepalive()

    /// The defaults above.
    public init() {}
}

/// Jittered exponential backoff: `initial × 2^(attempt − 1)`, capped, then moved by up to ±jitter.
/// Pure: the random fraction is a parameter.
struct ReconnectBackoff: Sendable, Hashable {
    var initialMs: Int
    var maxMs: Int
    var jitter: Double

    init(limits: WebSocketClientLimits) {
        initialMs = limits.backoffInitialMs
        maxMs = limits.backoffMaxMs
        jitter = limits.backoffJitter
    }

    init(initialMs: Int, maxMs: Int, jitter: Double) {
        self.initialMs = initialMs
        self.maxMs = maxMs
        self.jitter = jitter
    }

    /// The pause after failed attempt `attempt` (1-based); `unit` in [-1, 1] picks the jitter.
    func delayMs(attempt: Int, unit: Double) -> Int {
        let exponent = min(max(attempt - 1, 0), 30)
        let base = min(Double(initialMs) * Double(1 << exponent), Double(maxMs))
        let moved = base * (1 + jitter * min(max(unit, -1), 1))
        return max(0, Int(moved.rounded()))
    }

    /// The pause after failed attempt `attempt`, with a random jitter.
    func delayMs(attempt: Int) -> Int {
        delayMs(attempt: attempt, unit: Double.random(in: -1...1))
    }
}
