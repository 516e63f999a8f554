import CoordTestKit
import Coordinator
import StreamCore
import Testing

/// A WorkerInventory's `timestamp` is its build time on the server's wall clock (streamkit v1 §2.3),
/// on every path that produces one — never 0, which a client would show as 1970 and order first.
@Suite(.serialized) struct InventoryTimestampTests {
    @Test(arguments: Configuration.all)
    func everySnapshotCarriesTheTimeItWasBuilt(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let clock = harness.wallClock
        // The first snapshot of an empty store.
        let observer = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil))
        let empty = try await observer.inventory()
        #expect(empty.revision == 0 && empty.workers.isEmpty)
        #expect(empty.timestamp == clock.nowMs() && empty.timestamp > 0)

        // A change: built when it is made.
        clock.advance(byMs: 1_000)
        let worker = try await WorkerStream.open(harness, SubscribeWorkers(workerID: .random()))
        let joined = try await observer.inventory()
        #expect(joined.revision == 1 && joined.timestamp == clock.nowMs())

        // A later observer's first snapshot is built when it subscribes, as streamkit builds one per
        // observer, so it never orders before a snapshot sent earlier.
        clock.advance(byMs: 1_000)
        let late = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil))
        let seeded = try await late.inventory()
        #expect(seeded.revision == 1 && seeded.timestamp == clock.nowMs() && seeded.timestamp > joined.timestamp)

        // The snapshot that starts a delta subscription, and the one a resume from another epoch gets.
        clock.advance(byMs: 1_000)
        let deltas = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil, deltas: true))
        let first = try await deltas.inventory()
        #expect(first.revision == 1 && first.timestamp == clock.nowMs())
        clock.advance(byMs: 1_000)
        let epoch = try #require(joined.epoch)
        let resumed = try await WorkerStream.open(
            harness, SubscribeWorkers(workerID: nil, deltas: true, sinceRevision: 1, sinceEpoch: epoch + 1))
        let fresh = try await resumed.inventory()
        #expect(fresh.revision == 1 && fresh.epoch == epoch && fresh.timestamp == clock.nowMs())

        for stream in [observer, worker, late, deltas, resumed] { stream.stream.close(error: nil) }
        await harness.shutdown()
    }
}
