import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing

struct DaemonMetricsTests {
    /// The value of the sample line starting with `series ` (name and labels exactly), or nil.
    static func sample(_ series: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test(arguments: StoreKind.allCases)
    func theDaemonsMetricsCountWhatNodesServe(_ kind: StoreKind) async throws {
        let metrics = DaemonMetrics()
        var node = NodeConfiguration()
        node.metrics = metrics
        let harness = try await Harness(Configuration(store: kind, transport: .inProcess), node: node)
        do {
            try await Self.checkCounts(metrics, kind: kind, harness: harness)
        } catch {
            await harness.shutdown()
            throw error
        }
        await harness.shutdown()
    }

    static func checkCounts(_ metrics: DaemonMetrics, kind: StoreKind, harness: Harness) async throws {
        metrics.collect(from: harness.manager, connections: { 3 })
        let client = harness.client

        try await client.produce(space: "orders", segment: "a", records: makeRecords(4, size: 10))
        _ = try await client.peek(space: "orders", segment: "a")
        await #expect(throws: StreamsError.self) {
            try await client.produce(space: "orders", segment: "a", records: makeRecords(1, from: 9))
        }
        let registration = try await client.registerWorker(id: .random())
        let updates = try await client.workers()
        let iterator = updates.makeAsyncIterator()
        let first = try await withDeadline(seconds: 30) { [iterator] in
            var copy = iterator
            return try await copy.next()
        }
        #expect(first?.workers.count == 1)
        let lease = try await client.acquire(key: "partition-1", holder: "me", ttl: .seconds(30))
        #expect(lease.ok)

        let text = metrics.registry.exposition()
        #expect(Self.sample("coordd_streams_total{operation=\"produce\"}", in: text) == 2)
        #expect(Self.sample("coordd_streams_total{operation=\"peek\"}", in: text) == 1)
        #expect(Self.sample("coordd_streams_total{operation=\"subscribe_workers\"}", in: text) == 2)
        #expect(Self.sample("coordd_streams_total{operation=\"lease_acquire\"}", in: text) == 1)
        #expect(Self.sample("coordd_stream_errors_total{code=\"permanent\",error=\"sequence_gap\"}", in: text) == 1)
        #expect(Self.sample("coordd_produced_entries_total", in: text) == 4)
        #expect(Self.sample("coordd_produced_bytes_total", in: text) == 40)
        #expect(Self.sample("coordd_connections", in: text) == 3)
        #expect(Self.sample("coordd_workers", in: text) == 1)
        #expect(Self.sample("coordd_observers", in: text) == 1)
        #expect(Self.sample("coordd_leases_held", in: text) == 1)
        #expect(Self.sample("coordd_stores_open", in: text) == 1)
        #expect(try #require(Self.sample("coordd_inventory_deliveries_total", in: text)) >= 2)
        let syncs = try #require(Self.sample("coordd_fsync_duration_seconds_count", in: text))
        #expect(kind == .file ? syncs >= 2 : syncs == 0, "the file store syncs its produce and its lease grant")
        #expect(text.contains("coordd_fsync_duration_seconds_bucket{le=\"+Inf\"}"))
        let transactions = try #require(Self.sample("coordd_postgres_transaction_duration_seconds_count", in: text))
        #expect(kind == .postgres ? transactions >= 2 : transactions == 0,
                "a PostgreSQL store commits its produce and its lease grant, each in a transaction")

        registration.close()
        updates.close()
    }

    @Test func aRequestThatIsNotOneIsCountedAsInvalid() async throws {
        let metrics = DaemonMetrics()
        var node = NodeConfiguration()
        node.metrics = metrics
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess), node: node)
        let stream = try await harness.provider.callStream(store: harness.store, request: Array("{\"no\":1}".utf8))
        await #expect(throws: StreamsError.self) { _ = try await stream.receive() }
        #expect(metrics.streams.value(["invalid"]) == 1)
        #expect(metrics.errors.value(["permanent", "invalid_request"]) == 1)
        await harness.shutdown()
    }
}
