@testable import Coordinator
import StreamCore
import Testing

/// The owners a daemon remembers for the stores it forwards: for at most `routeCacheMs`, never past the
/// ownership's expiry, forgotten on a failure, and bounded in number.
struct RouteCacheTests {
    let a = ClusterPeer(nodeID: "a", advertiseURL: "ws://127.0.0.1:1")
    let store = WireUUID(high: 1, low: 1)

    @Test func aRouteLastsTheShorterOfTheCacheTimeAndTheOwnershipLeft() {
        var cache = RouteCache(limits: ClusterLimits())
        cache.remember(a, owns: store, expiresInMs: 5_000, nowMs: 100)
        #expect(cache.peer(of: store, nowMs: 1_099) == a)
        #expect(cache.peer(of: store, nowMs: 1_100) == nil, "one second, though the ownership runs for five")
        cache.remember(a, owns: store, expiresInMs: 300, nowMs: 2_000)
        #expect(cache.peer(of: store, nowMs: 2_299) == a)
        #expect(cache.peer(of: store, nowMs: 2_300) == nil, "never past the ownership's expiry")
        cache.remember(a, owns: store, expiresInMs: 0, nowMs: 3_000)
        #expect(cache.peer(of: store, nowMs: 3_000) == nil, "an expiring ownership is not remembered")
    }

    @Test func aFailedForwardForgetsTheRoute() {
        var cache = RouteCache(limits: ClusterLimits())
        cache.remember(a, owns: store, expiresInMs: 5_000, nowMs: 0)
        cache.forget(store)
        #expect(cache.peer(of: store, nowMs: 1) == nil)
    }

    @Test func theCacheIsBounded() {
        var limits = ClusterLimits()
        limits.maxCachedRoutes = 3
        var cache = RouteCache(limits: limits)
        for n in 0..<3 { cache.remember(a, owns: WireUUID(high: 9, low: UInt64(n)), expiresInMs: 5_000, nowMs: Int64(n) * 600) }
        // At 1,300 the first route (until 1,000) has expired: dropped to make room.
        cache.remember(a, owns: store, expiresInMs: 5_000, nowMs: 1_300)
        #expect(cache.count == 3 && cache.peer(of: store, nowMs: 1_300) == a)
        // None expired: everything goes, and the new route is kept.
        let other = WireUUID(high: 2, low: 2)
        cache.remember(a, owns: other, expiresInMs: 5_000, nowMs: 1_400)
        #expect(cache.count == 1 && cache.peer(of: other, nowMs: 1_400) == a)
    }
}
