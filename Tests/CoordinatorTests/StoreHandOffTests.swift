import CorePrimitives
@testable import Coordinator
import CoordClient
import CoordTestKit
import StreamCore
import Testing

/// Handing a store to another daemon (``NodeManager/handOff(_:ending:graceMs:)``): a write in flight
/// finishes and is answered within the grace, later streams end with the hand-off's error, and the store
/// closes.
@Suite struct StoreHandOffTests {
    let store = WireUUID(high: 9, low: 9)
    static let movedAway = StreamsError.storeUnavailable(because: "store moves to node b")

    /// A manager over stores whose appends can be held, the store open and a client on it.
    func start() async throws -> (NodeManager, StoppedStoreReopenTests.StoppableStore, CoordClient) {
        let manager = NodeManager(configuration: NodeConfiguration(), catalog: StoppedStoreReopenTests.StoppableCatalog())
        let client = CoordClient(provider: manager.inProcessProvider(), store: store)
        try await client.produce(space: "s", segment: "a", records: [Record(sequence: 1, payload: [1])])
        let opened = try #require(try await manager.node(for: store).store as? StoppedStoreReopenTests.StoppableStore)
        return (manager, opened, client)
    }

    /// A produce of sequence 2 held in the store's append, once it is held.
    func heldProduce(_ client: CoordClient, _ opened: StoppedStoreReopenTests.StoppableStore, gate: Latch) async throws
        -> Task<StreamsError?, Never>
    {
        opened.gate.withLock { $0 = gate }
        let produce = Task { () -> StreamsError? in
            do throws(StreamsError) {
                try await client.produce(space: "s", segment: "a", records: [Record(sequence: 2, payload: [2])])
                return nil
            } catch {
                return error
            }
        }
        #expect(await opened.held.wait(until: .now + .seconds(10), clock: ContinuousClock()), "the write is in flight")
        return produce
    }

    @Test func aWriteInFlightIsAnsweredBeforeTheStoreIsHandedOff() async throws {
        let (manager, opened, client) = try await start()
        let gate = Latch()
        let produce = try await heldProduce(client, opened, gate: gate)
        let handOff = Task { await manager.handOff(store, ending: Self.movedAway, graceMs: 10_000) }
        try await Task.sleep(for: .milliseconds(50))
        let closedEarly = opened.closed.load(ordering: .acquiring)
        #expect(!closedEarly, "the hand-off waits for the write")
        _ = gate.open()
        #expect(await produce.value == nil, "the write was acknowledged")
        await handOff.value
        let closed = opened.closed.load(ordering: .acquiring)
        #expect(closed && manager.openNodes.isEmpty, "then the store closed")
        await manager.close()
    }

    @Test func aWritePastTheGraceEndsWithTheHandOffsErrorAndNewStreamsWait() async throws {
        let (manager, opened, client) = try await start()
        let gate = Latch()
        let produce = try await heldProduce(client, opened, gate: gate)
        let handOff = Task { await manager.handOff(store, ending: Self.movedAway, graceMs: 100) }
        await handOff.value
        #expect(await produce.value?.name == StreamsError.storeUnavailable.name, "ended with the hand-off's transient error")
        let closed = opened.closed.load(ordering: .acquiring)
        #expect(closed)
        _ = gate.open()
        // The next stream opens the store again (here, on the same manager: routing is the cluster's).
        #expect(try await client.peek(space: "s", segment: "a").sequence >= 1)
        await manager.close()
    }
}
