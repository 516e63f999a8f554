import StreamCore

/// The owners of stores served elsewhere, remembered for a moment so that a burst of streams through
/// this daemon (one per lease call) does not each read the owner row from PostgreSQL. Pure; times in
/// milliseconds on the daemon's monotonic clock.
///
/// A route is kept for at most ``ClusterLimits/routeCacheMs``, and never past the ownership's expiry as
/// the owner row said it; it is forgotten when a stream forwarded by it fails (``StoreRouter/forwardFailed(_:)``).
/// A stale route costs a stream: the old owner refuses it with a transient error (it forwards nothing
/// and takes no store against placement), its client retries, and the route is read afresh.
struct RouteCache {
    private var routes: [WireUUID: (peer: ClusterPeer, untilMs: Int64)] = [:]
    let limits: ClusterLimits

    init(limits: ClusterLimits) {
        self.limits = limits
    }

    /// The owner of `store` remembered at `nowMs`, if still valid.
    mutating func peer(of store: WireUUID, nowMs: Int64) -> ClusterPeer? {
        guard let route = routes[store] else { return nil }
        guard nowMs < route.untilMs else {
            routes[store] = nil
            return nil
        }
        return route.peer
    }

    /// Remembers that `peer` owns `store`, read at `nowMs` with `expiresInMs` left on its ownership. When
    /// full, the expired routes are dropped first, then everything (they are re-read on use).
    mutating func remember(_ peer: ClusterPeer, owns store: WireUUID, expiresInMs: Int64, nowMs: Int64) {
        let untilMs = nowMs + min(expiresInMs, limits.routeCacheMs)
        guard untilMs > nowMs else { return }
        if routes[store] == nil, routes.count >= limits.maxCachedRoutes {
            routes = routes.filter { $0.value.untilMs > nowMs }
            if routes.count >= limits.maxCachedRoutes { routes.removeAll(keepingCapacity: true) }
        }
        routes[store] = (peer, untilMs)
    }

    /// Forgets the route of `store`.
    mutating func forget(_ store: WireUUID) {
        routes[store] = nil
    }

    var count: Int { routes.count }
}
