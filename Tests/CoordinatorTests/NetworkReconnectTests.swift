import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing
import Transport

/// The client across a server restart: calls work again, a registered worker registers again, an
/// observer gets a fresh snapshot and a change subscription resumes (streamkit does none of this, §3.5).
@Suite struct NetworkReconnectTests {
    /// Inventories from `updates` until one satisfies `condition` (bounded in count and time).
    func inventory(
        from updates: InventoryUpdates, seconds: Double = 15, where condition: @escaping @Sendable (WorkerInventory) -> Bool
    ) async throws -> WorkerInventory? {
        try await withDeadline(seconds: seconds) {
            var iterator = updates.makeAsyncIterator()
            for _ in 0..<1_000 {
                guard let inventory = try await iterator.next() else { return nil }
                if condition(inventory) { return inventory }
            }
            return nil
        }
    }

    @Test func afterARestartTheNextCallWorksAndARegisteredWorkerRegistersAgain() async throws {
        let manager = NodeManager { _ throws(StreamsError) in MemoryStore() }
        let first = try await NetworkDaemon.start(manager: manager)
        let port = first.port
        let provider = try first.provider()
        let store = WireUUID.random()
        let client = CoordClient(provider: provider, store: store)
        // Looks at the node directly, whatever the network does.
        let local = CoordClient(provider: manager.inProcessProvider(), store: store)
        let observer = try await client.workers()
        let id = WireUUID.random()
        let registration = try await client.registerWorker(id: id, heartbeatIntervalMs: 1_000)
        #expect(try await inventory(from: observer) { ids($0) == [id] } != nil)

        await first.server.shutdown(graceMs: 1_000)
        // The server ended the worker's stream, so the node dropped it.
        #expect(await eventually(seconds: 5) { (try? await local.status().workers) == 0 })
        let second = try await NetworkDaemon.start(manager: manager, port: port)

        #expect(try await client.spaces().isEmpty, "the next call works")
        let again = try await inventory(from: observer) { ids($0) == [id] }
        #expect(again != nil, "the observer sees the worker again")
        #expect(try await local.status().workers == 1)
        #expect(provider.connectionGeneration == 2)

        registration.close()
        #expect(await registration.waitUntilEnded() == nil)
        observer.close()
        await provider.close()
        await second.stop()
    }

    @Test func aChangeSubscriptionResumesFromItsLastRevisionAfterAReconnect() async throws {
        let manager = NodeManager { _ throws(StreamsError) in MemoryStore() }
        let first = try await NetworkDaemon.start(manager: manager)
        let provider = try first.provider()
        let client = CoordClient(provider: provider, store: .random())
        let id = WireUUID.random()
        // One deadline over the whole run: the iterator stays in the task that made it.
        let (events, registration, second) = try await withDeadline(seconds: 30) {
            var changes = client.workerChanges().makeAsyncIterator()
            var events: [InventoryEvent] = []
            events.append(try #require(try await changes.next()).event)
            let registration = try await client.registerWorker(id: id)
            events.append(try #require(try await changes.next()).event)
            await first.server.shutdown(graceMs: 1_000)
            let second = try await NetworkDaemon.start(manager: manager, port: first.port)
            // The node kept its history: after the reconnect come the deltas after revision 1 (the
            // worker leaving when the server went down, and joining again), not a snapshot.
            for _ in 0..<2 { events.append(try #require(try await changes.next()).event) }
            return (events, registration, second)
        }
        #expect(events.map(\.revision) == [0, 1, 2, 3])
        guard case .snapshot = events[0], case .delta(let joined) = events[1], case .delta(let left) = events[2],
            case .delta(let rejoined) = events[3]
        else {
            Issue.record("expected a snapshot and three deltas, got \(events)")
            return
        }
        #expect(joined.joined.map(\.workerID) == [id] && left.left == [id] && rejoined.joined.map(\.workerID) == [id])
        registration.close()
        await provider.close()
        await second.stop()
    }
}
