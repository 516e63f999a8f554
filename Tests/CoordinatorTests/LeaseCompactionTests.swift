@testable import Coordinator
import CoordTestKit
import Foundation
import LeaseEngine
@testable import StreamCore
import Synchronization
import Testing

/// The lease log stays as small as the live leases: checkpoints replace the history, a crash at any step
/// of one changes nothing, and stores written before the lease log keep their leases and fences.
@Suite struct LeaseCompactionTests {
    /// Bytes of the lease log files in a store directory.
    static func leaseLogBytes(_ storeDirectory: String) throws -> (bytes: Int, files: Int) {
        let directory = storeDirectory + "/" + FileStore.leaseLogDirectory
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".log") }
        let bytes = try names.reduce(0) { total, name in
            total + (try FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? Int ?? 0)
        }
        return (bytes, names.count)
    }

    /// The engine a store's lease log recovers (read straight from its files).
    static func recoveredEngine(_ storeDirectory: String, logLimits: DurableLogLimits) async throws -> LeaseEngine {
        let log = try await onBlockingThread {
            try FileCompactingLog.open(directory: storeDirectory + "/" + FileStore.leaseLogDirectory, logLimits: logLimits)
        }
        let contents = try log.recover()
        await log.close()
        return try LeaseEngine.recover(
            checkpoint: contents.checkpoint, events: try contents.events.map { try LeaseEvent(decoding: $0) }, now: 0)
    }

    @Test func theLeaseLogStaysBoundedByTheLiveLeasesAfterManyPairs() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-lease-churn")
        defer { scratch.remove() }
        let limits = CompactingLogLimits(minimumBytes: 4 << 10, growthFactor: 4)
        let store = try FileStore(directory: scratch.path, leaseLogLimits: limits)
        let service = try await LeaseLogTests.service(store)
        var live: [String: UInt64] = [:]
        for n in 0..<10 { live["live-\(n)"] = try await LeaseLogTests.acquire(service, "live-\(n)", "keeper").fence }
        let pairs = 600
        let highest = try await withThrowingTaskGroup(of: UInt64.self) { group in
            for worker in 0..<20 {
                group.addTask {
                    var highest: UInt64 = 0
                    for n in 0..<(pairs / 20) {
                        let key = "churn-\(worker)-\(n)"
                        let granted = try await LeaseLogTests.acquire(service, key, "w\(worker)")
                        highest = max(highest, try #require(granted.fence))
                        #expect(try await service.release(LeaseRelease(key: key, holder: "w\(worker)")).ok)
                    }
                    return highest
                }
            }
            return try await group.reduce(0) { max($0, $1) }
        }
        let stats = store.leaseLog.stats
        await store.close()

        let (bytes, files) = try Self.leaseLogBytes(scratch.path)
        // 1,200 events of about 55 bytes (66 KB) were written; what stays is one checkpoint of 10 leases and
        // at most the events of one checkpoint interval.
        #expect(bytes < 2 * limits.minimumBytes + 4_096, "\(bytes) bytes in \(files) files after \(pairs) pairs; \(stats)")
        #expect(files <= 2)
        #expect(stats.checkpoints >= 10, "\(stats)")

        let reopened = try FileStore(directory: scratch.path, leaseLogLimits: limits)
        let again = try await LeaseLogTests.service(reopened)
        let listed = again.list(prefix: "", limit: 100)
        #expect(Dictionary(uniqueKeysWithValues: listed.map { ($0.key, $0.fence) }) == live)
        let fresh = try #require(try await LeaseLogTests.acquire(again, "fresh", "h").fence)
        #expect(fresh == highest + 1, "fences continue after the highest issued (\(highest)), not from the live leases")
        await reopened.close()
    }

    /// A seeded run of acquires, longer renewals and releases on a file store whose lease log checkpoints
    /// every couple of dozen events, in groups larger than a write batch. The store directory is copied at
    /// every step the lease log's writer takes (every batch, each new file, base marker and removal), as a
    /// crash there would leave it. Every copy recovers the leases and the token counter of the history
    /// acknowledged so far (with or without the one operation in flight); on every fourth copy, and every
    /// copy taken inside a checkpoint, the store and its lease service open and a new grant takes the next
    /// token.
    @Test(arguments: [0x1EA5_0001, 0x1EA5_0002] as [UInt64])
    func aCrashAtAnyStepKeepsLeasesAndFences(seed: UInt64) async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-lease-crash")
        defer { scratch.remove() }
        let storeDirectory = scratch.path + "/store"
        let logLimits = DurableLogLimits(maxRecordPayloadBytes: 200, maxBatchBytes: 256)
        let store = try FileStore(directory: storeDirectory, logLimits: logLimits,
                                  leaseLogLimits: CompactingLogLimits(minimumBytes: 600, growthFactor: 2))
        let clock = ManualMonotonicClock(startMs: 1_000)
        let service = try await LeaseLogTests.service(store, clock: clock)

        let opsStarted = Mutex(0)
        let snapshots = Mutex<[(path: String, op: Int, step: LogFaultInjector.Step)]>([])
        try LeaseLogTests.leaseDurableLog(store).faults.observe { step in
            let op = opsStarted.withLock { $0 }
            let path = scratch.path + "/crash-\(snapshots.withLock { $0.count })"
            try? FileManager.default.copyItem(atPath: storeDirectory, toPath: path)
            snapshots.withLock { $0.append((path, op, step)) }
        }

        var random = SplitMix64(seed: seed)
        var model = LeaseEngine()
        var history: [LeaseEvent] = []
        var historyAfterOp = [0]
        for op in 1...400 {
            clock.advance(byMs: Int64.random(in: 0...5, using: &random))
            let now = clock.nowMs()
            let key = "key-\(Int.random(in: 0..<12, using: &random))"
            let holder = "holder-\(Int.random(in: 0..<3, using: &random))"
            let ttlMs = Int64.random(in: 10_000...90_000, using: &random)
            opsStarted.withLock { $0 = op }
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<5:
                if case .appendToLog(let event, _) = model.acquire(key: key, holder: holder, ttl: .milliseconds(ttlMs), now: now) {
                    history.append(event)
                }
                historyAfterOp.append(history.count)
                _ = try await LeaseLogTests.acquire(service, key, holder, ttlMs: ttlMs)
            case 5..<7:
                if case .appendToLog(let event, _) = model.renew(key: key, holder: holder, ttl: .milliseconds(ttlMs), now: now) {
                    history.append(event)
                }
                historyAfterOp.append(history.count)
                let terms = LeaseTerms(key: key, holder: holder, ttlSeconds: 0, ttlMs: ttlMs)
                _ = try await service.renew(LeaseRenew(terms: terms))
            default:
                if case .appendToLog(let event) = model.release(key: key, holder: holder, now: now) { history.append(event) }
                historyAfterOp.append(history.count)
                _ = try await service.release(LeaseRelease(key: key, holder: holder))
            }
        }
        let checkpoints = store.leaseLog.stats.checkpoints
        try LeaseLogTests.leaseDurableLog(store).faults.observe(nil)
        await store.close()

        let copies = snapshots.withLock { $0 }
        #expect(checkpoints >= 5, "seed \(seed): \(checkpoints) checkpoints")
        #expect(copies.count > 100, "seed \(seed): \(copies.count) crash points")
        print("lease log crash points: seed \(seed), \(history.count) events, \(copies.count) copies, \(checkpoints) checkpoints")
        for (index, copy) in copies.enumerated() {
            let context = "seed \(seed), crash point \(copy.path) during operation \(copy.op)"
            let recovered = try await Self.recoveredEngine(copy.path, logLimits: logLimits)
            let candidates = [copy.op - 1, copy.op].filter { $0 >= 0 }.map { op in
                LeaseEngine.recover(from: history.prefix(historyAfterOp[op]), now: 0)
            }
            let matches = candidates.contains { expected in
                expected.list(now: 0) == recovered.list(now: 0) && expected.highestToken == recovered.highestToken
            }
            #expect(matches, "\(context): recovered \(recovered.list(now: 0)) / \(recovered.highestToken)")

            guard index % 4 == 0 || copy.step != .batchDurable else { continue }
            let reopened = try await onBlockingThread { try FileStore(directory: copy.path, logLimits: logLimits) }
            let again = try await LeaseLogTests.service(reopened)
            let fence = try await LeaseLogTests.acquire(again, "after-the-crash", "h").fence
            #expect(fence == recovered.highestToken + 1, "\(context)")
            await reopened.close()
        }
    }

    /// A store written before the lease log (lease events in the system space of its main log): its leases
    /// and fences are carried into the lease log on the first open, and later opens no longer index the old
    /// events.
    @Test func aStoreWrittenTheOldWayKeepsItsLeasesAndFences() async throws {
        let scratch = try TemporaryDirectory(prefix: "coordd-lease-old")
        defer { scratch.remove() }
        let old = try FileStore(directory: scratch.path)
        let events: [LeaseEvent] = [
            .granted(key: "a", holder: "h1", token: 1, ttlMs: 30_000, boundTo: nil),
            .granted(key: "b", holder: "h2", token: 2, ttlMs: 30_000, boundTo: 5),
            .released(key: "a", holder: "h1", token: 1),
            .granted(key: "c", holder: "h3", token: 5, ttlMs: 60_000, boundTo: nil),
            .granted(key: "a", holder: "h4", token: 6, ttlMs: 45_000, boundTo: nil),
            .expired(key: "c", token: 5),
        ]
        _ = try await old.append(AppendRequest(
            space: SystemSpace.leases, segment: LeaseService.oldEventSegment,
            records: events.map { Record(sequence: 0, payload: $0.encoded()) }, sequencing: .assigned))
        _ = try await old.append(AppendRequest(space: "orders", segment: "eu", records: [Record(sequence: 1, payload: [1])]))
        await old.close()

        for open in 1...3 {
            let store = try FileStore(directory: scratch.path)
            let indexed = store.status(space: SystemSpace.leases, segment: LeaseService.oldEventSegment) != nil
            #expect(indexed == (open == 1), "open \(open): the old events are indexed only until they are carried over")
            #expect(store.status(space: "orders", segment: "eu")?.lastSequence == 1)
            let service = try await LeaseLogTests.service(store)
            let listed = service.list(prefix: "", limit: 10).map { "\($0.key)=\($0.holder)/\($0.fence)" }
            #expect(listed == ["a=h4/6", "b=h2/2"] + (1..<open).map { "new-\($0)=n/\(6 + $0)" }, "open \(open)")
            let fresh = try await LeaseLogTests.acquire(service, "new-\(open)", "n")
            #expect(fresh.fence == UInt64(6 + open), "open \(open): fences continue from the old history")
            await store.close()
        }
    }

    @Test func aSecondServiceOnTheSameMemoryStoreSeesTheLeases() async throws {
        let store = MemoryStore(leaseLogLimits: CompactingLogLimits(minimumBytes: 200))
        let first = try await LeaseLogTests.service(store)
        for n in 0..<20 {
            _ = try await LeaseLogTests.acquire(first, "k\(n)", "h")
            if n % 2 == 0 { _ = try await first.release(LeaseRelease(key: "k\(n)", holder: "h")) }
        }
        #expect(store.leaseLog.stats.checkpoints >= 1, "the memory log checkpoints too, so it stays small")
        let second = try await LeaseLogTests.service(store)
        #expect(second.list(prefix: "", limit: 100).map(\.key) == (0..<20).filter { $0 % 2 == 1 }.map { "k\($0)" }.sorted())
        #expect(try await LeaseLogTests.acquire(second, "next", "h").fence == 21)
    }
}
