import PostgresKit
import StreamCore
import Synchronization

/// Routes by store ownership on PostgreSQL (`--storage postgres`): a store this daemon owns is served
/// here; a store another live daemon owns is forwarded to that daemon's advertise URL; a free store goes
/// where placement puts it (``PlacementView``): forwarded to its preferred daemon, which takes it over,
/// or served here (opening it takes it over).
///
/// A store not owned here costs one read of its owner row (and, when it is free, of the live nodes) in
/// one round trip; the owner found is remembered for a moment (``RouteCache``), so a stream of lease
/// calls through this daemon does not read it for each call.
final class OwnershipRouter: StoreRouter {
    private let ownerships: StoreOwnerships
    private let cache: Mutex<RouteCache>

    init(ownerships: StoreOwnerships, limits: ClusterLimits = ClusterLimits()) {
        self.ownerships = ownerships
        cache = Mutex(RouteCache(limits: limits))
    }

    /// An owner that gave no advertise URL cannot be reached: its refusal (`store_owned_elsewhere`) says so.
    func route(_ store: WireUUID) async throws(StreamsError) -> StoreRoute {
        let clock = ownerships.clock
        if !ownerships.owns(store), let peer = cache.withLock({ $0.peer(of: store, nowMs: clock.nowMs()) }) {
            return .forward(to: peer)
        }
        switch try await ownerships.whereIs(store) {
        case .ownedHere:
            return .local
        case .handingOff(let peer):
            throw .storeUnavailable(because: "store \(store) is moving to \(peer); its streams reopen there in a moment")
        case .ownedElsewhere(let owner):
            guard let url = owner.advertiseURL else { throw owner.refusal(of: store) }
            let peer = ClusterPeer(nodeID: owner.node, advertiseURL: url)
            cache.withLock { $0.remember(peer, owns: store, expiresInMs: owner.expiresInMs, nowMs: clock.nowMs()) }
            return .forward(to: peer)
        case .free(let placeOn):
            return placeOn.map { .place(on: $0) } ?? .local
        }
    }

    /// True while this daemon owns `store` and is not handing it off.
    func servesHereNow(_ store: WireUUID) -> Bool {
        ownerships.servesHere(store)
    }

    /// Forgets the owner remembered for `store`: the next stream reads it afresh.
    func forwardFailed(_ store: WireUUID) {
        cache.withLock { $0.forget(store) }
    }
}
