import StreamCore

/// A segment's head: what its next chunk continues.
public struct SegmentHead: Sendable, Equatable {
    /// The last sequence written.
    public var lastSequence: UInt64
    /// The last chunk's TRX number.
    public var lastTrxNumber: UInt64
    /// The first entry's timestamp.
    public var firstTimestamp: Int64
    /// The last entry's timestamp.
    public var lastTimestamp: Int64
    /// Entries in the segment.
    public var entries: Int64
    /// Sum of their payload sizes.
    public var payloadBytes: Int64

    /// The segment's status (streamkit's SegmentStatus; first sequence is always 1: nothing is removed).
    public func status(space: String, segment: String) -> SegmentStatus {
        SegmentStatus(space: space, segment: segment, firstSequence: 1, firstTimestamp: firstTimestamp, lastSequence: lastSequence,
                      lastTimestamp: lastTimestamp)
    }
}

/// Where a space read stopped: the last entry returned, in the space's order.
public struct SpaceCursor: Sendable, Equatable {
    /// Its timestamp.
    public var timestamp: Int64
    /// Its segment.
    public var segment: String
    /// Its sequence.
    public var sequence: UInt64

    /// Creates a cursor.
    public init(timestamp: Int64, segment: String, sequence: UInt64) {
        self.timestamp = timestamp
        self.segment = segment
        self.sequence = sequence
    }
}

extension PostgresStoreSQL {
    static let entryColumns = "sequence, ts, trx_id, trx_number, payload, metadata, segment"

    /// The segment's head, or nil when it has no entries; `lock` takes it `FOR UPDATE` (writers only).
    public func readHead(space: String, segment: String, lock: Bool = false, on s: PostgresSession) throws(StreamsError) -> SegmentHead? {
        let rows = try s.query("""
            SELECT last_sequence, last_trx_number, first_timestamp, last_timestamp, entries, payload_bytes FROM coordd_segments
             WHERE store_id = $1 AND space = $2 AND segment = $3\(lock ? " FOR UPDATE" : "")
            """, [.uuid(store), .text(space), .text(segment)])
        guard rows.count == 1 else { return nil }
        return SegmentHead(lastSequence: UInt64(try rows.int64(0, 0) ?? 0), lastTrxNumber: UInt64(try rows.int64(0, 1) ?? 0),
                           firstTimestamp: try rows.int64(0, 2) ?? 0, lastTimestamp: try rows.int64(0, 3) ?? 0,
                           entries: try rows.int64(0, 4) ?? 0, payloadBytes: try rows.int64(0, 5) ?? 0)
    }

    /// Statuses of every segment of `space` with entries, by segment name bytes.
    public func statuses(space: String, on s: PostgresSession) throws(StreamsError) -> [SegmentStatus] {
        let rows = try s.query("""
            SELECT segment, last_sequence, first_timestamp, last_timestamp FROM coordd_segments
             WHERE store_id = $1 AND space = $2 ORDER BY segment
            """, [.uuid(store), .text(space)])
        var statuses: [SegmentStatus] = []
        for row in 0..<rows.count {
            statuses.append(SegmentStatus(space: space, segment: try rows.string(row, 0) ?? "", firstSequence: 1,
                                          firstTimestamp: try rows.int64(row, 2) ?? 0, lastSequence: UInt64(try rows.int64(row, 1) ?? 0),
                                          lastTimestamp: try rows.int64(row, 3) ?? 0))
        }
        return statuses
    }

    /// Up to `max` entries of one segment within `range`, ascending by sequence.
    public func readSegment(space: String, segment: String, range: SegmentRange, max: Int, on s: PostgresSession)
        throws(StreamsError) -> [Entry]
    {
        let rows = try s.query("""
            SELECT \(Self.entryColumns) FROM coordd_entries
             WHERE store_id = $1 AND space = $2 AND segment = $3 AND sequence >= $4 AND sequence <= $5 AND ts > $6 AND ts <= $7
             ORDER BY sequence LIMIT $8
            """, [.uuid(store), .text(space), .text(segment), .int64(Self.clamp(range.fromSequence)), .int64(Self.clamp(range.toSequence)),
                  .int64(range.afterTimestamp), .int64(range.throughTimestamp), .int64(Int64(Swift.max(0, max)))])
        return try entries(rows, space: space)
    }

    /// Up to `max` entries of `space` in its order (timestamp, segment bytes, sequence) strictly after
    /// `cursor` (nil: from the start), with `afterTimestamp < timestamp <= throughTimestamp`.
    ///
    /// This reads what is committed. A caller that hands out cursors must not read past the timestamp
    /// below which no later commit can land (the owner's in-flight chunks, see docs/storage.md).
    public func readSpace(space: String, after cursor: SpaceCursor?, afterTimestamp: Int64, throughTimestamp: Int64, max: Int,
                          on s: PostgresSession) throws(StreamsError) -> [Entry]
    {
        let c = cursor ?? SpaceCursor(timestamp: Int64.min, segment: "", sequence: 0)
        let rows = try s.query("""
            SELECT \(Self.entryColumns) FROM coordd_entries
             WHERE store_id = $1 AND space = $2 AND (ts, segment, sequence) > ($3, $4, $5) AND ts > $6 AND ts <= $7
             ORDER BY ts, segment, sequence LIMIT $8
            """, [.uuid(store), .text(space), .int64(c.timestamp), .text(c.segment), .int64(Self.clamp(c.sequence)),
                  .int64(afterTimestamp), .int64(throughTimestamp), .int64(Int64(Swift.max(0, max)))])
        return try entries(rows, space: space)
    }

    /// The segment's last entry, or nil when it has none.
    public func peek(space: String, segment: String, on s: PostgresSession) throws(StreamsError) -> Entry? {
        let rows = try s.query("""
            SELECT \(Self.entryColumns) FROM coordd_entries WHERE store_id = $1 AND space = $2 AND segment = $3
             ORDER BY sequence DESC LIMIT 1
            """, [.uuid(store), .text(space), .text(segment)])
        return try entries(rows, space: space).first
    }

    /// Space names with entries, ascending by bytes (coordd's system spaces left out).
    public func spaces(on s: PostgresSession) throws(StreamsError) -> [String] {
        let rows = try s.query("SELECT DISTINCT space FROM coordd_segments WHERE store_id = $1 ORDER BY space", [.uuid(store)])
        var names: [String] = []
        for row in 0..<rows.count {
            if let name = try rows.string(row, 0), !SystemSpace.isSystem(name) { names.append(name) }
        }
        return names
    }

    /// Segment names of `space` with entries, ascending by bytes (exact match: `a` never lists `ab`'s).
    public func segments(space: String, on s: PostgresSession) throws(StreamsError) -> [String] {
        let rows = try s.query("SELECT segment FROM coordd_segments WHERE store_id = $1 AND space = $2 ORDER BY segment",
                               [.uuid(store), .text(space)])
        var names: [String] = []
        for row in 0..<rows.count { names.append(try rows.string(row, 0) ?? "") }
        return names
    }

    /// Counts for GetStatus, from the segments' heads (not by scanning entries).
    public func stats(on s: PostgresSession) throws(StreamsError) -> StoreStats {
        let rows = try s.query("""
            SELECT count(DISTINCT space), count(*), coalesce(sum(entries), 0)::bigint, coalesce(sum(payload_bytes), 0)::bigint
              FROM coordd_segments WHERE store_id = $1 AND space NOT LIKE '$coordd.%'
            """, [.uuid(store)])
        return StoreStats(spaces: Int(try rows.int64(0, 0) ?? 0), segments: Int(try rows.int64(0, 1) ?? 0),
                          entries: Int(try rows.int64(0, 2) ?? 0), payloadBytes: Int(try rows.int64(0, 3) ?? 0))
    }

    /// The space's last assigned timestamp (what its next chunk's timestamp is at least), or nil.
    public func lastTimestamp(space: String, on s: PostgresSession) throws(StreamsError) -> Int64? {
        let rows = try s.query("SELECT last_timestamp FROM coordd_spaces WHERE store_id = $1 AND space = $2", [.uuid(store), .text(space)])
        return rows.count == 1 ? try rows.int64(0, 0) : nil
    }

    /// Every space's last assigned timestamp: what a store opening continues from.
    public func spaceTimestamps(on s: PostgresSession) throws(StreamsError) -> [String: Int64] {
        let rows = try s.query("SELECT space, last_timestamp FROM coordd_spaces WHERE store_id = $1", [.uuid(store)])
        var timestamps: [String: Int64] = [:]
        for row in 0..<rows.count {
            timestamps[try rows.string(row, 0) ?? ""] = try rows.int64(row, 1) ?? 0
        }
        return timestamps
    }

    /// Every lease row of the store, by key bytes: what a new owner loads.
    public func leases(on s: PostgresSession) throws(StreamsError) -> [LeaseRow] {
        let rows = try s.query("SELECT key, holder, fence, ttl_ms, worker_id FROM coordd_leases WHERE store_id = $1 ORDER BY key",
                               [.uuid(store)])
        var leases: [LeaseRow] = []
        for row in 0..<rows.count {
            leases.append(LeaseRow(key: try rows.string(row, 0) ?? "", holder: try rows.string(row, 1) ?? "", fence: try rows.int64(row, 2) ?? 0,
                                   ttlMs: try rows.int64(row, 3) ?? 0, workerID: try rows.uuid(row, 4)))
        }
        return leases
    }

    /// The store's fence counter: the highest fence ever granted (0 before any grant).
    public func highestFence(on s: PostgresSession) throws(StreamsError) -> Int64 {
        let rows = try s.query("SELECT highest_fence FROM coordd_fences WHERE store_id = $1", [.uuid(store)])
        return rows.count == 1 ? try rows.int64(0, 0) ?? 0 : 0
    }

    /// Records the store as existing; true when this call created it.
    public func create(on s: PostgresSession) throws(StreamsError) -> Bool {
        try s.query("INSERT INTO coordd_stores (store_id) VALUES ($1) ON CONFLICT DO NOTHING", [.uuid(store)]).affected == 1
    }

    /// True when the store was created.
    public func exists(on s: PostgresSession) throws(StreamsError) -> Bool {
        try s.query("SELECT 1 FROM coordd_stores WHERE store_id = $1", [.uuid(store)]).count == 1
    }

    private func entries(_ rows: PostgresRows, space: String) throws(StreamsError) -> [Entry] {
        var entries: [Entry] = []
        entries.reserveCapacity(rows.count)
        for row in 0..<rows.count {
            let metadata = try rows.string(row, 5).map { text throws(StreamsError) in try PostgresMetadata.decode(text) } ?? nil
            entries.append(Entry(sequence: UInt64(try rows.int64(row, 0) ?? 0), timestamp: try rows.int64(row, 1) ?? 0,
                                 trx: TRX(id: try rows.uuid(row, 2), number: UInt64(try rows.int64(row, 3) ?? 0)),
                                 payload: try rows.bytes(row, 4), metadata: metadata, space: space,
                                 segment: try rows.string(row, 6) ?? ""))
        }
        return entries
    }

    /// Sequences above bigint's range as its largest value (ranges use `UInt64.max` for "no bound").
    static func clamp(_ value: UInt64) -> Int64 { Int64(exactly: value) ?? Int64.max }
}
