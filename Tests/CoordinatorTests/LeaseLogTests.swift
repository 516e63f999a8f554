@testable import Coordinator
import CoordTestKit
import Foundation
import LeaseEngine
@testable import StreamCore
import Synchronization
import Testing

/// The lease log: events in engine order, grouped by the log's own group commit.
@Suite struct LeaseLogTests {
    @Test(arguments: [StoreKind.memory, .file])
    func concurrentAcquiresAreAllGrantedAndSurviveARestart(_ kind: StoreKind) async throws {
        let harness = try await Harness(Configuration(store: kind, transport: .inProcess))
        let client = harness.client
        try await withDeadline(seconds: 30) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<40 {
                    group.addTask {
                        let result = try await client.acquire(key: "k\(n)", holder: "h\(n)", ttl: .seconds(60))
                        #expect(result.ok)
                        if n % 2 == 0 { #expect(try await client.release(key: "k\(n)", holder: "h\(n)").ok) }
                    }
                }
                try await group.waitForAll()
            }
        }
        let restarted = try await harness.restart()
        let leases = try await restarted.client.leases()
        if kind == .file {
            #expect(leases.map(\.key) == (0..<40).filter { $0 % 2 == 1 }.map { "k\($0)" }.sorted())
        }
        await restarted.shutdown()
    }

    /// Part of the store contract: a lease service opened again over a store's lease log (a durable store
    /// reopened, or the same memory store) has the live leases, and fences continue above every one
    /// granted before, across checkpoints too.
    @Test(arguments: StoreKind.allCases)
    func fencesNeverGoBackAcrossAReopen(_ kind: StoreKind) async throws {
        let fixture = try StoreFixture(kind)
        defer { fixture.remove() }
        var store = try await fixture.open()
        var service = try await Self.service(store)
        var highest: UInt64 = 0
        for round in 0..<3 {
            for n in 0..<3 {
                let grant = try await Self.acquire(service, "k", "h\(round)-\(n)")
                #expect(grant.ok && (grant.fence ?? 0) > highest, "fence \(String(describing: grant.fence)) after \(highest)")
                highest = grant.fence ?? 0
                #expect(try await service.release(LeaseRelease(key: "k", holder: "h\(round)-\(n)")).ok)
            }
            #expect(try await Self.acquire(service, "live\(round)", "h").ok)
            // Every other round leaves the log with a checkpoint as its start.
            if round % 2 == 1 {
                try await store.leaseLog.appendCheckpoint(service.engine.withLock { $0.checkpointRecords() }).durable()
            }
            store = try await fixture.reopen(store)
            service = try await Self.service(store)
            #expect(service.list(prefix: "live", limit: 10).map(\.key) == (0...round).map { "live\($0)" })
        }
        let after = try await Self.acquire(service, "k", "last")
        #expect(after.ok && (after.fence ?? 0) > highest)
        await store.close()
    }
}

extension LeaseLogTests {
    /// A lease service over `store` with a manual monotonic clock, as a node opens it.
    static func service(_ store: any StreamStore, clock: ManualMonotonicClock = ManualMonotonicClock()) async throws
        -> LeaseService
    {
        let inventory = InventoryService(limits: InventoryServiceLimits(), wallClock: ManualWallClock(), monotonicClock: clock)
        return try await LeaseService(store: store, inventory: inventory, limits: LeaseLimits(), wallClock: ManualWallClock(),
                                      monotonicClock: clock)
    }

    static func acquire(_ service: LeaseService, _ key: String, _ holder: String, ttlMs: Int64 = 60_000) async throws
        -> LeaseResult
    {
        try await service.acquire(LeaseAcquire(terms: LeaseTerms(key: key, holder: holder, ttlSeconds: 0, ttlMs: ttlMs)))
    }

    /// The durable log beneath a file store's lease log.
    static func leaseDurableLog(_ store: any StreamStore) throws -> DurableLog {
        try #require(store.leaseLog as? FileCompactingLog).log
    }

    @Test func concurrentRequestsShareOneWriteOfTheLeaseLog() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-lease-log")
        defer { scratch.remove() }
        let store = try FileStore(directory: scratch.path)
        let service = try await Self.service(store)
        let log = try Self.leaseDurableLog(store)
        log.holdWriter()
        let requests = (0..<8).map { n in Task { try await Self.acquire(service, "k\(n)", "h\(n)") } }
        #expect(await eventually { log.queue.pendingCount == 8 })
        let batchesBefore = log.metrics.batches
        log.releaseWriter()
        for request in requests { #expect(try await request.value.ok) }
        #expect(log.metrics.batches == batchesBefore + 1, "eight grants, one pwrite and one fdatasync")
        await store.close()
    }

    /// A write that fails fails every request whose event was in it with a transient storage error, and
    /// the lease log stops: every later request that must log fails too (no grant can become durable
    /// after an earlier one failed). A reopen reads back what is durable: none of the failed grants.
    @Test func aFailedWriteFailsEveryRequestInItsBatchAndStopsTheLogUntilReopened() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-lease-log")
        defer { scratch.remove() }
        let store = try FileStore(directory: scratch.path)
        let service = try await Self.service(store)
        #expect(try await Self.acquire(service, "before", "h").ok)
        let log = try Self.leaseDurableLog(store)
        log.holdWriter()
        let requests = (0..<4).map { n in Task { try await Self.acquire(service, "r\(n)", "h") } }
        #expect(await eventually { log.queue.pendingCount == 4 })
        log.faults.arm(.write, errno: ENOSPC)
        log.releaseWriter()
        for request in requests {
            let error = await #expect(throws: StreamsError.self) { try await request.value }
            #expect(error?.name == "storage_error" && error?.isTransient == true, "\(String(describing: error))")
        }
        let later = await #expect(throws: StreamsError.self) { try await Self.acquire(service, "after", "h") }
        #expect(later?.message.contains("read-only") == true, "\(String(describing: later))")
        await store.close()
        let reopened = try FileStore(directory: scratch.path)
        let again = try await Self.service(reopened)
        #expect(again.list(prefix: "", limit: 10).map(\.key) == ["before"])
        #expect(try await Self.acquire(again, "r0", "other").ok)
        await reopened.close()
    }
}
