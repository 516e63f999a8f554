import CoordClient
import Foundation
import PostgresKit
import StreamCore
import Transport

/// Which daemon of the cluster owns a store, read where the daemons decide it: the unexpired row of
/// `coordd_store_owner` in their PostgreSQL. Nothing here assumes a placement; a store is first opened
/// through some daemon, then its owner is looked up.
final class StoreOwners: Sendable {
    private let pool: PostgresPool
    private let daemons: ClusterDaemons
    private let loops: EventLoopGroup

    /// Longest wait for a store just opened to show an owner row (the take-over commits before the
    /// stream that caused it is answered, so the first read normally finds it).
    static let lookupTimeoutSeconds = 10.0

    init(daemons: ClusterDaemons, loops: EventLoopGroup) {
        pool = PostgresPool(settings: PostgresSettings(url: daemons.postgresURL, applicationName: "coordbench"), size: 1)
        self.daemons = daemons
        self.loops = loops
    }

    /// The node id of `store`'s owner now, or nil when no daemon owns it.
    func ownerNode(of store: WireUUID) async throws -> String? {
        try await pool.run { session throws(StreamsError) in
            let rows = try session.query(
                "SELECT owner_node FROM coordd_store_owner WHERE store_id = $1 AND expires_at > clock_timestamp()", [.uuid(store)])
            return rows.count == 1 ? try rows.string(0, 0) : nil
        }
    }

    /// The daemon that owns `store`, waiting up to ``lookupTimeoutSeconds`` for one of the cluster's to.
    func owner(of store: WireUUID) async throws -> ClusterMember {
        let deadline = ContinuousClock.now + .seconds(Self.lookupTimeoutSeconds)
        while true {
            let node = try await ownerNode(of: store)
            if let node, let member = daemons.member(nodeID: node) { return member }
            guard ContinuousClock.now < deadline else {
                throw PeerError("store \(store) has \(node.map { "owner \($0), not a daemon of this cluster" } ?? "no owner") "
                                + "\(Int(Self.lookupTimeoutSeconds)) s after it was opened")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Opens the new store `store` through `through` (a lease listing, which reads nothing but opens the
    /// store wherever the cluster puts it) and returns its owner and a daemon that does not own it.
    func place(_ store: WireUUID, through: ClusterMember) async throws -> (owner: ClusterMember, front: ClusterMember) {
        let (client, connection) = try await through.target(loops: loops).client(store: store)
        defer { connection.close() }
        _ = try await client.leases(prefix: "")
        let owner = try await owner(of: store)
        let members = daemons.all
        // The next daemon after the owner, so the front varies with the owner.
        let front = members[(owner.index + 1) % members.count]
        return (owner, front)
    }

    func close() async { await pool.close() }
}
