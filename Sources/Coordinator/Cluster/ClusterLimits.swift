import Transport

/// Every count and time daemon-to-daemon forwarding bounds, each with where it comes from.
public struct ClusterLimits: Sendable, Hashable {
    /// Streams forwarded at once over the link to one peer; one more is refused with `store_unavailable`.
    /// The mux's own per-connection bound (``MuxLimits/maxStreamsPerConnection``), so the forwarder
    /// refuses with a clear message before the peer would.
    public var maxForwardedStreamsPerPeer = MuxLimits().maxStreamsPerConnection

    /// Streams waiting for the link to one peer to be (re)opened; one more is refused at once. A dial
    /// takes at most ``WebSocketClientLimits/handshakeTimeoutMs``, and clients arriving meanwhile wait
    /// for it rather than each dialling: coordd's choice, enough for a burst of reconnecting clients.
    public var maxPendingOpensPerPeer = 256

    /// How long a daemon remembers which daemon owns a store it forwards to, in milliseconds: a second,
    /// enough to spare PostgreSQL a read per lease call through a front, short next to a TTL; a route is
    /// forgotten at once when a stream forwarded by it fails. coordd's choice.
    public var routeCacheMs: Int64 = 1_000

    /// Routes remembered at once; past it the expired ones, then all, are dropped (and read again on use).
    /// Far more than the stores a daemon forwards at once in any deployment coordd aims at.
    public var maxCachedRoutes = 65_536

    /// How long the cluster token a link presents is valid, in seconds. It is checked only when the
    /// link opens, so a short life costs nothing and limits what a captured token is worth.
    public var tokenLifetimeSeconds: Int64 = 60

    /// The link's client settings: one attempt per stream, since a client of this daemon retries on its
    /// own and must learn at once that the owner cannot be reached (streamkit's seven attempts would
    /// hold it for six seconds). A broken link is still redialled in the background with backoff.
    public var link: WebSocketClientLimits = {
        var limits = WebSocketClientLimits()
        limits.maxCallAttempts = 1
        limits.handshakeTimeoutMs = 5_000
        return limits
    }()

    /// The defaults above.
    public init() {}
}
