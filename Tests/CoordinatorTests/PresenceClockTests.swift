@testable import Coordinator
import CoordTestKit
import Inventory
import StreamCore
import Testing
import Transport

/// Presence TTLs on a manual monotonic clock: time passes when the test says so, and the store's timers
/// (asleep on that clock) have done their work once they are parked again. No real time is involved.
@Suite struct PresenceClockTests {
    /// A harness whose node's deadlines run on `clock`, with a 1 s TTL floor, and its node.
    static func harness(_ transport: TransportKind, clock: ManualMonotonicClock) async throws -> (Harness, Node) {
        let harness = try await Harness(Configuration(store: .memory, transport: transport), node: onClock(clock, ttlFloorMs: 1_000))
        return (harness, try await harness.manager.node(for: harness.store))
    }

    /// The store's timers (presence sweep, lease expiry, assignment deadlines) all asleep again.
    static func timersParked(_ clock: ManualMonotonicClock) async throws {
        try await withDeadline(seconds: 30) { await clock.waitForSleepers(Node.timersOnTheClock) }
    }

    /// Presence timing does not depend on the store: one configuration per transport.
    @Test(arguments: TransportKind.allCases)
    func aRenewingWorkerWithFastHeartbeatsIsNotEvicted(_ transport: TransportKind) async throws {
        let clock = ManualMonotonicClock(startMs: 10_000)
        let (harness, node) = try await Self.harness(transport, clock: clock)
        let id = WireUUID.random()
        // TTL = max(3 × 2 s, 1 s) = 6 s.
        let worker = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id, heartbeatIntervalMs: 2_000))
        #expect(try await worker.inventory().revision == 1)
        #expect(node.inventory.nextPresenceDeadlineMs == 16_000)
        // Five rounds of 5 s, each renewed: 25 s in all, four TTLs past the registration's own deadline.
        for _ in 0..<5 {
            clock.advance(byMs: 5_000)
            try await worker.renew(id)
            let renewedUntil = clock.nowMs() + 6_000
            #expect(await eventually { node.inventory.nextPresenceDeadlineMs == renewedUntil })
            try await Self.timersParked(clock)
            #expect(node.inventory.counts.workers == 1 && node.inventory.current.revision == 1)
        }
        // Silent for one TTL: the sweep evicts it and its stream is told why.
        clock.advance(byMs: 6_000)
        #expect(try await worker.ending() == .presenceExpired)
        #expect(node.inventory.counts.workers == 0 && node.inventory.current.revision == 2)
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func aStaleWorkerIsEvictedWhenItsTTLHasPassedAndItsStreamIsToldWhy(_ configuration: Configuration) async throws {
        let clock = ManualMonotonicClock(startMs: 0)
        let harness = try await Harness(configuration, node: onClock(clock, ttlFloorMs: 1_000))
        let node = try await harness.manager.node(for: harness.store)
        let observer = try await WorkerStream.open(harness, SubscribeWorkers(workerID: nil))
        _ = try await observer.inventory()
        let id = WireUUID.random()
        // TTL = max(3 × 100 ms, 1 s floor) = 1 s.
        let silent = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id, heartbeatIntervalMs: 100))
        #expect(ids(try await observer.inventory()) == [id])
        clock.advance(byMs: 999)
        try await Self.timersParked(clock)
        #expect(node.inventory.counts.workers == 1, "a millisecond short of its TTL it stays")
        clock.advance(byMs: 1)
        let evicted = try await observer.inventory()
        #expect(evicted.workers.isEmpty && evicted.revision == 2)
        let ending = try await silent.ending()
        #expect(ending == .presenceExpired && ending?.code == .permanent)
        observer.stream.close(error: nil)
        await harness.shutdown()
    }
}

/// A node configuration whose deadlines run on `clock`, with a presence TTL floor of `ttlFloorMs`.
func onClock(_ clock: ManualMonotonicClock, ttlFloorMs: Int64 = 30_000) -> NodeConfiguration {
    var node = NodeConfiguration()
    node.monotonicClock = clock
    node.inventory.engine = InventoryLimits(ttlFloorMs: ttlFloorMs, sweepIntervalMs: 50)
    return node
}

extension WorkerStream {
    /// The error the server ended the stream with, reading past up to 100 messages (nil for a clean end).
    func ending() async throws -> StreamsError? {
        for _ in 0..<100 {
            do {
                guard try await next() != nil else { return nil }
            } catch let error as StreamsError {
                return error
            }
        }
        throw StreamsError.internalError("the stream did not end within 100 messages")
    }
}
