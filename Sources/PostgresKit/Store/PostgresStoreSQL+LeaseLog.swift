import StreamCore

/// The lease log's rows (`coordd_lease_log`): a checkpoint (a start row, then its records) followed by
/// the events appended after it, in `position` order. A checkpoint deletes every row before it in its
/// own transaction, so the table holds one checkpoint at most and is never half-compacted.
extension PostgresStoreSQL {
    /// Row kinds of `coordd_lease_log`.
    enum LeaseLogKind: Int64 {
        case event = 0
        case checkpointStart = 1
        case checkpointRecord = 2
    }

    /// Appends `records` after the store's last lease log row; a checkpoint first deletes every row.
    func appendLeaseLog(_ records: [[UInt8]], checkpoint: Bool, on s: PostgresSession) throws(StreamsError) {
        if checkpoint {
            try s.query("DELETE FROM coordd_lease_log WHERE store_id = $1", [.uuid(store)])
        } else if records.isEmpty {
            return
        }
        var rows: [(LeaseLogKind, [UInt8])] = checkpoint ? [(.checkpointStart, [])] : []
        rows += records.map { (checkpoint ? .checkpointRecord : .event, $0) }
        var bytes: [UInt8] = []
        var offsets: [Int64?] = []
        var lengths: [Int64?] = []
        for (_, record) in rows {
            offsets.append(Int64(bytes.count + 1))  // substring() counts from 1
            lengths.append(Int64(record.count))
            bytes.append(contentsOf: record)
        }
        try s.query("""
            INSERT INTO coordd_lease_log (store_id, position, kind, record)
            SELECT $1, (SELECT coalesce(max(position), 0) FROM coordd_lease_log WHERE store_id = $1) + r.i, r.kind,
                   substring($2::bytea FROM r.off::int FOR r.len::int)
              FROM unnest($3::bigint[], $4::bigint[], $5::smallint[]) WITH ORDINALITY AS r(off, len, kind, i)
            """, [.uuid(store), .bytes(bytes), .text(PostgresArray.integers(offsets)), .text(PostgresArray.integers(lengths)),
                  .text(PostgresArray.integers(rows.map { $0.0.rawValue }))])
    }

    /// What the store's lease log holds: its checkpoint (nil when it has none) and the events after it.
    public func leaseLog(on s: PostgresSession) throws(StreamsError) -> CompactingLogContents {
        let rows = try s.query("SELECT kind, record FROM coordd_lease_log WHERE store_id = $1 ORDER BY position", [.uuid(store)])
        var contents = CompactingLogContents()
        for row in 0..<rows.count {
            let record = try rows.bytes(row, 1) ?? []
            switch LeaseLogKind(rawValue: try rows.int64(row, 0) ?? -1) {
            case .event: contents.events.append(record)
            case .checkpointStart:
                guard contents.checkpoint == nil, contents.events.isEmpty else {
                    throw .storage("postgres: the lease log of store \(store) holds a checkpoint after other rows")
                }
                contents.checkpoint = []
            case .checkpointRecord:
                guard contents.checkpoint != nil, contents.events.isEmpty else {
                    throw .storage("postgres: the lease log of store \(store) holds a checkpoint record out of place")
                }
                contents.checkpoint?.append(record)
            case nil:
                throw .storage("postgres: the lease log of store \(store) holds a row of unknown kind")
            }
        }
        return contents
    }
}
