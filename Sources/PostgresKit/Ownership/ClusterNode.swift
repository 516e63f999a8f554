/// A daemon of the cluster as PostgreSQL records it: live while its heartbeat is younger than the
/// ownership TTL.
public struct ClusterNode: Sendable, Equatable {
    /// Its `--cluster-node-id`.
    public let nodeID: String
    /// Where other daemons reach it (`--advertise-url`), when it gave one.
    public let advertiseURL: String?
    /// How long ago its last heartbeat was recorded, on PostgreSQL's clock.
    public let heartbeatAgeMs: Int64
    /// The stores it owns now (unexpired ownerships).
    public let ownedStores: Int

    /// A node as recorded.
    public init(nodeID: String, advertiseURL: String?, heartbeatAgeMs: Int64, ownedStores: Int) {
        self.nodeID = nodeID
        self.advertiseURL = advertiseURL
        self.heartbeatAgeMs = heartbeatAgeMs
        self.ownedStores = ownedStores
    }
}
