import StreamCore

/// The statements that give each store one owning daemon at a time, with PostgreSQL's
/// `clock_timestamp()` as the only clock of expiry (daemons never compare their own clocks).
///
/// - **Take-over** (a new store, an expired owner, a released one, or this node's own earlier
///   incarnation): `INSERT … ON CONFLICT DO NOTHING` makes epoch 1; otherwise an `UPDATE` that only
///   matches this node's row or an expired one raises the epoch by one. A take-over always gets a new
///   epoch, so anything the previous holder — even a paused process of this same node id — still has in
///   flight is refused by the epoch check. The `UPDATE` waits for the row locks of the old owner's
///   writes in flight (their `FOR SHARE`), so those commit first or not at all.
/// - **Renewal** extends only rows that still hold this node's epoch and have not expired.
/// - **Release** expires the row now, so the next take-over (of any node) succeeds at once with epoch + 1.
/// - **The epoch check** runs first in every write transaction of the store.
public struct StoreOwnershipSQL: Sendable {
    /// This daemon's node id.
    public let node: String
    /// How long a take-over or renewal lasts, on PostgreSQL's clock.
    public let ttlMs: Int64

    /// The statements of node `node` with ownerships lasting `ttlMs`.
    public init(node: String, ttlMs: Int64) {
        self.node = node
        self.ttlMs = ttlMs
    }

    /// Takes `store` over inside the caller's transaction, or reports who owns it.
    public func takeOver(_ store: WireUUID, on s: PostgresSession) throws(StreamsError) -> TakeOverOutcome {
        let inserted = try s.query("""
            INSERT INTO coordd_store_owner (store_id, owner_node, epoch, expires_at)
            VALUES ($1, $2, 1, clock_timestamp() + $3 * interval '1 millisecond')
            ON CONFLICT (store_id) DO NOTHING RETURNING epoch
            """, [.uuid(store), .text(node), .int64(ttlMs)])
        if inserted.count == 1 { return .owned(OwnerEpoch(store: store, node: node, epoch: try inserted.int64(0, 0) ?? 1)) }
        let taken = try s.query("""
            UPDATE coordd_store_owner SET owner_node = $2, epoch = epoch + 1, expires_at = clock_timestamp() + $3 * interval '1 millisecond'
             WHERE store_id = $1 AND (owner_node = $2 OR expires_at <= clock_timestamp())
            RETURNING epoch
            """, [.uuid(store), .text(node), .int64(ttlMs)])
        if taken.count == 1, let epoch = try taken.int64(0, 0) { return .owned(OwnerEpoch(store: store, node: node, epoch: epoch)) }
        guard let owner = try readOwner(of: store, liveOnly: false, on: s) else {
            throw .storage("postgres: the owner row of store \(store) vanished during a take-over")
        }
        return .ownedElsewhere(owner)
    }

    /// The unexpired ownership of `store` by another node, or nil (free, expired, or this node's).
    public func foreignOwner(of store: WireUUID, on s: PostgresSession) throws(StreamsError) -> ForeignOwner? {
        try readOwner(of: store, liveOnly: true, on: s)
    }

    /// The owner row of `store` with the owner's advertise URL; with `liveOnly`, only an unexpired one of
    /// another node.
    private func readOwner(of store: WireUUID, liveOnly: Bool, on s: PostgresSession) throws(StreamsError) -> ForeignOwner? {
        let owner = try s.query("""
            SELECT o.owner_node, o.epoch, n.advertise_url,
                   GREATEST(0, ceil(extract(epoch FROM o.expires_at - clock_timestamp()) * 1000))::bigint
              FROM coordd_store_owner o LEFT JOIN coordd_nodes n ON n.node_id = o.owner_node
             WHERE o.store_id = $1 AND (NOT $2 OR (o.owner_node <> $3 AND o.expires_at > clock_timestamp()))
            """, [.uuid(store), .bool(liveOnly), .text(node)])
        guard owner.count == 1 else { return nil }
        return ForeignOwner(node: try owner.string(0, 0) ?? "", epoch: try owner.int64(0, 1) ?? 0,
                            advertiseURL: try owner.string(0, 2), expiresInMs: try owner.int64(0, 3) ?? 0)
    }

    /// Renews every ownership of `owned` that still holds its epoch and has not expired, and records this
    /// node's heartbeat (with `advertiseURL`) unless `heartbeat` is false (a node that left, draining its
    /// last stores), inside the caller's transaction. Returns the stores renewed; the others are lost.
    public func renew(_ owned: [OwnerEpoch], advertiseURL: String?, heartbeat: Bool = true,
                      on s: PostgresSession) throws(StreamsError) -> Set<WireUUID> {
        if heartbeat { try self.heartbeat(advertiseURL: advertiseURL, on: s) }
        guard !owned.isEmpty else { return [] }
        let rows = try s.query("""
            UPDATE coordd_store_owner o SET expires_at = clock_timestamp() + $3 * interval '1 millisecond'
              FROM unnest($1::uuid[], $2::bigint[]) AS held(store_id, epoch)
             WHERE o.store_id = held.store_id AND o.epoch = held.epoch AND o.owner_node = $4 AND o.expires_at > clock_timestamp()
            RETURNING o.store_id
            """, [.text(PostgresArray.text(owned.map(\.store.description))), .text(PostgresArray.integers(owned.map(\.epoch))),
                  .int64(ttlMs), .text(node)])
        var renewed: Set<WireUUID> = []
        for row in 0..<rows.count { if let store = try rows.uuid(row, 0) { renewed.insert(store) } }
        return renewed
    }

    /// Records this node as live now, with where it is reached.
    public func heartbeat(advertiseURL: String?, on s: PostgresSession) throws(StreamsError) {
        try s.query("""
            INSERT INTO coordd_nodes (node_id, advertise_url, heartbeat_at) VALUES ($1, $2, clock_timestamp())
            ON CONFLICT (node_id) DO UPDATE SET advertise_url = EXCLUDED.advertise_url, heartbeat_at = EXCLUDED.heartbeat_at
            """, [.text(node), advertiseURL.map { .text($0) } ?? .null])
    }

    /// The live daemons (a heartbeat younger than the TTL, or than `maxAgeMs`), by node id, each with the
    /// stores it owns now when `countingStores` (else 0). A few rows per daemon; read with every renewal
    /// round, and without the counts when a free store is placed.
    public func liveNodes(maxAgeMs: Int64? = nil, countingStores: Bool = true, on s: PostgresSession) throws(StreamsError)
        -> [ClusterNode]
    {
        let rows = try s.query("""
            SELECT n.node_id, n.advertise_url,
                   GREATEST(0, floor(extract(epoch FROM clock_timestamp() - n.heartbeat_at) * 1000))::bigint,
                   CASE WHEN $2 THEN (SELECT count(*) FROM coordd_store_owner o
                                       WHERE o.owner_node = n.node_id AND o.expires_at > clock_timestamp()) ELSE 0 END
              FROM coordd_nodes n
             WHERE n.heartbeat_at > clock_timestamp() - $1 * interval '1 millisecond'
             ORDER BY n.node_id
            """, [.int64(maxAgeMs ?? ttlMs), .bool(countingStores)])
        var nodes: [ClusterNode] = []
        for row in 0..<rows.count {
            nodes.append(ClusterNode(nodeID: try rows.string(row, 0) ?? "", advertiseURL: try rows.string(row, 1),
                                     heartbeatAgeMs: try rows.int64(row, 2) ?? 0, ownedStores: Int(try rows.int64(row, 3) ?? 0)))
        }
        return nodes
    }

    /// Removes this node's row: a daemon that drains leaves the cluster at once, so no other daemon
    /// places a store on it meanwhile. Its ownerships stay until each store's close releases it.
    public func leave(on s: PostgresSession) throws(StreamsError) {
        try s.query("DELETE FROM coordd_nodes WHERE node_id = $1", [.text(node)])
    }

    /// Gives `owner` up: its row expires now, so another node takes over at once. False when the row no
    /// longer held that epoch (someone took over already).
    public static func release(_ owner: OwnerEpoch, on s: PostgresSession) throws(StreamsError) -> Bool {
        try s.query("""
            UPDATE coordd_store_owner SET expires_at = clock_timestamp()
             WHERE store_id = $1 AND owner_node = $2 AND epoch = $3 AND expires_at > clock_timestamp()
            """, [.uuid(owner.store), .text(owner.node), .int64(owner.epoch)]).affected == 1
    }

    /// The epoch check, first in every write transaction of a store: the owner row must still hold
    /// `owner`'s node and epoch. The share lock keeps a take-over waiting until the transaction ends, so a
    /// write either commits before the take-over or is refused. Refused: a transient `storage_error`, which
    /// stops the store's writes (``PostgresWriteQueue``), so nothing more is acknowledged under that epoch.
    public static func checkEpoch(_ owner: OwnerEpoch, on s: PostgresSession) throws(StreamsError) {
        let rows = try s.query("""
            SELECT 1 FROM coordd_store_owner WHERE store_id = $1 AND owner_node = $2 AND epoch = $3 FOR SHARE
            """, [.uuid(owner.store), .text(owner.node), .int64(owner.epoch)])
        guard rows.count == 1 else { throw .ownershipLost(owner) }
    }
}

extension StreamsError {
    /// A write of `owner` found the store taken over: nothing of it was written.
    public static func ownershipLost(_ owner: OwnerEpoch) -> StreamsError {
        .storage("postgres: node \(owner.node) no longer owns store \(owner.store) under epoch \(owner.epoch) "
                 + "(another daemon took it over); nothing of this write was committed")
    }
}
