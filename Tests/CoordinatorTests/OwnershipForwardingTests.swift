import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing
import Transport

/// Two daemons on one PostgreSQL, no tokens: a client of either daemon reaches every store, the one that
/// does not own a store forwarding its streams to the owner's listener, and a store whose owner stopped is
/// taken over by the daemon the client asks next.
@Suite(.enabled(if: TestPostgres.available, Comment(rawValue: TestPostgres.skipNotice)))
struct OwnershipForwardingTests {
    static func start(_ node: String, url: String) async throws -> Daemon {
        var configuration = PostgresDaemonTests.configuration(url: url)
        configuration.clusterNodeID = node
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
        let store = WireUUID.random()
        let viaA = try Self.provider(a)
        let viaB = try Self.provider(b)
        // node-a opens the store first, so it owns it, advertising its own listener.
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
}
