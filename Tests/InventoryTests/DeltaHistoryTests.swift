import Inventory
import Testing

struct DeltaHistoryTests {
    /// Ten changes (register then end, alternately) with four deltas retained.
    func registryWithTenRevisions() -> WorkerRegistry {
        var registry = WorkerRegistry(limits: InventoryLimits(historyLimit: 4))
        var clock = ManualClock()
        for n in 0..<5 {
            _ = registry.register(
                id: worker(UInt8(n)), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(UInt64(n)), now: clock.now)
            clock.advance(ms: 1)
            _ = registry.streamEnded(StreamID(UInt64(n)), now: clock.now)
        }
        return registry
    }

    @Test func deltasSinceCurrentRevisionAreEmpty() {
        let registry = registryWithTenRevisions()
        #expect(registry.current.revision == 10)
        #expect(registry.deltas(since: 10) == [])
    }

    @Test func deltasSinceOldestRetainedBoundaryAreAllRetained() throws {
        let registry = registryWithTenRevisions()
        let deltas = try #require(registry.deltas(since: 6))
        #expect(deltas.map(\.revision) == [7, 8, 9, 10])
        #expect(deltas.last?.left == [worker(4)])
        #expect(try #require(registry.deltas(since: 9)).map(\.revision) == [10])
    }

    @Test func deltasOneOlderThanRetainedAreUnavailable() {
        let registry = registryWithTenRevisions()
        #expect(registry.deltas(since: 5) == nil)
        #expect(registry.deltas(since: 0) == nil)
    }

    @Test func deltasSinceAFutureRevisionAreUnavailable() {
        let registry = registryWithTenRevisions()
        #expect(registry.deltas(since: 11) == nil)
        #expect(registry.deltas(since: .max) == nil)
    }

    @Test func deltasFromRevisionZeroBeforeHistoryWrapsAreComplete() throws {
        var registry = WorkerRegistry(limits: InventoryLimits(historyLimit: 4))
        let clock = ManualClock()
        for n in 0..<3 {
            _ = registry.register(
                id: worker(UInt8(n)), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(UInt64(n)), now: clock.now)
        }
        #expect(try #require(registry.deltas(since: 0)).map(\.joined.first?.id) == [worker(0), worker(1), worker(2)])
    }

    @Test func zeroHistoryLimitOnlyAnswersTheCurrentRevision() {
        var registry = WorkerRegistry(limits: InventoryLimits(historyLimit: 0))
        let clock = ManualClock()
        _ = registry.register(id: worker(1), metadata: [:], renewIntervalMs: defaultRenewMs, stream: StreamID(1), now: clock.now)
        #expect(registry.deltas(since: 1) == [])
        #expect(registry.deltas(since: 0) == nil)
    }
}
