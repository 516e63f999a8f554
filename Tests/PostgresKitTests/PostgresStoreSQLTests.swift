import CoordTestKit
import PostgresKit
import StreamCore
import Testing

/// The store's SQL against a real PostgreSQL: sequence rules, one winner per sequence, reads in both
/// orders, leases with a fence counter that never goes back, fenced produce, batches.
@Suite(.enabled(if: TestPostgres.available, Comment(rawValue: TestPostgres.skipNotice)))
struct PostgresStoreSQLTests {
    struct Fixture {
        let db: TestDatabase
        let pool: PostgresPool
        let sql: PostgresStoreSQL
        /// The writes' owner: every batch checks its epoch.
        let owner: OwnerEpoch

        static func make(_ label: String, size: Int = 2) async throws -> Fixture {
            let db = try await TestPostgres.database(label)
            let pool = PostgresPool(settings: PostgresSettings(url: db.url), size: size)
            try await PostgresSchema.prepare(on: pool)
            let store = WireUUID.random()
            let owner = try await FixtureDatabase.takeOver(store, on: pool)
            return Fixture(db: db, pool: pool, sql: PostgresStoreSQL(store: store), owner: owner)
        }

        func close() async {
            await pool.close()
            await db.drop()
        }

        func one(_ write: StoreWrite) async throws(StreamsError) -> StoreWriteOutcome {
            try await sql.commit([write], as: owner, on: pool)[0].get()
        }

        func append(_ space: String, _ segment: String, _ sequences: [UInt64], now: Int64 = 1_000, fence: Fence? = nil,
                    sequencing: Sequencing = .expected) async throws(StreamsError) -> [Entry] {
            let records = sequences.map { Record(sequence: $0, payload: Array("\(segment)-\($0)".utf8)) }
            guard case .appended(let entries, _) = try await one(
                .append(ChunkAppend(space: space, segment: segment, records: records, sequencing: sequencing, fence: fence, nowMs: now)))
            else { throw .storage("not an append") }
            return entries
        }
    }

    @Test func sequencesMustContinueTheSegment() async throws {
        let f = try await Fixture.make("seq")
        let entries = try await f.append("s", "a", [1, 2, 3])
        #expect(entries.map(\.sequence) == [1, 2, 3])
        #expect(entries.allSatisfy { $0.trx.number == 1 && $0.timestamp == 1_000 })
        await #expect(throws: StreamsError.sequenceGap(expected: 4, got: 5)) { try await f.append("s", "a", [5]) }
        await #expect(throws: StreamsError.sequenceGap(expected: 4, got: 3)) { try await f.append("s", "a", [3]) }
        await #expect(throws: StreamsError.sequenceGap(expected: 5, got: 6)) { try await f.append("s", "a", [4, 6]) }
        let assigned = try await f.append("s", "a", [0, 0], sequencing: .assigned)
        #expect(assigned.map(\.sequence) == [4, 5])
        #expect(assigned[0].trx.number == 2)
        let status = try await f.pool.run { [sql = f.sql] s throws(StreamsError) in try sql.readHead(space: "s", segment: "a", on: s) }
        #expect(status?.lastSequence == 5)
        #expect(status?.entries == 5)
        // A refused chunk for a new segment leaves no trace.
        await #expect(throws: StreamsError.self) { try await f.append("made-up", "x", [2]) }
        let spaces = try await f.pool.run { [sql = f.sql] s throws(StreamsError) in try sql.spaces(on: s) }
        #expect(spaces == ["s"])
        await f.close()
    }

    @Test func exactlyOneWinnerPerSequenceUnderConcurrentProducers() async throws {
        let f = try await Fixture.make("race", size: 4)
        let producers = 6
        let rounds = 15
        for round in 1...rounds {
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for p in 0..<producers {
                    group.addTask {
                        do {
                            _ = try await f.append("race", "seg", [UInt64(round)], now: Int64(round * 10 + p))
                            return true
                        } catch let error as StreamsError where error.name == "sequence_gap" {
                            return false
                        }
                    }
                }
                var wins = 0
                for try await won in group where won { wins += 1 }
                return wins
            }
            #expect(winners == 1, "round \(round)")
        }
        let read = try await f.pool.run { [sql = f.sql] s throws(StreamsError) in
            try sql.readSegment(space: "race", segment: "seg", range: SegmentRange(fromSequence: 1, toSequence: .max,
                                                                                   afterTimestamp: .min, throughTimestamp: .max),
                                max: 1_000, on: s)
        }
        #expect(read.map(\.sequence) == Array(1...UInt64(rounds)))
        #expect(zip(read, read.dropFirst()).allSatisfy { $0.timestamp <= $1.timestamp })
        await f.close()
    }

    @Test func readsInSegmentAndSpaceOrderWithPayloadsAndMetadata() async throws {
        let f = try await Fixture.make("reads")
        let big = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let records = [Record(sequence: 1, payload: big, metadata: ["k": "v \"q\"", "é": "\\"]), Record(sequence: 2, payload: nil),
                       Record(sequence: 3, payload: [])]
        _ = try await f.one(.append(ChunkAppend(space: "sp", segment: "b", records: records, nowMs: 50)))
        _ = try await f.append("sp", "a", [1], now: 50)
        _ = try await f.append("sp", "ab", [1], now: 40)  // the space's clock never goes back: it gets 50
        _ = try await f.append("sp", "a", [2], now: 60)
        _ = try await f.append("spx", "a", [1], now: 10)
        let sql = f.sql
        let (segment, space, page2, statuses, peek, stats) = try await f.pool.run { s throws(StreamsError) in
            let segment = try sql.readSegment(space: "sp", segment: "b", range: SegmentRange(fromSequence: 1, toSequence: 3,
                                                                                             afterTimestamp: .min, throughTimestamp: .max),
                                              max: 10, on: s)
            let space = try sql.readSpace(space: "sp", after: nil, afterTimestamp: .min, throughTimestamp: .max, max: 4, on: s)
            let last = space[3]
            let page2 = try sql.readSpace(space: "sp", after: SpaceCursor(timestamp: last.timestamp, segment: last.segment, sequence: last.sequence),
                                          afterTimestamp: .min, throughTimestamp: .max, max: 10, on: s)
            return (segment, space, page2, try sql.statuses(space: "sp", on: s), try sql.peek(space: "sp", segment: "a", on: s),
                    try sql.stats(on: s))
        }
        let (names, spaceNames) = try await f.pool.run { s throws(StreamsError) in (try sql.segments(space: "sp", on: s), try sql.spaces(on: s)) }
        #expect(names == ["a", "ab", "b"])
        #expect(spaceNames == ["sp", "spx"])
        #expect(segment.map(\.payload) == [big, nil, []])
        #expect(segment[0].metadata == ["k": "v \"q\"", "é": "\\"])
        #expect(segment[1].metadata == nil)
        // (timestamp, segment bytes, sequence): a@50, ab@50, b@50 ×3, then a@60.
        #expect(space.map { "\($0.segment)/\($0.sequence)@\($0.timestamp)" } == ["a/1@50", "ab/1@50", "b/1@50", "b/2@50"])
        #expect(page2.map { "\($0.segment)/\($0.sequence)@\($0.timestamp)" } == ["b/3@50", "a/2@60"])
        #expect(statuses.map(\.segment) == ["a", "ab", "b"])
        #expect(statuses[0] == SegmentStatus(space: "sp", segment: "a", firstSequence: 1, firstTimestamp: 50, lastSequence: 2, lastTimestamp: 60))
        #expect(peek?.sequence == 2)
        #expect(stats == StoreStats(spaces: 2, segments: 4, entries: 7, payloadBytes: big.count + 3 + 4 + 3 + 3))  // "a-1", "ab-1", "a-2", spx "a-1"
        await f.close()
    }

    @Test func fenceCounterNeverGoesBackAndFencedProduceChecksTheLease() async throws {
        let f = try await Fixture.make("fence")
        #expect(try await f.one(.putLease(LeaseRow(key: "p/1", holder: "w1", fence: 1, ttlMs: 5_000))) == .leasePut(highestFence: 1))
        #expect(try await f.one(.putLease(LeaseRow(key: "p/2", holder: "w2", fence: 2, ttlMs: 5_000))) == .leasePut(highestFence: 2))
        // A renewal keeps the fence; the counter stays.
        #expect(try await f.one(.putLease(LeaseRow(key: "p/1", holder: "w1", fence: 1, ttlMs: 9_000))) == .leasePut(highestFence: 2))
        _ = try await f.append("out", "p1", [1], fence: Fence(key: "p/1", token: 1))
        await #expect(throws: StreamsError.self) { try await f.append("out", "p1", [2], fence: Fence(key: "p/1", token: 7)) }
        // A lower fence for a key is refused; after a release a lower grant cannot lower the counter.
        await #expect(throws: StreamsError.self) { try await f.one(.putLease(LeaseRow(key: "p/2", holder: "x", fence: 1, ttlMs: 1))) }
        #expect(try await f.one(.deleteLease(key: "p/2")) == .leaseDeleted(existed: true))
        #expect(try await f.one(.deleteLease(key: "p/2")) == .leaseDeleted(existed: false))
        #expect(try await f.one(.putLease(LeaseRow(key: "p/2", holder: "w3", fence: 1, ttlMs: 1))) == .leasePut(highestFence: 2))
        #expect(try await f.one(.deleteLease(key: "p/1")) == .leaseDeleted(existed: true))
        do {
            _ = try await f.append("out", "p1", [2], fence: Fence(key: "p/1", token: 1))
            Issue.record("a released lease's fence must be refused")
        } catch {
            #expect(error.name == "fence_mismatch")
        }
        let (leases, highest) = try await f.pool.run { [sql = f.sql] s throws(StreamsError) in (try sql.leases(on: s), try sql.highestFence(on: s)) }
        #expect(leases == [LeaseRow(key: "p/2", holder: "w3", fence: 1, ttlMs: 1)])
        #expect(highest == 2)
        await f.close()
    }

    @Test func aBatchCommitsTogetherWithAnOutcomeForEachWrite() async throws {
        let f = try await Fixture.make("batch")
        let writes: [StoreWrite] = [
            .putLease(LeaseRow(key: "k", holder: "h", fence: 3, ttlMs: 1_000)),
            .append(ChunkAppend(space: "s", segment: "a", records: [Record(sequence: 1, payload: [1])], fence: Fence(key: "k", token: 3), nowMs: 5)),
            .append(ChunkAppend(space: "s", segment: "a", records: [Record(sequence: 3, payload: [3])], nowMs: 5)),  // gap: refused alone
            .append(ChunkAppend(space: "s", segment: "a", records: [Record(sequence: 2, payload: [2])], nowMs: 5)),  // sees the first
            .append(ChunkAppend(space: "s", segment: "b", records: [Record(sequence: 1, payload: [9])], fence: Fence(key: "k", token: 2), nowMs: 5)),
            .deleteLease(key: "nothing"),
        ]
        let outcomes = await f.sql.commit(writes, as: f.owner, on: f.pool)
        #expect(outcomes.count == 6)
        #expect(try outcomes[0].get() == .leasePut(highestFence: 3))
        guard case .appended(_, let status1)? = try? outcomes[1].get(), case .appended(_, let status3)? = try? outcomes[3].get() else {
            Issue.record("appends failed: \(outcomes)")
            await f.close()
            return
        }
        #expect(status1.lastSequence == 1)
        #expect(status3.lastSequence == 2)
        #expect(throws: StreamsError.sequenceGap(expected: 2, got: 3)) { try outcomes[2].get() }
        #expect(throws: StreamsError.self) { try outcomes[4].get() }
        #expect(try outcomes[5].get() == .leaseDeleted(existed: false))
        let heads = try await f.pool.run { [sql = f.sql] s throws(StreamsError) in try sql.statuses(space: "s", on: s) }
        #expect(heads.map(\.segment) == ["a"])
        await f.close()
    }
}
