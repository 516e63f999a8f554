import StreamCore

/// One chunk for one segment, as a batch carries it.
public struct ChunkAppend: Sendable {
    /// The space.
    public var space: String
    /// The segment.
    public var segment: String
    /// The records, in order (already validated against ``StoreLimits`` by the caller).
    public var records: [Record]
    /// Checked (each record's sequence must be the segment's last + 1, + 2, …) or assigned.
    public var sequencing: Sequencing
    /// When set, the chunk commits only if the lease row for `key` holds exactly this fence, checked in
    /// the same transaction under a share lock on that row.
    public var fence: Fence?
    /// The writer's clock in milliseconds: the chunk's timestamp is the larger of this and the space's
    /// last timestamp, so a space's timestamps never decrease.
    public var nowMs: Int64

    /// Creates a chunk.
    public init(space: String, segment: String, records: [Record], sequencing: Sequencing = .expected, fence: Fence? = nil,
                nowMs: Int64) {
        self.space = space
        self.segment = segment
        self.records = records
        self.sequencing = sequencing
        self.fence = fence
        self.nowMs = nowMs
    }
}

/// A lease as the store keeps it: its state, not its history.
public struct LeaseRow: Sendable, Equatable {
    /// The key.
    public var key: String
    /// Who holds it.
    public var holder: String
    /// Its fencing token.
    public var fence: Int64
    /// The TTL a restart restores it with.
    public var ttlMs: Int64
    /// The worker whose presence it is bound to.
    public var workerID: WireUUID?

    /// Creates a row.
    public init(key: String, holder: String, fence: Int64, ttlMs: Int64, workerID: WireUUID? = nil) {
        self.key = key
        self.holder = holder
        self.fence = fence
        self.ttlMs = ttlMs
        self.workerID = workerID
    }
}

/// One write of a batch (``PostgresStoreSQL/commit(_:on:)``).
public enum StoreWrite: Sendable {
    /// Appends a chunk.
    case append(ChunkAppend)
    /// Grants or renews a lease: writes its row and raises the store's fence counter to its fence.
    case putLease(LeaseRow)
    /// Releases or expires a lease.
    case deleteLease(key: String)
    /// Appends events to the store's lease log (``PostgresLeaseLog``), after everything before them.
    case leaseEvents([[UInt8]])
    /// Replaces the store's lease log by a checkpoint: `records` describe the state after every event
    /// before it, which are deleted in the same transaction.
    case leaseCheckpoint([[UInt8]])
}

/// What one write of a committed batch did.
public enum StoreWriteOutcome: Sendable, Equatable {
    /// The chunk's entries (sequences, timestamp and TRX assigned) and the segment's status after it.
    case appended(entries: [Entry], status: SegmentStatus)
    /// The lease row is written; the store's fence counter after it.
    case leasePut(highestFence: Int64)
    /// The lease row is gone; whether there was one.
    case leaseDeleted(existed: Bool)
    /// The lease log's records are written.
    case leaseLogged
}
