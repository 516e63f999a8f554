import PostgresKit
import StreamCore

/// Routes by store ownership on PostgreSQL (`--storage postgres`): a store this daemon owns is served
/// here; a store another live daemon owns is forwarded to that daemon's advertise URL; a free store goes
/// where placement puts it (``PlacementView``): forwarded to its preferred daemon, which takes it over,
/// or served here (opening it takes it over).
///
/// A store that is not owned here costs one read of its owner row (and, when it is free, of the live
/// nodes) per new stream. Read fresh each time rather than cached: ownership moves at a take-over, and a
/// stale route would only send the stream to a daemon that refuses it.
final class OwnershipRouter: StoreRouter {
    private let ownerships: StoreOwnerships

    init(ownerships: StoreOwnerships) {
        self.ownerships = ownerships
    }

    /// An owner that gave no advertise URL cannot be reached: its refusal (`store_owned_elsewhere`) says so.
    func route(_ store: WireUUID) async throws(StreamsError) -> StoreRoute {
        switch try await ownerships.whereIs(store) {
        case .ownedHere:
            return .local
        case .handingOff(let peer):
            throw .storeUnavailable(because: "store \(store) is moving to \(peer); its streams reopen there in a moment")
        case .ownedElsewhere(let owner):
            guard let url = owner.advertiseURL else { throw owner.refusal(of: store) }
            return .forward(to: ClusterPeer(nodeID: owner.node, advertiseURL: url))
        case .free(let placeOn):
            return placeOn.map { .place(on: $0) } ?? .local
        }
    }
}
