import StreamCore

/// The SQL of one store (one store UUID) over PostgreSQL: plain functions on a session, so that callers
/// compose them into transactions, plus ``commit(_:on:)`` for a batch of writes in one transaction.
///
/// One writer per sequence: a chunk reads its segment's head under `FOR UPDATE` and moves it with a
/// compare-and-set (`ON CONFLICT … DO UPDATE … WHERE last_sequence = expected`), so of two producers
/// racing for the same sequence exactly one commits and the other is refused with `sequence_gap` (or,
/// for assigned sequences, takes the next ones); the entries' primary key backs this up.
public struct PostgresStoreSQL: Sendable {
    /// The store.
    public let store: WireUUID

    /// The SQL of `store`.
    public init(store: WireUUID) {
        self.store = store
    }

    // MARK: Batches

    /// Commits `writes` in one transaction (group commit), in order, each with its own outcome, as
    /// `owner`: the transaction first checks that `owner`'s epoch still holds the store
    /// (``StoreOwnershipSQL/checkEpoch(_:on:)``), and fails whole when it does not.
    ///
    /// A batch that loses a deadlock or serialization race is run again, up to ``maxTransactionAttempts``
    /// times. A write that is refused (a sequence gap, a fence that does not match, a fence that would go back)
    /// writes nothing and gets its error; the others still commit. When the transaction itself fails
    /// (the connection, a serialization failure, the commit), every write gets that error and none took
    /// effect — or, when the commit's outcome is unknown, the error says so.
    ///
    /// `beforeCommit` runs last inside the transaction (tests make it fail, to fail a batch the way the
    /// server does).
    public func commit(_ writes: [StoreWrite], as owner: OwnerEpoch, on pool: PostgresPool,
                       beforeCommit: (@Sendable (PostgresSession) throws(StreamsError) -> Void)? = nil) async
        -> [Result<StoreWriteOutcome, StreamsError>]
    {
        guard !writes.isEmpty else { return [] }
        do {
            return try await pool.run { s throws(StreamsError) in
                try s.transaction(attempts: Self.maxTransactionAttempts) { s throws(StreamsError) in
                    try StoreOwnershipSQL.checkEpoch(owner, on: s)
                    let outcomes = try apply(writes, on: s)
                    try beforeCommit?(s)
                    return outcomes
                }
            }
        } catch {
            return writes.map { _ in .failure(error) }
        }
    }

    /// The writes of a batch inside a transaction the caller opened.
    public func apply(_ writes: [StoreWrite], on s: PostgresSession) throws(StreamsError) -> [Result<StoreWriteOutcome, StreamsError>] {
        try lockHeads(of: writes, on: s)
        var outcomes: [Result<StoreWriteOutcome, StreamsError>] = []
        outcomes.reserveCapacity(writes.count)
        var index = 0
        while index < writes.count {
            if case .leaseEvents = writes[index] {
                // Lease events in a row go in as one statement: they cannot be refused, only fail together.
                var events: [[UInt8]] = []
                var run = index
                while run < writes.count, case .leaseEvents(let more) = writes[run] {
                    events += more
                    run += 1
                }
                try appendLeaseLog(events, checkpoint: false, on: s)
                outcomes += Array(repeating: .success(.leaseLogged), count: run - index)
                index = run
                continue
            }
            do throws(StreamsError) {
                switch writes[index] {
                case .append(let chunk): outcomes.append(.success(try append(chunk, on: s)))
                case .putLease(let row): outcomes.append(.success(.leasePut(highestFence: try putLease(row, on: s))))
                case .deleteLease(let key): outcomes.append(.success(.leaseDeleted(existed: try deleteLease(key, on: s))))
                case .leaseEvents(let events):
                    try appendLeaseLog(events, checkpoint: false, on: s)
                    outcomes.append(.success(.leaseLogged))
                case .leaseCheckpoint(let records):
                    try appendLeaseLog(records, checkpoint: true, on: s)
                    outcomes.append(.success(.leaseLogged))
                }
            } catch where error.name != "storage_error" {
                // A refusal: this write changed nothing, the batch goes on.
                outcomes.append(.failure(error))
            }
            index += 1
        }
        return outcomes
    }

    /// Locks the existing rows of every space and segment the batch appends to, spaces first and each in
    /// sorted order — the order ``append(_:on:)`` takes them in — so that batches touching the same
    /// segments wait for each other instead of deadlocking.
    private func lockHeads(of writes: [StoreWrite], on s: PostgresSession) throws(StreamsError) {
        var pairs: Set<[String]> = []
        for case .append(let chunk) in writes { pairs.insert([chunk.space, chunk.segment]) }
        guard !pairs.isEmpty else { return }
        let sorted = pairs.sorted { $0.lexicographicallyPrecedes($1, by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) }
        let spaces = Array(Set(sorted.map { $0[0] })).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        try s.query("SELECT 1 FROM coordd_spaces WHERE store_id = $1 AND space = ANY($2::text[]) ORDER BY space FOR UPDATE",
                    [.uuid(store), .text(PostgresArray.text(spaces))])
        try s.query("""
            SELECT 1 FROM coordd_segments WHERE store_id = $1 AND (space, segment) IN
              (SELECT * FROM unnest($2::text[], $3::text[])) ORDER BY space, segment FOR UPDATE
            """, [.uuid(store), .text(PostgresArray.text(sorted.map { $0[0] })), .text(PostgresArray.text(sorted.map { $0[1] }))])
    }

    /// Runs of a batch that PostgreSQL rolled back for a deadlock or serialization failure before its
    /// writes fail with that transient error.
    static let maxTransactionAttempts = 3

    // MARK: Appending

    /// Attempts at moving a segment's head before giving up: a head that moved between the read and the
    /// compare-and-set (a concurrent first chunk of a new segment) is read again.
    static let maxHeadAttempts = 4

    /// Appends one chunk inside the caller's transaction; throws a refusal before writing anything.
    ///
    /// One statement (one round trip) reads the segment's head, checks the chunk's sequences against it,
    /// raises the space's timestamp, moves the head and inserts the entries: a chunk costs the commit of its
    /// transaction and this statement, whatever else the batch holds. The rows it locks are the ones
    /// ``lockHeads(of:on:)`` locked already, in the order every writer takes them.
    public func append(_ chunk: ChunkAppend, on s: PostgresSession) throws(StreamsError) -> StoreWriteOutcome {
        guard let first = chunk.records.first else { throw .trxEmpty }
        if let fence = chunk.fence { try checkFence(fence, on: s) }
        let count = Int64(chunk.records.count)
        // The base the records name (expected sequences): the head must be exactly there. Records that are
        // not consecutive among themselves can match no head; the head read back then says where they break.
        var expectedBase: Int64?
        if chunk.sequencing == .expected {
            let consecutive = chunk.records.indices.allSatisfy { chunk.records[$0].sequence == first.sequence &+ UInt64($0) }
            expectedBase = consecutive ? Int64(exactly: first.sequence &- 1) ?? -1 : -1
        }
        let trxID = WireUUID.random()
        let payload = EntryPayloads(chunk.records)
        for _ in 0..<Self.maxHeadAttempts {
            let rows = try s.query(Self.appendStatement, [
                .uuid(store), .text(chunk.space), .text(chunk.segment), .int64(chunk.nowMs), .int64(count),
                .int64(payload.bytes), .uuid(trxID), expectedBase.map { .int64($0) } ?? .null, .bytes(payload.payloads),
                .text(PostgresArray.integers(payload.offsets)), .text(PostgresArray.integers(payload.lengths)),
                .text(PostgresArray.text(payload.metadata)),
            ])
            let base = UInt64(try rows.int64(0, 0) ?? 0)
            guard try rows.int64(0, 1) == 1 else {
                // Refused: nothing was written. Say where the sequences break, or that they do not fit.
                if chunk.sequencing == .expected {
                    for (offset, record) in chunk.records.enumerated() where record.sequence != base + UInt64(offset) + 1 {
                        throw .sequenceGap(expected: base + UInt64(offset) + 1, got: record.sequence)
                    }
                }
                throw .limitExceeded("sequence \(base) + \(count) does not fit PostgreSQL's bigint")
            }
            guard let last = try rows.int64(0, 2), let trxNumber = try rows.int64(0, 3),
                  let firstTimestamp = try rows.int64(0, 4), let timestamp = try rows.int64(0, 5) else {
                continue  // the head moved between its read and the compare-and-set: read it again
            }
            let trx = TRX(id: trxID, number: UInt64(trxNumber))
            var entries: [Entry] = []
            entries.reserveCapacity(chunk.records.count)
            for (offset, record) in chunk.records.enumerated() {
                entries.append(Entry(sequence: base + UInt64(offset) + 1, timestamp: timestamp, trx: trx, payload: record.payload,
                                     metadata: record.metadata, space: chunk.space, segment: chunk.segment))
            }
            let status = SegmentStatus(space: chunk.space, segment: chunk.segment, firstSequence: 1, firstTimestamp: firstTimestamp,
                                       lastSequence: UInt64(last), lastTimestamp: timestamp)
            return .appended(entries: entries, status: status)
        }
        throw .storage("postgres: the head of \(chunk.space)/\(chunk.segment) kept moving under concurrent writers")
    }

    /// The chunk append: `head` reads (and locks) the segment's head; `ok` holds a row only when the
    /// chunk's sequences follow it (any, for assigned sequences) and still fit a bigint, so a refused
    /// chunk writes nothing; `sp` raises the space's timestamp (never below its last, and the row stays
    /// locked until the commit, so a space's chunks commit in timestamp order); `seg` moves the head with a
    /// compare-and-set against the base read; `ins` inserts the entries, their payloads cut from one
    /// `bytea` by offset and length. The answer: the base, whether the chunk was accepted, and the moved
    /// head (nulls when the compare-and-set lost).
    ///
    /// No ON CONFLICT on the entries: the head said these sequences were free, so an entry already there
    /// means the tables disagree, and its unique violation fails the transaction, which stops the store's
    /// writes. (ON CONFLICT DO NOTHING would also cost a speculative insertion per row.)
    static let appendStatement = """
        WITH head AS (
          SELECT last_sequence, last_trx_number FROM coordd_segments
           WHERE store_id = $1 AND space = $2 AND segment = $3 FOR UPDATE
        ), base AS (
          SELECT COALESCE((SELECT last_sequence FROM head), 0) AS seq, COALESCE((SELECT last_trx_number FROM head), 0) AS trx
        ), ok AS (
          SELECT seq, trx FROM base WHERE ($8::bigint IS NULL OR seq = $8::bigint) AND seq <= 9223372036854775807 - $5::bigint
        ), sp AS (
          INSERT INTO coordd_spaces (store_id, space, last_timestamp) SELECT $1, $2, $4 FROM ok
          ON CONFLICT (store_id, space) DO UPDATE SET last_timestamp = GREATEST(coordd_spaces.last_timestamp, EXCLUDED.last_timestamp)
          RETURNING last_timestamp
        ), seg AS (
          INSERT INTO coordd_segments AS h (store_id, space, segment, last_sequence, last_trx_number, first_timestamp,
                                            last_timestamp, entries, payload_bytes)
          SELECT $1, $2, $3, ok.seq + $5::bigint, ok.trx + 1, sp.last_timestamp, sp.last_timestamp, $5::bigint, $6::bigint FROM ok, sp
          ON CONFLICT (store_id, space, segment) DO UPDATE
            SET last_sequence = EXCLUDED.last_sequence, last_trx_number = EXCLUDED.last_trx_number,
                last_timestamp = EXCLUDED.last_timestamp, entries = h.entries + EXCLUDED.entries,
                payload_bytes = h.payload_bytes + EXCLUDED.payload_bytes
            WHERE h.last_sequence = EXCLUDED.last_sequence - $5::bigint
          RETURNING last_sequence, last_trx_number, first_timestamp, last_timestamp
        ), ins AS (
          INSERT INTO coordd_entries (store_id, space, segment, sequence, ts, trx_id, trx_number, payload, metadata)
          SELECT $1, $2, $3, seg.last_sequence - $5::bigint + r.i, seg.last_timestamp, $7, seg.last_trx_number,
                 CASE WHEN r.off IS NULL THEN NULL ELSE substring($9::bytea FROM r.off::int FOR r.len::int) END, r.meta
            FROM seg, unnest($10::bigint[], $11::bigint[], $12::text[]) WITH ORDINALITY AS r(off, len, meta, i)
        )
        SELECT base.seq, (SELECT count(*) FROM ok), seg.last_sequence, seg.last_trx_number, seg.first_timestamp, seg.last_timestamp
          FROM base LEFT JOIN seg ON true
        """

    /// The fence check of a fenced produce: the lease row must hold exactly this fence. The share lock
    /// keeps a concurrent grant or release of the key waiting until this transaction ends.
    private func checkFence(_ fence: Fence, on s: PostgresSession) throws(StreamsError) {
        let rows = try s.query("SELECT fence FROM coordd_leases WHERE store_id = $1 AND key = $2 FOR SHARE",
                               [.uuid(store), .text(fence.key)])
        guard rows.count == 1, let current = try rows.int64(0, 0) else {
            throw .fenceMismatch("fence for lease \"\(InputExcerpt.excerpt(fence.key))\" refused: the lease is not held")
        }
        guard UInt64(current) == fence.token else {
            throw .fenceMismatch("fence for lease \"\(InputExcerpt.excerpt(fence.key))\" refused: token \(fence.token) presented, "
                                 + "the lease's is \(current)")
        }
    }

    // MARK: Leases

    /// Writes a lease row and raises the store's fence counter to its fence; returns the counter. Refuses
    /// (permanent `fence_mismatch`) a row whose fence is below the key's current one.
    public func putLease(_ row: LeaseRow, on s: PostgresSession) throws(StreamsError) -> Int64 {
        let written = try s.query("""
            INSERT INTO coordd_leases AS l (store_id, key, holder, fence, ttl_ms, worker_id) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (store_id, key) DO UPDATE
              SET holder = EXCLUDED.holder, fence = EXCLUDED.fence, ttl_ms = EXCLUDED.ttl_ms, worker_id = EXCLUDED.worker_id
              WHERE l.fence <= EXCLUDED.fence
            """, [.uuid(store), .text(row.key), .text(row.holder), .int64(row.fence), .int64(row.ttlMs),
                  row.workerID.map { .uuid($0) } ?? .null])
        guard written.affected == 1 else {
            throw .fenceMismatch("lease \"\(InputExcerpt.excerpt(row.key))\" holds a fence above \(row.fence); fences never go back")
        }
        return try raiseFence(to: row.fence, on: s)
    }

    /// Raises the store's fence counter to at least `fence` and returns it; it never decreases.
    public func raiseFence(to fence: Int64, on s: PostgresSession) throws(StreamsError) -> Int64 {
        try s.query("""
            INSERT INTO coordd_fences AS f (store_id, highest_fence) VALUES ($1, $2)
            ON CONFLICT (store_id) DO UPDATE SET highest_fence = GREATEST(f.highest_fence, EXCLUDED.highest_fence)
            RETURNING highest_fence
            """, [.uuid(store), .int64(fence)]).int64(0, 0) ?? fence
    }

    /// Deletes a lease row; true when there was one.
    public func deleteLease(_ key: String, on s: PostgresSession) throws(StreamsError) -> Bool {
        try s.query("DELETE FROM coordd_leases WHERE store_id = $1 AND key = $2", [.uuid(store), .text(key)]).affected == 1
    }
}

/// A chunk's payloads and metadata as the append statement takes them: every payload in one `bytea`, cut
/// on the server by offset (from 1, as `substring` counts) and length, so a chunk of 10,000 records is
/// one parameter rather than 10,000.
struct EntryPayloads {
    var payloads: [UInt8] = []
    var offsets: [Int64?] = []
    var lengths: [Int64?] = []
    var metadata: [String?] = []

    /// Bytes of payload in all.
    var bytes: Int64 { Int64(payloads.count) }

    init(_ records: [Record]) {
        offsets.reserveCapacity(records.count)
        lengths.reserveCapacity(records.count)
        metadata.reserveCapacity(records.count)
        for record in records {
            if let payload = record.payload {
                offsets.append(Int64(payloads.count + 1))
                lengths.append(Int64(payload.count))
                payloads.append(contentsOf: payload)
            } else {
                offsets.append(nil)
                lengths.append(nil)
            }
            metadata.append(record.metadata.flatMap { $0.isEmpty ? nil : PostgresMetadata.encode($0) })
        }
    }
}
