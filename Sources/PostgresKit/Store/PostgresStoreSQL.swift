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
    public func append(_ chunk: ChunkAppend, on s: PostgresSession) throws(StreamsError) -> StoreWriteOutcome {
        guard !chunk.records.isEmpty else { throw .trxEmpty }
        if let fence = chunk.fence { try checkFence(fence, on: s) }
        for _ in 0..<Self.maxHeadAttempts {
            // Space before segment, always: the order every writer locks them in.
            try s.query("SELECT 1 FROM coordd_spaces WHERE store_id = $1 AND space = $2 FOR UPDATE", [.uuid(store), .text(chunk.space)])
            let head = try readHead(space: chunk.space, segment: chunk.segment, lock: true, on: s)
            let base = head?.lastSequence ?? 0
            if chunk.sequencing == .expected {
                for (offset, record) in chunk.records.enumerated() where record.sequence != base + UInt64(offset) + 1 {
                    throw .sequenceGap(expected: base + UInt64(offset) + 1, got: record.sequence)
                }
            }
            let count = UInt64(chunk.records.count)
            guard let last = Int64(exactly: base + count) else { throw .limitExceeded("sequence \(base + count) does not fit PostgreSQL's bigint") }
            // The space's timestamp: never below its last (the row stays locked until the commit, so the
            // space's chunks commit in timestamp order).
            let timestamp = try s.query("""
                INSERT INTO coordd_spaces (store_id, space, last_timestamp) VALUES ($1, $2, $3)
                ON CONFLICT (store_id, space) DO UPDATE SET last_timestamp = GREATEST(coordd_spaces.last_timestamp, EXCLUDED.last_timestamp)
                RETURNING last_timestamp
                """, [.uuid(store), .text(chunk.space), .int64(chunk.nowMs)]).int64(0, 0) ?? chunk.nowMs
            let trx = TRX(id: .random(), number: (head?.lastTrxNumber ?? 0) + 1)
            let payloadBytes = chunk.records.reduce(0) { $0 + ($1.payload?.count ?? 0) }
            let moved = try s.query("""
                INSERT INTO coordd_segments AS h (store_id, space, segment, last_sequence, last_trx_number, first_timestamp,
                                                  last_timestamp, entries, payload_bytes)
                VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)
                ON CONFLICT (store_id, space, segment) DO UPDATE
                  SET last_sequence = EXCLUDED.last_sequence, last_trx_number = EXCLUDED.last_trx_number,
                      last_timestamp = EXCLUDED.last_timestamp, entries = h.entries + EXCLUDED.entries,
                      payload_bytes = h.payload_bytes + EXCLUDED.payload_bytes
                  WHERE h.last_sequence = $9
                RETURNING first_timestamp
                """, [.uuid(store), .text(chunk.space), .text(chunk.segment), .int64(last), .int64(Int64(trx.number)),
                      .int64(timestamp), .int64(Int64(count)), .int64(Int64(payloadBytes)), .int64(Int64(base))])
            guard moved.count == 1, let firstTimestamp = try moved.int64(0, 0) else { continue }  // the head moved: read it again
            var entries: [Entry] = []
            entries.reserveCapacity(chunk.records.count)
            for (offset, record) in chunk.records.enumerated() {
                entries.append(Entry(sequence: base + UInt64(offset) + 1, timestamp: timestamp, trx: trx, payload: record.payload,
                                     metadata: record.metadata, space: chunk.space, segment: chunk.segment))
            }
            try insert(entries, on: s)
            let status = SegmentStatus(space: chunk.space, segment: chunk.segment, firstSequence: 1, firstTimestamp: firstTimestamp,
                                       lastSequence: base + count, lastTimestamp: timestamp)
            return .appended(entries: entries, status: status)
        }
        throw .storage("postgres: the head of \(chunk.space)/\(chunk.segment) kept moving under concurrent writers")
    }

    /// Inserts a chunk's entries with one statement: the payloads travel as one `bytea` and are cut by
    /// offset and length on the server, so a chunk of 10,000 records is one round trip.
    private func insert(_ entries: [Entry], on s: PostgresSession) throws(StreamsError) {
        guard let first = entries.first else { return }
        var payloads: [UInt8] = []
        var offsets: [Int64?] = []
        var lengths: [Int64?] = []
        var metadata: [String?] = []
        for entry in entries {
            if let payload = entry.payload {
                offsets.append(Int64(payloads.count + 1))  // substring() counts from 1
                lengths.append(Int64(payload.count))
                payloads.append(contentsOf: payload)
            } else {
                offsets.append(nil)
                lengths.append(nil)
            }
            metadata.append(entry.metadata.flatMap { $0.isEmpty ? nil : PostgresMetadata.encode($0) })
        }
        let inserted = try s.query("""
            INSERT INTO coordd_entries (store_id, space, segment, sequence, ts, trx_id, trx_number, payload, metadata)
            SELECT $1, $2, $3, $4 + r.i - 1, $5, $6, $7,
                   CASE WHEN r.off IS NULL THEN NULL ELSE substring($8::bytea FROM r.off::int FOR r.len::int) END, r.meta
              FROM unnest($9::bigint[], $10::bigint[], $11::text[]) WITH ORDINALITY AS r(off, len, meta, i)
            ON CONFLICT DO NOTHING
            """, [.uuid(store), .text(first.space), .text(first.segment), .int64(Int64(first.sequence)), .int64(first.timestamp),
                  first.trx.id.map { .uuid($0) } ?? .null, .int64(Int64(first.trx.number)), .bytes(payloads),
                  .text(PostgresArray.integers(offsets)), .text(PostgresArray.integers(lengths)), .text(PostgresArray.text(metadata))])
        guard inserted.affected == entries.count else {
            // The head said these sequences were free; entries already there mean the tables disagree.
            throw .storage("postgres: entries \(first.sequence)… of \(first.space)/\(first.segment) already exist past the segment's head")
        }
    }

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
