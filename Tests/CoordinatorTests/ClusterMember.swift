import CoordClient
import CoordTestKit
import Coordinator
import Ownership
import PostgresKit
import StreamCore
import Transport

/// One daemon of a cluster, in process: its own connections to the shared database, its ownerships on the
/// system's monotonic clock or, for a member the test pauses, on a manual one (time passes for its
/// ownership only when the test says so), a node manager over its PostgreSQL catalog, and an in-process
/// provider for clients.
struct ClusterMember: Sendable {
    let node: String
    /// The manual clock of a pausable member.
    let clock: ManualMonotonicClock?
    let status: PostgresStorageStatus
    let ownerships: StoreOwnerships
    let manager: NodeManager
    let provider: InProcessProvider
    private let loop: Task<Void, Never>

    /// Where the member says it is reached (nothing listens there: forwarding is not part of these tests).
    static func advertiseURL(of node: String) -> String { "ws://127.0.0.1:1/\(node)" }

    static func start(_ node: String, url: String, ttlMs: Int64, pausable: Bool = false) async throws -> ClusterMember {
        var configuration = DaemonConfiguration()
        configuration.storage = .postgres
        configuration.postgresURL = url
        configuration.postgresPoolSize = 3
        let status = try PostgresStorageStatus.make(configuration)
        try await status.start(logger: Logger(sink: { _ in }), whenReady: {})
        let clock = pausable ? ManualMonotonicClock() : nil
        let ownerships = StoreOwnerships(pool: status.pool, nodeID: node, timing: OwnershipTiming(ttlMs: ttlMs),
                                         advertiseURL: advertiseURL(of: node), clock: clock ?? SystemMonotonicClock(),
                                         logger: Logger(sink: { _ in }))
        let manager = NodeManager(catalog: PostgresStoreCatalog(status: status, ownerships: ownerships))
        let loop = Task { await ownerships.run(onStepDown: { await manager.closeStoppedStores() }) }
        return ClusterMember(node: node, clock: clock, status: status, ownerships: ownerships, manager: manager,
                             provider: manager.inProcessProvider(), loop: loop)
    }

    /// node-a (pausable when asked) and node-b (on the system's clock, with `ttlOfBMs` or the same TTL) on a
    /// new database `label`.
    static func pair(_ label: String, ttlMs: Int64, pausingA: Bool = false, ttlOfBMs: Int64? = nil) async throws
        -> (TestDatabase, ClusterMember, ClusterMember)
    {
        let db = try await TestPostgres.database(label)
        return (db, try await start("node-a", url: db.url, ttlMs: ttlMs, pausable: pausingA),
                try await start("node-b", url: db.url, ttlMs: ttlOfBMs ?? ttlMs))
    }

    func client(_ store: WireUUID) -> CoordClient { CoordClient(provider: provider, store: store) }

    /// The epoch this member owns `store` under, if it does.
    func epoch(of store: WireUUID) -> Int64? { ownerships.owned.first { $0.store == store }?.epoch }

    /// A clean shutdown: the stores close (releasing their ownership), then the loop and the connections.
    func shutdown() async {
        await manager.close()
        loop.cancel()
        await loop.value
        await status.close()
    }
}

/// The owner row of `store` as PostgreSQL holds it.
func ownerRow(_ store: WireUUID, url: String) async throws -> (node: String, epoch: Int64)? {
    let pool = PostgresPool(settings: PostgresSettings(url: url), size: 1)
    defer { Task { await pool.close() } }
    return try await pool.run { s throws(StreamsError) -> (String, Int64)? in
        let rows = try s.query("SELECT owner_node, epoch FROM coordd_store_owner WHERE store_id = $1", [.uuid(store)])
        guard rows.count == 1 else { return nil }
        return (try rows.string(0, 0) ?? "", try rows.int64(0, 1) ?? 0)
    }
}
