/// How a chunk's records get their sequence numbers.
public enum Sequencing: Sendable {
    /// Each record carries the sequence it expects; it must be exactly the segment's last + 1
    /// (streamkit's Produce).
    case expected
    /// The store numbers the records after the segment's last (coordd's own system spaces).
    case assigned
}

/// One chunk to commit atomically to one segment.
public struct AppendRequest: Sendable {
    /// The space.
    public var space: String
    /// The segment.
    public var segment: String
    /// The records, in order.
    public var records: [Record]
    /// Whether sequences are checked or assigned.
    public var sequencing: Sequencing
    /// Runs under the store's ordering lock right before the chunk takes its place in the log, so its
    /// verdict and the append are one atomic step (fenced writes). A non-nil error refuses the chunk.
    public var precheck: (@Sendable () -> StreamsError?)?

    /// Creates a request.
    public init(
        space: String, segment: String, records: [Record], sequencing: Sequencing = .expected,
        precheck: (@Sendable () -> StreamsError?)? = nil
    ) {
        self.space = space
        self.segment = segment
        self.records = records
        self.sequencing = sequencing
        self.precheck = precheck
    }
}

/// Counts for GetStatus and metrics.
public struct StoreStats: Sendable, Equatable {
    /// Spaces, not counting coordd's system spaces.
    public var spaces: Int
    /// Segments across those spaces.
    public var segments: Int
    /// Entries across those segments.
    public var entries: Int
    /// Sum of their payload sizes.
    public var payloadBytes: Int

    /// Creates stats.
    public init(spaces: Int = 0, segments: Int = 0, entries: Int = 0, payloadBytes: Int = 0) {
        self.spaces = spaces
        self.segments = segments
        self.entries = entries
        self.payloadBytes = payloadBytes
    }
}

/// A range read over one segment.
public struct SegmentRange: Sendable, Equatable {
    /// First sequence to return (inclusive, ≥ 1).
    public var fromSequence: UInt64
    /// Last sequence to return (inclusive); `UInt64.max` for no bound.
    public var toSequence: UInt64
    /// Only entries with a timestamp strictly above this (exclusive; `Int64.min` for none).
    public var afterTimestamp: Int64
    /// Only entries with a timestamp at or below this (inclusive; `Int64.max` for none).
    public var throughTimestamp: Int64

    /// Creates a range.
    public init(fromSequence: UInt64, toSequence: UInt64, afterTimestamp: Int64, throughTimestamp: Int64) {
        self.fromSequence = fromSequence
        self.toSequence = toSequence
        self.afterTimestamp = afterTimestamp
        self.throughTimestamp = throughTimestamp
    }
}

/// The streaming store: stores → spaces → segments → entries (streamkit v1 §6), and the store's lease log.
///
/// The one interface every backend implements — in memory (``MemoryStore``), in files (``FileStore``), and
/// any other (a database reached over the network) — and the only one the daemon uses: what a backend
/// may have to wait for (appends, reads, status, the lease log) is `async` and can fail with a
/// ``StreamsError``. What every backend must do is written down as the store contract tests
/// (`Tests/StreamCoreTests/StoreContractTests.swift`), run against each one:
///
/// - **Sequences.** A chunk's records carry exactly the segment's next sequences (``Sequencing/expected``),
///   or get them (``Sequencing/assigned``); of two chunks claiming one sequence, exactly one wins and the
///   other fails with `sequence_gap`. A chunk is atomic, gets one TRX (number = the previous + 1) and one
///   timestamp, never below the space's last (the wall clock may go back).
/// - **Acknowledged = durable = visible.** `append` returns the segment's cumulative status only once the
///   chunk survives a crash, and every read after it sees the chunk. Chunks of one segment may be in
///   flight together; a failed write stops the backend's writes (read-only, transient `storage_error`),
///   so no chunk is durable after an earlier one of its segment failed. Reads go on.
/// - **Visibility of space reads** (``visibleBound(space:)``): no entry committed later can sort before
///   a bound a read was given, and reads never wait for a write (no stall).
/// - **Names match exactly**: space `a` never shows `ab`'s segments, nor segment `x` `xy`'s entries.
/// - **The lease log** (``leaseLog``) hands back the last complete checkpoint and the events after it, in
///   the order they were appended, so the lease engine rebuilt from it continues every fence it granted.
public protocol StreamStore: AnyObject, Sendable {
    /// The backend's name (`memory`, `file`), as GetStatus reports it.
    var storageKind: String { get }
    /// The limits this store enforces.
    var limits: StoreLimits { get }

    /// Validates and commits one chunk; returns the segment's cumulative status once it is durable.
    func append(_ request: AppendRequest) async throws(StreamsError) -> SegmentStatus

    /// The segment's head entry, or nil when the segment is empty or missing.
    func peek(space: String, segment: String) async throws(StreamsError) -> Entry?

    /// The segment's status, or nil when it has no entries.
    func status(space: String, segment: String) async throws(StreamsError) -> SegmentStatus?

    /// Statuses of every segment of `space` that has entries, sorted by segment name bytes.
    func statuses(space: String) async throws(StreamsError) -> [SegmentStatus]

    /// Up to `max` entries of the segment within `range`, ascending by sequence.
    func readSegment(space: String, segment: String, range: SegmentRange, max: Int) async throws(StreamsError) -> [Entry]

    /// Up to `max` entries of the space ordered by (timestamp, segment bytes, sequence), strictly after
    /// the cursor `after` (empty = from the start), with `afterTimestamp < timestamp <= throughTimestamp`.
    func readSpace(space: String, after: [UInt8], afterTimestamp: Int64, throughTimestamp: Int64, max: Int)
        async throws(StreamsError) -> [Entry]

    /// The newest timestamp a space read may return now such that no entry committed later can sort
    /// before it, so a cursor taken from a read never skips a later commit.
    func visibleBound(space: String) async throws(StreamsError) -> Int64

    /// Space names in ascending byte order (coordd's system spaces are not listed).
    func spaces() async throws(StreamsError) -> [String]

    /// Segment names of `space` in ascending byte order (exact match: space `a` never lists `ab`'s).
    func segments(space: String) async throws(StreamsError) -> [String]

    /// Counts of what the store holds (GetStatus).
    func stats() async throws(StreamsError) -> StoreStats

    /// The store's lease log: events and checkpoints of the lease engine, kept apart from the entries
    /// and compacted so that it stays as small as the leases it describes (see ``CompactingLog``).
    var leaseLog: any CompactingLog { get }

    /// What the store's storage costs and how fast it flushes, for metrics: read at every scrape, so it
    /// must not wait (a figure the backend cannot tell at once is nil).
    var storageMetrics: StoreStorageMetrics { get }

    /// Finishes pending writes and releases what the store holds (files, connections), suspending
    /// without blocking a thread. Later appends fail with a transient error.
    func close() async

    /// The failure that stopped the store's writes for good, once one did; nil while it takes writes.
    /// A store that reports one takes no more writes until it is closed and opened again, which rebuilds
    /// what depends on the failed write (the lease engine, the fence counter) from what is durable: the
    /// daemon does that by itself (`NodeManager`). Read without waiting, on every request of the store.
    var writesStopped: StreamsError? { get }
}

extension StreamStore {
    /// Never stopped: a backend whose writes cannot stop for good, or that does not want to be reopened
    /// by the daemon after one failed (the file store: see `docs/storage.md`).
    public var writesStopped: StreamsError? { nil }

    /// No figures: a backend without storage of its own (the memory store) has none to report.
    public var storageMetrics: StoreStorageMetrics { StoreStorageMetrics() }
}

/// A store backend's own figures for metrics; nil where a backend has none.
public struct StoreStorageMetrics: Sendable {
    /// Bytes the store takes in its storage (a file store: its logs' files, the zeros reserved ahead
    /// of their data included).
    public var bytes: UInt64?
    /// How long its flushes took (a file store: every `fdatasync` of its logs).
    public var syncLatency: SyncLatencyHistogram?
    /// How long its write transactions took, from the first statement to the end of the commit (a
    /// PostgreSQL store: each group-commit batch, whose commit waits for PostgreSQL's WAL flush).
    public var transactionLatency: SyncLatencyHistogram?

    /// Creates the figures.
    public init(bytes: UInt64? = nil, syncLatency: SyncLatencyHistogram? = nil,
                transactionLatency: SyncLatencyHistogram? = nil) {
        self.bytes = bytes
        self.syncLatency = syncLatency
        self.transactionLatency = transactionLatency
    }
}

/// Names reserved for coordd's own spaces. Users cannot produce into them and they are not listed by
/// GetSpaces.
public enum SystemSpace {
    /// Prefix of every system space name.
    public static let prefix = "$coordd."
    /// Where lease events were kept before the lease log (``StreamStore/leaseLog``): read once, to
    /// carry an older store's leases over into its lease log, and no longer indexed after that.
    public static let leases = "$coordd.leases"

    /// True for a name in the reserved range.
    public static func isSystem(_ space: String) -> Bool { space.hasPrefix(prefix) }
}
