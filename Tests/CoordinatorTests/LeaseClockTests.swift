import CoordClient
import CoordTestKit
@testable import Coordinator
import StreamCore
import Testing

/// Lease TTLs on the node's manual monotonic clock: a lease ends when the test moves the clock past its
/// deadline and the store's timers have run, and not before.
@Suite(.serialized) struct LeaseClockTests {
    /// All of the store's timers asleep again: what the last move set off is done.
    static func timersParked(_ clock: ManualMonotonicClock) async throws {
        try await withDeadline(seconds: 30) { await clock.waitForSleepers(Node.timersOnTheClock) }
    }

    @Test(arguments: Configuration.all)
    func aLeaseExpiresOnTheServersClockAndANewHolderGetsAHigherToken(_ configuration: Configuration) async throws {
        let clock = ManualMonotonicClock(startMs: 0)
        let harness = try await Harness(configuration, node: onClock(clock))
        let client = harness.client
        let first = try await client.acquire(key: "k", holder: "a", ttl: .milliseconds(100))
        clock.advance(byMs: 99)
        try await Self.timersParked(clock)
        #expect(!(try await client.acquire(key: "k", holder: "b", ttl: .seconds(5))).ok, "held until its TTL has passed")
        clock.advance(byMs: 1)
        try await Self.timersParked(clock)
        #expect(try await client.acquire(key: "k", holder: "b", ttl: .seconds(5)).ok)
        let listed = try await client.leases(prefix: "k")
        #expect(listed.map(\.holder) == ["b"] && listed[0].fence > first.fence!)
        #expect(!(try await client.renew(key: "k", holder: "a", ttl: .seconds(1)).ok))
        await harness.shutdown()
    }

    /// The ticker sleeps until the earliest deadline it knows and is woken only by a change that brings an
    /// earlier one: a later grant leaves it asleep, a shorter one and a renewal that shortens a TTL wake it.
    @Test func theTickerExpiresALeaseAtADeadlineBroughtForwardWhileItSlept() async throws {
        let clock = ManualMonotonicClock(startMs: 0)
        let metrics = DaemonMetrics()
        var node = onClock(clock)
        node.metrics = metrics
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess), node: node)
        let client = harness.client
        let expired = { metrics.leaseOperations.value(["expire", "expired"]) }
        #expect(try await client.acquire(key: "long", holder: "a", ttl: .seconds(60)).ok)
        #expect(try await client.acquire(key: "later", holder: "a", ttl: .seconds(90)).ok)
        try await Self.timersParked(clock)
        #expect(try await client.acquire(key: "short", holder: "a", ttl: .seconds(10)).ok)
        #expect(try await client.renew(key: "long", holder: "a", ttl: .seconds(1)).ok, "a renewal may shorten the TTL")
        try await Self.timersParked(clock)
        clock.advance(byMs: 999)
        try await Self.timersParked(clock)
        #expect(expired() == 0)
        clock.advance(byMs: 1)
        try await Self.timersParked(clock)
        #expect(expired() == 1, "expired at the renewal's deadline, not the grant's")
        clock.advance(byMs: 9_000)
        try await Self.timersParked(clock)
        #expect(expired() == 2)
        #expect(try await client.leases().map(\.key) == ["later"])
        clock.advance(byMs: 80_000)
        try await Self.timersParked(clock)
        #expect(expired() == 3)
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func aPresenceBoundLeaseEndsWhenItsWorkerIsEvicted(_ configuration: Configuration) async throws {
        let clock = ManualMonotonicClock(startMs: 0)
        let harness = try await Harness(configuration, node: onClock(clock, ttlFloorMs: 300))
        let id = WireUUID.random()
        // A worker that registers and then never renews: evicted after its 1.5 s TTL.
        let silent = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id, heartbeatIntervalMs: 500))
        _ = try await silent.inventory()
        let bound = try await harness.client.acquire(key: "k", holder: "w", ttl: .seconds(60), workerID: id)
        #expect(bound.ok)
        clock.advance(byMs: 1_499)
        try await Self.timersParked(clock)
        #expect(try await harness.client.leases().map(\.holder) == ["w"], "its worker is still within its TTL")
        clock.advance(byMs: 1)
        try await Self.timersParked(clock)
        #expect(try await harness.client.leases().isEmpty)
        #expect(try await harness.client.status().workers == 0)
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func aFencedProduceIsRefusedAfterATakeoverAndAcceptedWithTheNewToken(_ configuration: Configuration) async throws {
        let clock = ManualMonotonicClock(startMs: 0)
        let harness = try await Harness(configuration, node: onClock(clock))
        let client = harness.client
        await #expect(throws: StreamsError.self) {
            try await client.produce(space: "s", segment: "g", records: makeRecords(1), fence: Fence(key: "k", token: 1))
        }
        let old = try await client.acquire(key: "k", holder: "old", ttl: .seconds(1))
        let oldFence = Fence(key: "k", token: old.fence!)
        try await client.produce(space: "s", segment: "g", records: makeRecords(1), fence: oldFence)
        // The old holder pauses past its TTL; a new holder takes over.
        clock.advance(byMs: 1_000)
        try await Self.timersParked(clock)
        #expect(try await client.acquire(key: "k", holder: "new", ttl: .seconds(30)).ok)
        let new = try #require(try await client.leases(prefix: "k").first)
        do throws(StreamsError) {
            try await client.produce(space: "s", segment: "g", records: makeRecords(1, from: 2), fence: oldFence)
            Issue.record("the paused old holder must not write")
        } catch {
            #expect(error.name == "fence_mismatch" && error.code == .permanent)
            #expect(error.message.contains("stale") || error.message.contains("current"), "\(error.message)")
        }
        try await client.produce(space: "s", segment: "g", records: makeRecords(1, from: 2),
                                 fence: Fence(key: "k", token: new.fence))
        #expect(try await client.peek(space: "s", segment: "g").sequence == 2, "the refused write left nothing")
        await harness.shutdown()
    }
}
