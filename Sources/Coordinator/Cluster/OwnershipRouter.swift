import PostgresKit
import StreamCore

/// Routes by store ownership on PostgreSQL (`--storage postgres`): a store this daemon owns, or one no
/// other live daemon owns, is served here (opening it takes it over); a store another daemon owns is
/// forwarded to that daemon's advertise URL.
///
/// A store that is not owned here costs one read of its owner row per new stream. The row is read
/// fresh each time rather than cached: ownership moves at a take-over, and a stale route would only send
/// the stream to a daemon that refuses it.
final class OwnershipRouter: StoreRouter {
    private let ownerships: StoreOwnerships

    init(ownerships: StoreOwnerships) {
        self.ownerships = ownerships
    }

    /// Here when owned here or free; the owner when another live daemon owns it. An owner that gave no
    /// advertise URL cannot be reached: its refusal (`store_owned_elsewhere`) says so.
    func route(_ store: WireUUID) async throws(StreamsError) -> StoreRoute {
        if ownerships.owns(store) { return .local }
        guard let owner = try await ownerships.foreignOwner(of: store) else { return .local }
        guard let url = owner.advertiseURL else { throw owner.refusal(of: store) }
        return .forward(to: ClusterPeer(nodeID: owner.node, advertiseURL: url))
    }
}
