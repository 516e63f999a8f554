import CoordClient
import CoordTestKit
import Coordinator
import Inventory
import StreamCore
import Testing
import Transport

/// Reads enveloped messages from a SubscribeWorkers stream, each with a deadline.
struct WorkerStream {
    let stream: any BidiStream

    static func open(_ harness: Harness, _ request: SubscribeWorkers, store: WireUUID? = nil) async throws -> WorkerStream {
        WorkerStream(stream: try await harness.provider.callStream(store: store ?? harness.store, request: request))
    }

    func next(seconds: Double = 10) async throws -> (any EnvelopedMessage)? {
        let stream = self.stream
        return try await withDeadline(seconds: seconds) {
            guard let bytes = try await stream.receive() else { return nil }
            return try Envelope.decode(bytes)
        }
    }

    /// The next inventory, skipping heartbeats.
    func inventory(seconds: Double = 10) async throws -> WorkerInventory {
        for _ in 0..<100 {
            let message = try #require(try await next(seconds: seconds))
            if let inventory = message as? WorkerInventory { return inventory }
            #expect(message is Presence)
        }
        throw StreamsError.internalError("no inventory among 100 messages")
    }

    func renew(_ id: WireUUID) async throws {
        try await stream.sendEnveloped(Presence(workerID: id, heartbeat: false, timestamp: 1))
    }
}

func ids(_ inventory: WorkerInventory) -> [WireUUID] { inventory.workers.compactMap(\.workerID) }

/// Fast failure detection for tests: TTL floor 300 ms.
func fastPresence() -> NodeConfiguration {
    var node = NodeConfiguration()
    node.inventory.engine = InventoryLimits(ttlFloorMs: 300, sweepIntervalMs: 50)
    return node
}

/// streamkit v1 §8.5 as coordd corrects it, over every configuration.
@Suite(.serialized) struct WorkerInventoryTests {
    @Test(arguments: Configuration.all)
    func anObserverSeesAWorkerWithMetadataAppearAndDisappear(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let observer = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil))
        let initial = try await observer.inventory()
        #expect(initial.workers.isEmpty && initial.revision == 0)
        let id = WireUUID.random()
        let worker = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id, metadata: ["role": "processor"]))
        let joined = try await observer.inventory()
        #expect(joined.revision == 1 && ids(joined) == [id] && joined.workers[0].metadata == ["role": "processor"])
        #expect(joined.workers[0].lastSeenAt == harness.wallClock.nowMs(), "the server's clock sets last_seen_at")
        #expect(try await worker.inventory().revision == 1, "the registration fan-out is the worker's first inventory")
        worker.stream.close(error: nil)
        let left = try await observer.inventory()
        #expect(left.revision == 2 && left.workers.isEmpty)
        observer.stream.close(error: nil)
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func inventoriesAreIsolatedByStore(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let other = WireUUID.random()
        let observerB = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil), store: other)
        _ = try await observerB.inventory()
        let worker = try await WorkerStream.open(harness, SubscribeWorkers(workerID: .random()))
        _ = try await worker.inventory()
        await #expect(throws: StreamsError.self) { _ = try await observerB.next(seconds: 0.3) }
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func aLateObserverGetsASnapshotWithExistingWorkersThenLiveChanges(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let first = WireUUID(high: 1, low: 1)
        let second = WireUUID(high: 2, low: 2)
        let w1 = try await WorkerStream.open(harness, SubscribeWorkers(workerID: second))
        let w2 = try await WorkerStream.open(harness, SubscribeWorkers(workerID: first))
        _ = (try await w1.inventory(), try await w2.inventory())
        let observer = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil))
        let snapshot = try await observer.inventory()
        #expect(ids(snapshot) == [first, second], "sorted by the UUID bytes")
        let third = WireUUID(high: 3, low: 3)
        _ = try await WorkerStream.open(harness, SubscribeWorkers(workerID: third))
        #expect(ids(try await observer.inventory()) == [first, second, third])
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func renewalsRaiseLastSeenWithoutAFanOut(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let observer = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil))
        _ = try await observer.inventory()
        let id = WireUUID.random()
        let worker = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id))
        let registered = try await observer.inventory()
        harness.wallClock.advance(byMs: 5_000)
        try await worker.renew(id)  // the client's timestamp (1) is ignored
        await #expect(throws: StreamsError.self) { _ = try await observer.next(seconds: 0.3) }
        _ = try await WorkerStream.open(harness, SubscribeWorkers(workerID: .random()))
        let next = try await observer.inventory()
        #expect(next.revision == registered.revision! + 1)
        #expect(next.workers.first { $0.workerID == id }?.lastSeenAt == registered.workers[0].lastSeenAt + 5_000)
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func aDuplicateWorkerIdReplacesThePriorStreamWithExactlyOneFanOut(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let observer = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil))
        _ = try await observer.inventory()
        let id = WireUUID.random()
        let first = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id, metadata: ["v": "1"]))
        #expect(try await observer.inventory().revision == 1)
        _ = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id, metadata: ["v": "2"]))
        let replaced = try await observer.inventory()
        #expect(replaced.revision == 2 && replaced.workers.map(\.metadata) == [["v": "2"]])
        var ending: StreamsError?
        for _ in 0..<10 {
            do {
                guard try await first.next() != nil else { break }
            } catch let error as StreamsError {
                ending = error
                break
            }
        }
        #expect(ending == .workerReplaced)
        #expect(ending?.message == "worker_id registered by another stream")
        await #expect(throws: StreamsError.self) { _ = try await observer.next(seconds: 0.3) }
        #expect(try await harness.client.status().inventoryRevision == 2, "no second fan-out")
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func aMalformedRenewalEndsTheWorkerStreamAndRemovesTheWorker(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let observer = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil))
        _ = try await observer.inventory()
        let id = WireUUID.random()
        let worker = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id))
        _ = try await observer.inventory()
        try await worker.stream.sendEnveloped(GetSpaces())
        #expect(try await observer.inventory().workers.isEmpty)
        let other = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id))
        _ = try await observer.inventory()
        try await other.stream.sendEnveloped(Presence(workerID: .random(), heartbeat: false, timestamp: 0))
        #expect(try await observer.inventory().workers.isEmpty)
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func deltaSubscribersGetASnapshotThenDeltasAndCanResume(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let observer = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil, deltas: true))
        #expect(try await observer.next() is WorkerInventory)
        let a = WireUUID.random()
        let wa = try await WorkerStream.open(harness, SubscribeWorkers(workerID: a, metadata: ["k": "v"]))
        let joined = try #require(try await observer.next() as? WorkerInventoryDelta)
        #expect(joined.revision == 1 && joined.joined.map(\.workerID) == [a] && joined.left.isEmpty)
        wa.stream.close(error: nil)
        let left = try #require(try await observer.next() as? WorkerInventoryDelta)
        #expect(left.revision == 2 && left.left == [a])
        // Resume after revision 1: only the delta of revision 2 arrives.
        let resumed = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil, deltas: true, sinceRevision: 1))
        let replay = try #require(try await resumed.next() as? WorkerInventoryDelta)
        #expect(replay.revision == 2 && replay.left == [a])
        // A revision outside the history (the future) falls back to a snapshot.
        let fresh = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil, deltas: true, sinceRevision: 99))
        #expect((try await fresh.next() as? WorkerInventory)?.revision == 2)
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func deltasResumeOnlyInTheEpochTheirRevisionCountsIn(_ configuration: Configuration) async throws {
        var harness = try await Harness(configuration)
        let observer = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil, deltas: true))
        let first = try #require(try await observer.next() as? WorkerInventory)
        let epoch = try #require(first.epoch)
        _ = try await WorkerStream.open(harness, SubscribeWorkers(workerID: .random())).inventory()
        #expect((try await observer.next() as? WorkerInventoryDelta)?.epoch == epoch, "deltas carry the epoch")
        // The same epoch resumes with deltas; another one gets a snapshot.
        let same = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil, deltas: true, sinceRevision: 0, sinceEpoch: epoch))
        #expect((try await same.next() as? WorkerInventoryDelta)?.revision == 1)
        let other = try await WorkerStream.open(
            harness, SubscribeWorkers(workerID: nil, deltas: true, sinceRevision: 0, sinceEpoch: epoch + 1))
        #expect((try await other.next() as? WorkerInventory)?.revision == 1)
        observer.stream.close(error: nil)
        // After a restart revisions count from 0 again in a new epoch: a subscriber of the old one at
        // revision 0 gets a snapshot, although revision 1 exists again.
        harness = try await harness.restart()
        _ = try await WorkerStream.open(harness, SubscribeWorkers(workerID: .random())).inventory()
        let resumed = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil, deltas: true, sinceRevision: 0, sinceEpoch: epoch))
        let snapshot = try #require(try await resumed.next() as? WorkerInventory)
        #expect(snapshot.revision == 1 && snapshot.epoch != epoch)
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func aPresenceOnlyWorkerIsAcknowledgedByAPresenceAndReceivesNoInventory(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let observer = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil))
        _ = try await observer.inventory()
        let id = WireUUID.random()
        let worker = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id, presenceOnly: true))
        let ack = try #require(try await worker.next() as? Presence)
        #expect(ack.heartbeat && ack.workerID == id)
        #expect(ids(try await observer.inventory()) == [id], "observers see a presence-only worker like any other")
        // Another worker joins: the observer hears of it, the presence-only worker does not.
        let other = try await WorkerStream.open(harness, SubscribeWorkers(workerID: .random()))
        #expect(try await observer.inventory().workers.count == 2)
        _ = try await other.inventory()
        // No heartbeat period was asked for, so nothing at all arrives.
        await #expect(throws: StreamsError.self) { _ = try await worker.next(seconds: 0.3) }
        // It renews like any worker, and its end is a change for the others.
        harness.wallClock.advance(byMs: 1_000)
        try await worker.renew(id)
        worker.stream.close(error: nil)
        #expect(ids(try await observer.inventory()).count == 1)
        await harness.shutdown()
    }

    /// Over the network a presence-only worker is served on its connection's loop, with no task: a message
    /// that is no renewal still ends it with a clear error and unregisters it, and a second registration
    /// of the same worker still replaces it.
    @Test(arguments: Configuration.all)
    func aPresenceOnlyWorkerEndsOnABadMessageAndIsReplacedByANewRegistration(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let id = WireUUID.random()
        let first = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id, presenceOnly: true))
        _ = try #require(try await first.next() as? Presence)
        let second = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id, presenceOnly: true))
        _ = try #require(try await second.next() as? Presence)
        await #expect(throws: StreamsError.workerReplaced) { _ = try await first.next() }
        try await second.renew(id)
        try await second.stream.send(GetSpaces().enveloped())
        await #expect(throws: StreamsError.invalidRequest("unexpected worker presence stream message type: *api.GetSpaces")) {
            _ = try await second.next()
        }
        #expect(await eventually { (try? await harness.client.status().workers) == 0 }, "the worker left with its stream")
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func presenceOnlyWithoutAWorkerOrWithDeltasIsRefused(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let observer = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil, presenceOnly: true))
        await #expect(throws: StreamsError.invalidRequest(
            "presence_only needs a worker_id: an observer that receives nothing is pointless")) { _ = try await observer.next() }
        let deltas = try await WorkerStream.open(harness, SubscribeWorkers(workerID: .random(), deltas: true, presenceOnly: true))
        await #expect(throws: StreamsError.invalidRequest(
            "presence_only excludes deltas and since_revision: a presence-only worker receives no inventory")) { _ = try await deltas.next() }
        #expect(try await harness.client.status().workers == 0, "a refused request registers nothing")
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func registrationLimitsAreRefusedWithClearErrors(_ configuration: Configuration) async throws {
        var node = NodeConfiguration()
        node.inventory.maxSubscribers = 2
        let harness = try await Harness(configuration, node: node)
        let big = Dictionary(uniqueKeysWithValues: (0..<65).map { ("k\($0)", "v") })
        let refused = try await WorkerStream.open(harness, SubscribeWorkers(workerID: .random(), metadata: big))
        await #expect(throws: StreamsError.limitExceeded("too many metadata entries: 65 (limit 64)")) {
            _ = try await refused.next()
        }
        _ = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil)).inventory()
        _ = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil)).inventory()
        let third = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil))
        await #expect(throws: StreamsError.limitExceeded("too many worker inventory subscribers (limit 2)")) {
            _ = try await third.next()
        }
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func theClientYieldsNewestInventoriesAndDeltas(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        let updates = try await client.workers()
        var iterator = updates.makeAsyncIterator()
        #expect(try await iterator.next()?.revision == 0)
        var registrations: [WorkerRegistration] = []
        for _ in 0..<5 { registrations.append(try await client.registerWorker(id: .random())) }
        var last: UInt64 = 0
        while last < 5 {
            let current = iterator
            let next = try await withDeadline {
                var copy = current
                return try await copy.next()
            }
            let inventory = try #require(next)
            #expect(inventory.revision! > last, "never an older revision after a newer one")
            last = inventory.revision!
        }
        var changes = client.workerChanges(sinceRevision: 3).makeAsyncIterator()
        let resumed = try await changes.next()
        #expect(resumed?.event.revision == 4)
        for registration in registrations { registration.close() }
        updates.close()
        await harness.shutdown()
    }

}
