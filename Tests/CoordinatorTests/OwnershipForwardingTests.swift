import CoordClient
import CoordTestKit
@testable import Coordinator
import Ownership
import PostgresKit
import StreamCore
import Testing
import Transport

/// Two daemons on one PostgreSQL, no tokens: a client of either daemon reaches every store, the one that
/// does not own a store forwarding its streams to the owner's listener, and a store whose owner stopped is
/// taken over by the daemon the client asks next.
@Suite(.enabled(if: TestPostgres.available, Comment(rawValue: TestPostgres.skipNotice)))
struct OwnershipForwardingTests {
    static func start(_ node: String, url: String, ttlMs: Int64 = OwnershipTiming.defaultTTLMs) async throws -> Daemon {
        var configuration = PostgresDaemonTests.configuration(url: url)
        configuration.clusterNodeID = node
        configuration.ownershipTTLMs = ttlMs
        return try await Daemon.start(configuration, logger: Logger(sink: { _ in }), loopCount: 1)
    }

    static func provider(_ daemon: Daemon) throws -> WebSocketProvider {
        var limits = WebSocketClientLimits()
        limits.backoffInitialMs = 20
        return try WebSocketProvider(url: "ws://127.0.0.1:\(daemon.localAddress.port)", group: TestNetwork.group, limits: limits)
    }

    @Test func aStoreOwnedByOneDaemonIsServedThroughTheOtherAndTakenOverWhenItsOwnerStops() async throws {
        let db = try await TestPostgres.database("route")
        defer { Task { await db.drop() } }
        let a = try await Self.start("node-a", url: db.url)
        let b = try await Self.start("node-b", url: db.url)
        let store = PlacementViewTests.stores(preferring: "node-a", among: ["node-a", "node-b"], count: 1)[0]
        let viaA = try Self.provider(a)
        let viaB = try Self.provider(b)
        // Placement gives the store to node-a, which advertises its own listener.
        try await CoordClient(provider: viaA, store: store).produce(space: "s", segment: "g", records: makeRecords(2))

        let client = CoordClient(provider: viaB, store: store)
        try await client.produce(space: "s", segment: "g", records: makeRecords(1, from: 3))
        let lease = try await client.acquire(key: "job", holder: "h", ttl: .seconds(60))
        #expect(lease.ok && lease.fence == 1)
        #expect(try await client.peek(space: "s", segment: "g").sequence == 3)
        #expect(!b.nodes.openNodes.contains { $0.storeID == store }, "node-b forwards; it never opened the store")
        #expect(try await CoordClient(provider: viaA, store: store).leases(prefix: "job").map(\.holder) == ["h"])

        // node-a stops cleanly and releases the store: node-b's next stream takes it over, with everything.
        await viaA.close()
        await a.shutdown()
        let after = try await withDeadline(seconds: 30) {
            try await client.peek(space: "s", segment: "g").sequence
        }
        #expect(after == 3)
        #expect(b.nodes.openNodes.contains { $0.storeID == store }, "node-b serves the store itself now")
        let next = try await client.acquire(key: "job", holder: "other", ttl: .seconds(60))
        #expect(!next.ok, "the lease granted through node-a's ownership holds under node-b's")
        await viaB.close()
        await b.shutdown()
    }

    @Test func aStoreMovesToItsPreferredDaemonOnceThatOneHasSettled() async throws {
        let db = try await TestPostgres.database("handoff")
        defer { Task { await db.drop() } }
        let a = try await Self.start("node-a", url: db.url, ttlMs: 4_000)
        let store = PlacementViewTests.stores(preferring: "node-b", among: ["node-a", "node-b"], count: 1)[0]
        let viaA = try Self.provider(a)
        let client = CoordClient(provider: viaA, store: store)
        // node-b is not running: node-a serves the store.
        try await client.produce(space: "s", segment: "g", records: makeRecords(2))
        #expect(try await client.acquire(key: "job", holder: "h", ttl: .seconds(60)).fence == 1)
        #expect(try await ownerRow(store, url: db.url)?.node == "node-a")

        // node-b joins; once it has been live for a TTL (4 s), node-a hands the store over, and the next
        // stream through node-a is placed on node-b, which takes it over under the next epoch.
        let b = try await Self.start("node-b", url: db.url, ttlMs: 4_000)
        let moved = await eventually(seconds: 20) {
            _ = try? await client.peek(space: "s", segment: "g")
            return b.nodes.openNodes.contains { $0.storeID == store }
        }
        #expect(moved, "node-b serves the store")
        let row = try await ownerRow(store, url: db.url)
        #expect(row?.node == "node-b" && (row?.epoch ?? 0) >= 2, "\(String(describing: row))")
        #expect(!a.nodes.openNodes.contains { $0.storeID == store }, "node-a closed it")
        // Handed off once: node-a never took it back after closing it (epochs may rise more, by a step-down
        // under a loaded machine, but those are no hand-offs).
        #expect(DaemonMetricsTests.sample("coordd_cluster_handoffs_total", in: a.metrics.registry.exposition()) == 1)
        // It stays there: no daemon takes it back while streams keep coming through node-a.
        for _ in 0..<10 {
            _ = try? await client.peek(space: "s", segment: "g")
            try await Task.sleep(for: .milliseconds(150))
        }
        #expect(try await ownerRow(store, url: db.url).map { $0.node == "node-b" && $0.epoch == row?.epoch } == true,
                "the store stays with node-b under the same epoch")
        // Everything came along: the entries, and the lease with its fence.
        #expect(try await retryingTransient { try await client.peek(space: "s", segment: "g").sequence } == 2)
        let viaB = try Self.provider(b)
        #expect(try await retryingTransient { try await CoordClient(provider: viaB, store: store).acquire(key: "job", holder: "x", ttl: .seconds(60)).ok } == false)
        #expect(try await retryingTransient { try await client.leases(prefix: "job").map(\.holder) } == ["h"])

        await viaA.close()
        await viaB.close()
        // node-b drains: it leaves the cluster and releases the store, which node-a takes back at once.
        await b.shutdown()
        let back = CoordClient(provider: try Self.provider(a), store: store)
        #expect(try await withDeadline(seconds: 30) { try await retryingTransient { try await back.peek(space: "s", segment: "g").sequence } } == 2)
        #expect(try await ownerRow(store, url: db.url)?.node == "node-a")
        await a.shutdown()
    }

    @Test func aFreeStoreWhosePreferredDaemonCannotBeReachedIsServedHere() async throws {
        let db = try await TestPostgres.database("unreachable")
        defer { Task { await db.drop() } }
        let a = try await Self.start("node-a", url: db.url)
        // A live node row whose advertise URL nothing listens on.
        let pool = PostgresPool(settings: PostgresSettings(url: db.url), size: 1)
        try await pool.run { s throws(StreamsError) in
            try StoreOwnershipSQL(node: "node-z", ttlMs: 10_000).heartbeat(advertiseURL: "ws://127.0.0.1:1", on: s)
        }
        await pool.close()
        let store = PlacementViewTests.stores(preferring: "node-z", among: ["node-a", "node-z"], count: 1)[0]
        let viaA = try Self.provider(a)
        try await CoordClient(provider: viaA, store: store).produce(space: "s", segment: "g", records: makeRecords(1))
        #expect(try await ownerRow(store, url: db.url)?.node == "node-a")
        #expect(a.nodes.openNodes.contains { $0.storeID == store })
        await viaA.close()
        await a.shutdown()
    }
}
