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

/// The streaming store: stores → spaces → segments → entries (streamkit v1 §6), in memory or in files.
///
/// Writes are atomic per chunk and serialized per segment; reads take short page-sized looks at the
/// index and never wait for a write to become durable.
public protocol StreamStore: AnyObject, Sendable {
    /// `memory` or `file`.
    var storageKind: String { get }
    /// The limits this store enforces.
    var limits: StoreLimits { get }

    /// Validates and commits one chunk; returns the segment's cumulative status once it is durable.
    func append(_ request: AppendRequest) async throws(StreamsError) -> SegmentStatus

    /// The segment's head entry, or nil when the segment is empty or missing.
    func peek(space: String, segment: String) throws(StreamsError) -> Entry?

    /// The segment's status, or nil when it has no entries.
    func status(space: String, segment: String) -> SegmentStatus?

    /// Statuses of every segment of `space` that has entries, sorted by segment name bytes.
    func statuses(space: String) -> [SegmentStatus]

    /// Up to `max` entries of the segment within `range`, ascending by sequence.
    func readSegment(space: String, segment: String, range: SegmentRange, max: Int) throws(StreamsError) -> [Entry]

    /// Up to `max` entries of the space ordered by (timestamp, segment bytes, sequence), strictly after
    /// the cursor `after` (empty = from the start), with `afterTimestamp < timestamp <= throughTimestamp`.
    func readSpace(space: String, after: [UInt8], afterTimestamp: Int64, throughTimestamp: Int64, max: Int)
        throws(StreamsError) -> [Entry]

    /// The newest timestamp a space read may return now such that no entry committed later can sort
    /// before it, so a cursor taken from a read never skips a later commit.
    func visibleBound(space: String) -> Int64

    /// Space names in ascending byte order (coordd's system spaces are not listed).
    func spaces() -> [String]

    /// Segment names of `space` in ascending byte order (exact match: space `a` never lists `ab`'s).
    func segments(space: String) -> [String]

    /// Counts of what the store holds.
    func stats() -> StoreStats

    /// The store's lease log: events and checkpoints of the lease engine, kept apart from the entries
    /// and compacted so that it stays as small as the leases it describes (see ``CompactingLog``).
    var leaseLog: any CompactingLog { get }

    /// Finishes pending writes and releases files. Later appends fail with a transient error.
    func close() async
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
