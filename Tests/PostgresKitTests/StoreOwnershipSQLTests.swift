import CoordTestKit
import Glibc
import PostgresKit
import StreamCore
import Synchronization
import Testing

/// The ownership statements against a real PostgreSQL: one owner at a time, epochs that only rise, expiry
/// on PostgreSQL's clock, release for an immediate take-over, and the epoch check that refuses every write
/// of a stale owner whole.
@Suite(.enabled(if: TestPostgres.available, Comment(rawValue: TestPostgres.skipNotice)))
struct StoreOwnershipSQLTests {
    struct Fixture {
        let db: TestDatabase
        let pool: PostgresPool

        static func make(_ label: String) async throws -> Fixture {
            let db = try await TestPostgres.database(label)
            let pool = PostgresPool(settings: PostgresSettings(url: db.url), size: 2)
            try await PostgresSchema.prepare(on: pool)
            return Fixture(db: db, pool: pool)
        }

        func takeOver(_ store: WireUUID, by node: String, ttlMs: Int64 = 60_000) async throws -> TakeOverOutcome {
            let sql = StoreOwnershipSQL(node: node, ttlMs: ttlMs)
            return try await pool.transaction { s throws(StreamsError) in try sql.takeOver(store, on: s) }
        }

        func close() async {
            await pool.close()
            await db.drop()
        }
    }

    @Test func oneOwnerAtATimeWithEpochsThatOnlyRise() async throws {
        let f = try await Fixture.make("owners")
        let store = WireUUID.random()
        try await f.pool.run { s throws(StreamsError) in
            try StoreOwnershipSQL(node: "b", ttlMs: 1).heartbeat(advertiseURL: "wss://b.example:7070", on: s)
        }
        guard case .owned(let first) = try await f.takeOver(store, by: "a") else { Issue.record("a new store is free"); return }
        #expect(first.epoch == 1)
        guard case .ownedElsewhere(let owner) = try await f.takeOver(store, by: "b") else { Issue.record("b took a's store"); return }
        #expect(owner.node == "a" && owner.epoch == 1 && owner.advertiseURL == nil)
        #expect(owner.expiresInMs > 50_000 && owner.expiresInMs <= 60_000)
        // The same node taking over again (a restarted process) gets a new epoch: the old one's writes stop.
        guard case .owned(let again) = try await f.takeOver(store, by: "a") else { Issue.record("a lost its own store"); return }
        #expect(again.epoch == 2)
        // Released: another node takes over at once.
        #expect(try await f.pool.run { s throws(StreamsError) in try StoreOwnershipSQL.release(first, on: s) } == false,
                "a stale epoch releases nothing")
        #expect(try await f.pool.run { s throws(StreamsError) in try StoreOwnershipSQL.release(again, on: s) })
        guard case .owned(let taken) = try await f.takeOver(store, by: "b") else { Issue.record("a released store is free"); return }
        #expect(taken.epoch == 3 && taken.node == "b")
        guard case .ownedElsewhere(let nowB) = try await f.takeOver(store, by: "a") else { Issue.record("a took b's store"); return }
        #expect(nowB.advertiseURL == "wss://b.example:7070")
        await f.close()
    }

    @Test func anExpiredOwnershipIsTakenOverAndItsRenewalFindsItLost() async throws {
        let f = try await Fixture.make("expiry")
        let store = WireUUID.random()
        let other = WireUUID.random()
        guard case .owned(let a) = try await f.takeOver(store, by: "a", ttlMs: 300),
              case .owned(let kept) = try await f.takeOver(other, by: "a", ttlMs: 60_000)
        else { Issue.record("new stores are free"); return }
        // Bounded: PostgreSQL's clock passes 300 ms.
        let taken = await eventually(seconds: 10) {
            if case .owned = (try? await f.takeOver(store, by: "b")) ?? .ownedElsewhere(ForeignOwner.none) { return true }
            return false
        }
        #expect(taken)
        let sql = StoreOwnershipSQL(node: "a", ttlMs: 60_000)
        let renewed = try await f.pool.transaction { s throws(StreamsError) in try sql.renew([a, kept], advertiseURL: nil, on: s) }
        #expect(renewed == [other], "only the ownership still held is renewed")
        await f.close()
    }

    /// An owner paused (or lost) in the middle of a write transaction holds its epoch check's share lock,
    /// and a take-over waits for that lock. With an idle-in-transaction timeout on the owner's sessions,
    /// PostgreSQL ends the paused session after it, and the take-over goes through.
    @Test func anOwnerPausedInsideAWriteIsCutOffAndItsStoreTakenOver() async throws {
        let f = try await Fixture.make("paused")
        let store = WireUUID.random()
        guard case .owned(let a) = try await f.takeOver(store, by: "a", ttlMs: 1_000) else { Issue.record("a new store is free"); return }
        let owner = PostgresPool(settings: PostgresSettings(url: f.db.url, idleInTransactionTimeoutMs: 1_000), size: 1)
        // A takes over with a session that waits this long at most for the paused write's locks.
        let other = PostgresPool(settings: PostgresSettings(url: f.db.url, statementTimeoutMs: 10_000), size: 1)
        let resume = PauseEnd()
        // The owner's write: the epoch check, then a pause (a SIGSTOP, a lost machine) inside the transaction.
        let paused = Task {
            try await owner.transaction { s throws(StreamsError) in
                try StoreOwnershipSQL.checkEpoch(a, on: s)
                for _ in 0..<300 where !resume.ended { usleep(50_000) }
            }
        }
        let started = ContinuousClock.now
        let sql = StoreOwnershipSQL(node: "b", ttlMs: 60_000)
        // Bounded: the owner's TTL and its session's idle timeout pass (1 s each, on PostgreSQL's clock).
        let taken = await eventually(seconds: 20) {
            if case .owned = (try? await other.transaction { s throws(StreamsError) in try sql.takeOver(store, on: s) })
                ?? .ownedElsewhere(ForeignOwner.none) { return true }
            return false
        }
        #expect(taken, "b takes the store over")
        #expect(ContinuousClock.now - started < .seconds(9), "without waiting for the paused write to end")
        resume.end()
        await #expect(throws: StreamsError.self, "the paused write commits nothing") { try await paused.value }
        await owner.close()
        await other.close()
        await f.close()
    }

    @Test func aStaleOwnersBatchIsRefusedWholeAndWritesNothing() async throws {
        let f = try await Fixture.make("stale")
        let store = WireUUID.random()
        guard case .owned(let a) = try await f.takeOver(store, by: "a") else { Issue.record("a new store is free"); return }
        let sql = PostgresStoreSQL(store: store)
        let chunk = ChunkAppend(space: "s", segment: "g", records: [Record(sequence: 1, payload: [1])], nowMs: 1)
        _ = try await sql.commit([.append(chunk)], as: a, on: f.pool)[0].get()
        #expect(try await f.pool.run { s throws(StreamsError) in try StoreOwnershipSQL.release(a, on: s) })
        guard case .owned(let b) = try await f.takeOver(store, by: "b") else { Issue.record("a released store is free"); return }
        let next = ChunkAppend(space: "s", segment: "g", records: [Record(sequence: 2, payload: [2])], nowMs: 2)
        let outcomes = await sql.commit([.append(next), .putLease(LeaseRow(key: "k", holder: "h", fence: 1, ttlMs: 1)),
                                         .leaseEvents([[1, 2, 3]])], as: a, on: f.pool)
        for outcome in outcomes {
            #expect(throws: StreamsError.ownershipLost(a)) { try outcome.get() }
        }
        let (head, leases, log) = try await f.pool.run { s throws(StreamsError) in
            (try sql.readHead(space: "s", segment: "g", on: s), try sql.leases(on: s), try sql.leaseLog(on: s))
        }
        #expect(head?.lastSequence == 1)
        #expect(leases.isEmpty && log.events.isEmpty)
        // The new owner writes.
        _ = try await sql.commit([.append(next)], as: b, on: f.pool)[0].get()
        await f.close()
    }
}

extension ForeignOwner {
    /// A placeholder for a failed statement in a poll.
    static let none = ForeignOwner(node: "", epoch: 0, advertiseURL: nil, expiresInMs: 0)
}

/// When a paused transaction is to go on.
private final class PauseEnd: Sendable {
    private let flag = Atomic<Bool>(false)

    func end() { flag.store(true, ordering: .relaxed) }
    var ended: Bool { flag.load(ordering: .relaxed) }
}
