@testable import Inventory
import Testing

struct WorkerRegistryTests {
    @Test func startsEmptyAtRevisionZero() {
        let registry = WorkerRegistry()
        #expect(registry.current.revision == 0)
        #expect(registry.current.workers.isEmpty)
        #expect(registry.count == 0)
        #expect(registry.nextDeadlineMs == nil)
        #expect(registry.deltas(since: 0) == [])
    }

    @Test func registrationMakesOneChangeAtNextRevision() throws {
        var registry = WorkerRegistry()
        let clock = ManualClock()
        let result = registry.register(
            id: worker(1), metadata: ["zone": "a"], renewIntervalMs: defaultRenewMs, stream: StreamID(10), now: clock.now)
        let change = try #require(result.change)
        #expect(result.replaced == nil)
        let entry = WorkerEntry(id: worker(1), metadata: ["zone": "a"], lastSeenAtMs: clock.wallMs)
        #expect(change.snapshot.revision == 1)
        #expect(change.snapshot.timestampMs == clock.wallMs)
        #expect(change.snapshot.workers == [entry])
        #expect(change.delta == InventoryDelta(revision: 1, joined: [entry], left: [], updated: []))
        #expect(registry.current === change.snapshot)
        #expect(registry.owner(of: worker(1)) == StreamID(10))
        #expect(registry.nextDeadlineMs == clock.monotonicMs + 90_000)
    }

    @Test func aSnapshotBuiltForANewSubscriberCarriesTheTimeItWasBuilt() throws {
        var registry = WorkerRegistry()
        var clock = ManualClock()
        let empty = registry.snapshot(builtAt: clock.now)
        #expect(empty.revision == 0 && empty.workers.isEmpty && empty.timestampMs == clock.wallMs, "never 0, even when empty")
        let change = try #require(registry.register(
            id: worker(1), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(1), now: clock.now).change)
        clock.advance(ms: 5_000)
        let later = registry.snapshot(builtAt: clock.now)
        #expect(later.revision == change.snapshot.revision && later.workers == change.snapshot.workers)
        #expect(later.timestampMs == clock.wallMs && later.timestampMs > change.snapshot.timestampMs)
        #expect(registry.current === change.snapshot, "building one changes nothing")
    }

    @Test func snapshotIsSortedByWorkerBytes() {
        var registry = WorkerRegistry()
        let clock = ManualClock()
        for (n, stream) in [(UInt8(9), UInt64(1)), (3, 2), (200, 3), (7, 4)] {
            _ = registry.register(
                id: worker(n), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(stream), now: clock.now)
        }
        #expect(registry.current.workers.map(\.id) == [worker(3), worker(7), worker(9), worker(200)])
        #expect(registry.current.revision == 4)
    }

    @Test func duplicateWorkerIDReplacesOlderStreamInExactlyOneChange() throws {
        var registry = WorkerRegistry()
        var clock = ManualClock()
        _ = registry.register(
            id: worker(1), metadata: ["v": "1"], renewIntervalMs: defaultRenewMs, stream: StreamID(1), now: clock.now)
        clock.advance(ms: 500)
        let result = registry.register(
            id: worker(1), metadata: ["v": "2"], renewIntervalMs: defaultRenewMs, stream: StreamID(2), now: clock.now)
        let change = try #require(result.change)
        #expect(result.replaced == StreamID(1))
        let entry = WorkerEntry(id: worker(1), metadata: ["v": "2"], lastSeenAtMs: clock.wallMs)
        #expect(change.delta == InventoryDelta(revision: 2, joined: [], left: [], updated: [entry]))
        #expect(change.snapshot.workers == [entry])
        #expect(registry.owner(of: worker(1)) == StreamID(2))

        // The shell now ends the replaced stream: that changes nothing, so no second fan-out.
        #expect(registry.streamEnded(StreamID(1), now: clock.now) == nil)
        #expect(registry.renew(id: worker(1), stream: StreamID(1), now: clock.now) == .notOwner)
        #expect(registry.current.revision == 2)
    }

    @Test func replacedRegistrationsDeadlineNoLongerEvicts() throws {
        var registry = WorkerRegistry()
        var clock = ManualClock()
        let start = clock.monotonicMs
        // 1 s interval: TTL is the 30 s floor.
        _ = registry.register(id: worker(1), metadata: [:], renewIntervalMs: 1_000, stream: StreamID(1), now: clock.now)
        clock.advance(ms: 10_000)
        _ = registry.register(
            id: worker(1), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(2), now: clock.now)
        #expect(registry.nextDeadlineMs == start + 100_000)
        clock.monotonicMs = start + 30_000
        let sweep = registry.sweep(now: clock.now)
        #expect(sweep.change == nil)
        #expect(sweep.evicted.isEmpty)
        #expect(registry.owner(of: worker(1)) == StreamID(2))
    }

    @Test func sameStreamRegisteringTwiceIsRejected() {
        var registry = WorkerRegistry()
        let clock = ManualClock()
        _ = registry.register(id: worker(1), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(1), now: clock.now)
        for id in [worker(1), worker(2)] {
            let result = registry.register(
                id: id, metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(1), now: clock.now)
            #expect(result == .rejected(.streamAlreadyRegistered(stream: StreamID(1), worker: worker(1))))
            #expect(result.rejection?.message == "stream already registered worker \(worker(1))")
        }
        #expect(registry.current.revision == 1)
        #expect(registry.count == 1)
    }

    @Test func streamEndRemovesItsWorkerInOneChange() throws {
        var registry = WorkerRegistry()
        var clock = ManualClock()
        _ = registry.register(id: worker(1), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(1), now: clock.now)
        _ = registry.register(id: worker(2), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(2), now: clock.now)
        clock.advance(ms: 1)
        let ended = registry.streamEnded(StreamID(1), now: clock.now)
        let change = try #require(ended)
        #expect(change.delta == InventoryDelta(revision: 3, joined: [], left: [worker(1)], updated: []))
        #expect(change.snapshot.workers.map(\.id) == [worker(2)])
        #expect(change.snapshot.timestampMs == clock.wallMs)
        #expect(registry.owner(of: worker(1)) == nil)
        #expect(registry.streamEnded(StreamID(1), now: clock.now) == nil)
    }

    @Test func observerStreamEndChangesNothing() {
        var registry = WorkerRegistry()
        let clock = ManualClock()
        _ = registry.register(id: worker(1), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(1), now: clock.now)
        #expect(registry.streamEnded(StreamID(99), now: clock.now) == nil)
        #expect(registry.current.revision == 1)
    }

    @Test func renewalMakesNoChangeAndTakesLastSeenFromServerWallClock() {
        var registry = WorkerRegistry()
        var clock = ManualClock()
        _ = registry.register(id: worker(1), metadata: ["k": "v"], renewIntervalMs: defaultRenewMs, stream: StreamID(1), now: clock.now)
        let snapshotBefore = registry.current
        clock.advance(ms: 10_000)
        #expect(registry.renew(id: worker(1), stream: StreamID(1), now: clock.now) == .renewed)
        #expect(registry.current === snapshotBefore)
        #expect(registry.deltas(since: 1) == [])

        // The wall clock is set back: last_seen_at still follows the server's value, deadlines do not.
        clock.monotonicMs += 5_000
        clock.wallMs -= 3_600_000
        #expect(registry.renew(id: worker(1), stream: StreamID(1), now: clock.now) == .renewed)
        #expect(registry.nextDeadlineMs == clock.monotonicMs + 90_000)

        // The next change carries the renewed last_seen_at.
        _ = registry.register(id: worker(2), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(2), now: clock.now)
        #expect(registry.current.workers.first == WorkerEntry(id: worker(1), metadata: ["k": "v"], lastSeenAtMs: clock.wallMs))
        #expect(snapshotBefore.workers.first?.lastSeenAtMs == 1_780_000_000_000)
    }

    @Test func renewalByAnotherStreamOrUnknownIDIsNotOwner() {
        var registry = WorkerRegistry()
        var clock = ManualClock()
        _ = registry.register(id: worker(1), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(1), now: clock.now)
        let deadline = registry.nextDeadlineMs
        clock.advance(ms: 60_000)
        #expect(registry.renew(id: worker(1), stream: StreamID(2), now: clock.now) == .notOwner)
        #expect(registry.renew(id: worker(2), stream: StreamID(1), now: clock.now) == .notOwner)
        #expect(registry.nextDeadlineMs == deadline)
    }

    @Test func workerIsEvictedExactlyAtTTLNotBefore() throws {
        var registry = WorkerRegistry()
        var clock = ManualClock()
        let start = clock.monotonicMs
        _ = registry.register(id: worker(1), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(7), now: clock.now)

        clock.monotonicMs = start + 89_999
        let early = registry.sweep(now: clock.now)
        #expect(early.change == nil)
        #expect(early.evicted.isEmpty)
        #expect(early.nextDeadlineMs == start + 90_000)

        clock.monotonicMs = start + 90_000
        let due = registry.sweep(now: clock.now)
        let change = try #require(due.change)
        #expect(due.evicted.map(\.id) == [worker(1)])
        #expect(due.evicted.map(\.stream) == [StreamID(7)])
        #expect(change.delta == InventoryDelta(revision: 2, joined: [], left: [worker(1)], updated: []))
        #expect(change.snapshot.workers.isEmpty)
        #expect(due.nextDeadlineMs == nil)
        #expect(registry.owner(of: worker(1)) == nil)
        // The evicted stream's end, reported later by the shell, changes nothing more.
        #expect(registry.streamEnded(StreamID(7), now: clock.now) == nil)
    }

    @Test func renewalPushesTheDeadline() throws {
        var registry = WorkerRegistry()
        var clock = ManualClock()
        let start = clock.monotonicMs
        _ = registry.register(id: worker(1), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(1), now: clock.now)
        clock.monotonicMs = start + 60_000
        #expect(registry.renew(id: worker(1), stream: StreamID(1), now: clock.now) == .renewed)
        #expect(registry.nextDeadlineMs == start + 150_000)

        clock.monotonicMs = start + 90_000
        #expect(registry.sweep(now: clock.now).evicted.isEmpty)
        clock.monotonicMs = start + 149_999
        #expect(registry.sweep(now: clock.now).evicted.isEmpty)
        clock.monotonicMs = start + 150_000
        #expect(registry.sweep(now: clock.now).evicted.map(\.id) == [worker(1)])
    }

    @Test func nextDeadlineIsTheEarliestLiveOneAfterTheEarliestWorkerRenews() {
        var registry = WorkerRegistry()
        var clock = ManualClock()
        let start = clock.monotonicMs
        _ = registry.register(id: worker(1), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(1), now: clock.now)
        clock.monotonicMs = start + 10_000
        _ = registry.register(id: worker(2), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(2), now: clock.now)
        #expect(registry.nextDeadlineMs == start + 90_000)
        clock.monotonicMs = start + 50_000
        _ = registry.renew(id: worker(1), stream: StreamID(1), now: clock.now)
        #expect(registry.nextDeadlineMs == start + 100_000)
        _ = registry.streamEnded(StreamID(2), now: clock.now)
        #expect(registry.nextDeadlineMs == start + 140_000)
    }

    @Test func allEvictionsOfOneSweepAreOneChange() throws {
        var registry = WorkerRegistry()
        var clock = ManualClock()
        for n in [UInt8(5), 1, 3] {
            _ = registry.register(
                id: worker(n), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(UInt64(n)), now: clock.now)
            clock.advance(ms: 1_000)
        }
        _ = registry.register(id: worker(4), metadata: [:], renewIntervalMs: 300_000, stream: StreamID(4), now: clock.now)
        clock.advance(ms: 200_000)
        let sweep = registry.sweep(now: clock.now)
        let change = try #require(sweep.change)
        #expect(change.snapshot.revision == 5)
        #expect(change.delta.left == [worker(1), worker(3), worker(5)])
        #expect(sweep.evicted.map(\.id) == [worker(1), worker(3), worker(5)])
        #expect(sweep.evicted.map(\.stream) == [StreamID(1), StreamID(3), StreamID(5)])
        #expect(change.snapshot.workers.map(\.id) == [worker(4)])
        #expect(registry.current.revision == 5)
    }

    @Test func staleDeadlinesFromRenewalsStayBounded() {
        var registry = WorkerRegistry()
        var clock = ManualClock()
        let start = clock.monotonicMs
        let ttlMs: Int64 = 30_000  // 3 × 100 ms is below the floor
        _ = registry.register(id: worker(1), metadata: [:], renewIntervalMs: 100, stream: StreamID(1), now: clock.now)
        _ = registry.register(id: worker(2), metadata: [:], renewIntervalMs: 100, stream: StreamID(2), now: clock.now)
        var renewals = 0
        for _ in 0..<10_000 {
            clock.advance(ms: 1)
            if registry.renew(id: worker(1), stream: StreamID(1), now: clock.now) == .renewed { renewals += 1 }
        }
        #expect(renewals == 10_000)
        // Without compaction the heap would hold 10_002 items.
        #expect(registry.pendingDeadlineCount <= 2 * registry.count + 64 + 1)
        #expect(registry.nextDeadlineMs == start + ttlMs)
        clock.monotonicMs = start + ttlMs
        #expect(registry.sweep(now: clock.now).evicted.map(\.id) == [worker(2)])
        #expect(registry.nextDeadlineMs == start + 10_000 + ttlMs)
    }
}
