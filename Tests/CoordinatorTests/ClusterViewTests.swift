import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing
import Transport

/// What an operator sees of the cluster: each daemon's `/readyz` detail and metrics name the live daemons
/// sharing its database and the stores each owns.
@Suite(.enabled(if: TestPostgres.available, Comment(rawValue: TestPostgres.skipNotice)))
struct ClusterViewTests {
    static func start(_ node: String, url: String) async throws -> Daemon {
        var configuration = PostgresDaemonTests.configuration(url: url)
        configuration.clusterNodeID = node
        configuration.advertiseURL = "ws://127.0.0.1:1/\(node)"
        // A 3 s TTL: the view is read every second.
        configuration.ownershipTTLMs = 3_000
        return try await Daemon.start(configuration, logger: Logger(sink: { _ in }), loopCount: 1)
    }

    @Test func readyzAndMetricsListTheLiveDaemonsAndTheStoresEachOwns() async throws {
        let db = try await TestPostgres.database("view")
        defer { Task { await db.drop() } }
        let a = try await Self.start("node-a", url: db.url)
        let b = try await Self.start("node-b", url: db.url)
        let store = WireUUID.random()
        let client = CoordClient(provider: a.nodes.inProcessProvider(), store: store)
        try await client.produce(space: "s", segment: "g", records: makeRecords(1))

        let expected = [
            "cluster node=node-a self=yes url=ws://127.0.0.1:1/node-a stores=1",
            "cluster node=node-b self=no url=ws://127.0.0.1:1/node-b stores=0",
        ]
        let seen = await eventually(seconds: 20) {
            let lines = PostgresDaemonTests.readyz(a).1.split(separator: "\n").map(String.init)
            return lines.count == 3 && zip(lines.dropFirst(), expected).allSatisfy { $0.hasPrefix($1 + " ") }
        }
        let (status, body) = PostgresDaemonTests.readyz(a)
        #expect(seen, "node-a's /readyz: \(body)")
        #expect(status == 200 && body.hasPrefix("ready\ncluster node=node-a self=yes"))
        #expect(body.contains(" heartbeat_age_ms=") && body.contains(" view_age_ms="))
        // The other daemon sees the same cluster from its side.
        #expect(await eventually(seconds: 20) { PostgresDaemonTests.readyz(b).1.contains("cluster node=node-b self=yes") })

        let metrics = a.metrics.registry.exposition()
        #expect(DaemonMetricsTests.sample("coordd_cluster_live_nodes", in: metrics) == 2)
        #expect(DaemonMetricsTests.sample("coordd_cluster_owned_stores", in: metrics) == 1)
        #expect((DaemonMetricsTests.sample("coordd_cluster_view_age_seconds", in: metrics) ?? 99) < 10)

        await b.shutdown()
        // node-b released everything and its heartbeat ages out of the view within a TTL and a round.
        #expect(await eventually(seconds: 20) { !PostgresDaemonTests.readyz(a).1.contains("node=node-b") },
                "\(PostgresDaemonTests.readyz(a).1)")
        await a.shutdown()
    }
}
