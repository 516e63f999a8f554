import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing
import Transport

/// A node whose logger and metrics the test reads.
struct ObservedHarness: Sendable {
    let harness: Harness
    let lines: LineCollector
    let metrics: DaemonMetrics

    static func start(_ node: NodeConfiguration = NodeConfiguration(), store: StoreKind = .memory) async throws -> ObservedHarness {
        let lines = LineCollector()
        let metrics = DaemonMetrics()
        var node = node
        node.logger = Logger(level: .debug, sink: lines.sink)
        node.metrics = metrics
        let harness = try await Harness(Configuration(store: store, transport: .inProcess), node: node)
        return ObservedHarness(harness: harness, lines: lines, metrics: metrics)
    }

    /// The lines whose message is `message`.
    func lines(_ message: String) -> [String] {
        let field = message.contains(" ") ? "msg=\"\(message)\" " : "msg=\(message) "
        return lines.all.filter { $0.contains(field) }
    }

    /// Waits (up to 10 s) for a line with `message` holding every one of `fields` (`key=value`).
    func logged(_ message: String, _ fields: [String]) async -> Bool {
        await eventually { lines(message).contains { line in fields.allSatisfy { line.contains(" " + $0) } } }
    }
}

/// The info lines and counters of what operators look for: workers joining, leaving and being evicted,
/// leases granted, released and expired with their fences.
@Suite(.serialized) struct EventLogTests {
    @Test func workersJoiningReplacedAndLeavingAreLoggedAndCounted() async throws {
        let observed = try await ObservedHarness.start()
        let harness = observed.harness
        let store = harness.store
        let id = WireUUID.random()
        let first = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id))
        _ = try await first.inventory()
        #expect(await observed.logged("worker joined", ["store=\(store)", "worker=\(id)"]))
        let second = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id))
        _ = try await second.inventory()
        #expect(await observed.logged("worker replaced", ["store=\(store)", "worker=\(id)"]))
        second.stream.close(error: nil)
        #expect(await observed.logged("worker left", ["store=\(store)", "worker=\(id)"]))
        #expect(observed.lines("worker left").count == 1, "the replaced stream's end is not a second leave")
        let changes = observed.metrics.workerPresenceChanges
        #expect(changes.value(["joined"]) == 1 && changes.value(["replaced"]) == 1 && changes.value(["left"]) == 1)
        first.stream.close(error: nil)
        await harness.shutdown()
    }

    @Test func aWorkerThatStopsRenewingIsLoggedAsEvicted() async throws {
        let observed = try await ObservedHarness.start(fastPresence())
        let harness = observed.harness
        let id = WireUUID.random()
        let worker = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id, heartbeatIntervalSeconds: 1))
        _ = try await worker.inventory()
        #expect(await observed.logged("worker evicted", ["store=\(harness.store)", "worker=\(id)"]))
        #expect(observed.metrics.workerPresenceChanges.value(["evicted"]) == 1)
        #expect(observed.lines("worker left").isEmpty, "an eviction is not also a leave")
        worker.stream.close(error: nil)
        await harness.shutdown()
    }

    @Test(arguments: StoreKind.allCases)
    func leasesGrantedReleasedAndExpiredAreLoggedWithTheirFences(_ kind: StoreKind) async throws {
        let observed = try await ObservedHarness.start(store: kind)
        let harness = observed.harness
        let client = harness.client
        let store = harness.store
        let granted = try await client.acquire(key: "partition-1", holder: "alice", ttl: .seconds(30))
        let fence = try #require(granted.fence)
        #expect(await observed.logged("lease granted", ["store=\(store)", "key=partition-1", "holder=alice", "fence=\(fence)",
                                                        "ttl_ms=30000"]))
        let refused = try await client.acquire(key: "partition-1", holder: "bob", ttl: .seconds(30))
        #expect(!refused.ok)
        #expect(try await client.renew(key: "partition-1", holder: "alice", ttl: .seconds(30)).ok)
        #expect(try await client.release(key: "partition-1", holder: "alice").ok)
        #expect(await observed.logged("lease released", ["key=partition-1", "holder=alice", "fence=\(fence)", "reason=released"]))
        let short = try await client.acquire(key: "partition-2", holder: "carol", ttl: .milliseconds(100))
        let shortFence = try #require(short.fence)
        #expect(await observed.logged("lease expired", ["store=\(store)", "key=partition-2", "fence=\(shortFence)"]))

        let operations = observed.metrics.leaseOperations
        #expect(operations.value(["acquire", "granted"]) == 2)
        #expect(operations.value(["acquire", "held"]) == 1)
        #expect(operations.value(["renew", "renewed"]) == 1)
        #expect(operations.value(["release", "released"]) == 1)
        #expect(operations.value(["expire", "expired"]) == 1)
        #expect(observed.lines("lease granted").count == 2, "refusals and renewals are counted, not logged")
        await harness.shutdown()
    }

    @Test func aLeaseBoundToAWorkerIsReleasedWhenTheWorkerLeaves() async throws {
        let observed = try await ObservedHarness.start()
        let harness = observed.harness
        let id = WireUUID.random()
        let worker = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id))
        _ = try await worker.inventory()
        let lease = try await harness.client.acquire(key: "job", holder: "w", ttl: .seconds(30), workerID: id)
        let fence = try #require(lease.fence)
        #expect(await observed.logged("lease granted", ["key=job", "fence=\(fence)", "worker=\(id)"]))
        worker.stream.close(error: nil)
        #expect(await observed.logged("lease released", ["key=job", "holder=w", "fence=\(fence)", "reason=worker_ended"]))
        #expect(observed.metrics.leaseOperations.value(["release", "worker_ended"]) == 1)
        await harness.shutdown()
    }

    @Test func aFencedWriteWithAStaleFenceIsCounted() async throws {
        let observed = try await ObservedHarness.start()
        let client = observed.harness.client
        let old = try #require(try await client.acquire(key: "k", holder: "a", ttl: .seconds(30)).fence)
        #expect(try await client.release(key: "k", holder: "a").ok)
        _ = try await client.acquire(key: "k", holder: "b", ttl: .seconds(30))
        let error = await StreamsError.of {
            _ = try await client.produce(space: "s", segment: "g", records: makeRecords(1), fence: Fence(key: "k", token: old))
        }
        #expect(error?.name == "fence_mismatch")
        #expect(observed.metrics.leaseOperations.value(["fence_check", "mismatch"]) == 1)
        await observed.harness.shutdown()
    }

    @Test func operationsThatEndByThemselvesAreTimedAndSubscriptionsAreNot() async throws {
        let observed = try await ObservedHarness.start()
        let client = observed.harness.client
        _ = try await client.acquire(key: "k", holder: "a", ttl: .seconds(30))
        _ = try await client.peek(space: "s", segment: "g")
        _ = try await client.peek(space: "s", segment: "g")
        let observer = try await WorkerStream.open(observed.harness, SubscribeWorkers(workerID: nil))
        _ = try await observer.inventory()
        observer.stream.close(error: nil)
        let duration = observed.metrics.operationDuration
        #expect(await eventually { duration.snapshot(["peek"]).count == 2 })
        #expect(duration.snapshot(["lease_acquire"]).count == 1)
        #expect(duration.snapshot(["lease_acquire"]).sum > 0)
        // Every stream's handler has ended, the subscription's included, so all that was timed is recorded.
        let node = try await observed.harness.manager.node(for: observed.harness.store)
        #expect(await eventually { node.openStreamCount == 0 })
        #expect(duration.snapshot(["subscribe_workers"]).count == 0, "a subscription lasts as long as its client wants")
        let text = observed.metrics.registry.exposition()
        #expect(text.contains("coordd_operation_duration_seconds_bucket{operation=\"peek\",le=\"+Inf\"} 2\n"))
        #expect(text.contains("coordd_operation_duration_seconds_count{operation=\"peek\"} 2\n"))
        await observed.harness.shutdown()
    }
}
