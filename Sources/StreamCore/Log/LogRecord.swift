/// One opaque record of the durable log: a kind byte the layer above assigns, and its payload bytes.
public struct LogRecord: Sendable, Hashable {
    /// What the payload is; the log never interprets it.
    public var kind: UInt8
    /// The record's bytes, at most ``DurableLogLimits/maxRecordPayloadBytes``.
    public var payload: [UInt8]

    /// Creates a record.
    public init(kind: UInt8, payload: [UInt8]) {
        self.kind = kind
        self.payload = payload
    }
}

/// Where a record starts: its file's number and the byte offset of its frame in that file.
///
/// Positions grow in log order, so they compare the way the records were appended.
public struct LogPosition: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The number in the file's name (`00000001.log` is 1).
    public var file: UInt32
    /// The byte offset of the record's frame within the file.
    public var offset: UInt64

    /// Creates a position.
    public init(file: UInt32, offset: UInt64) {
        self.file = file
        self.offset = offset
    }

    /// Log order: by file, then by offset within the file.
    public static func < (lhs: LogPosition, rhs: LogPosition) -> Bool {
        (lhs.file, lhs.offset) < (rhs.file, rhs.offset)
    }

    /// `00000001.log@16`.
    public var description: String { "\(LogFormat.fileName(file))@\(offset)" }
}

/// The sizes and queue depths the log works within, each with where its value comes from.
public struct DurableLogLimits: Sendable, Hashable {
    /// The largest payload of one record: the 6 MiB mux payload cap (streamkit v1 §3.4,
    /// `defaultMaxMessagePayloadBytes`), so any payload a client can send fits in one record.
    public var maxRecordPayloadBytes: Int
    /// A file is closed and the next one started once the next batch would take it past this size.
    /// 64 MiB keeps a file count in the dozens per GiB and each file quick to scan.
    public var fileRollBytes: Int
    /// The most encoded bytes the writer puts into one write + `fdatasync`, and so the largest
    /// single `append` call. 16 MiB holds a couple of maximum payloads and is far more than one disk
    /// flush needs to be efficient; bounding it bounds the writer's buffer and what a crash can tear.
    public var maxBatchBytes: Int
    /// The most `append` calls waiting for the writer; beyond it an append fails at once rather
    /// than queueing without bound. 65,536 is eight times streamkit's per-stream queue depth of 8192
    /// (`defaultMuxQueueChannelDepth`, streamkit v1 §3.4).
    public var maxPendingAppends: Int
    /// The most zeros the writer puts past a file's data at a time, so that batches overwrite zeros
    /// instead of growing the file (see `LogWriter.reserve`); 0 turns this off. A file grows by as
    /// much as it already holds, up to this: a small log stays small. The batch that grows the file
    /// flushes the zeros too: with 1 MiB that put 1.5 ms on durable produce's p99 (2.4 → 3.9 ms);
    /// 256 KiB keeps it level and the gain the same.
    public var reserveBytes: Int

    /// The defaults above, or any of them overridden.
    public init(
        maxRecordPayloadBytes: Int = 6 << 20,
        fileRollBytes: Int = 64 << 20,
        maxBatchBytes: Int = 16 << 20,
        maxPendingAppends: Int = 65_536,
        reserveBytes: Int = 256 << 10
    ) {
        self.maxRecordPayloadBytes = maxRecordPayloadBytes
        self.fileRollBytes = fileRollBytes
        self.maxBatchBytes = maxBatchBytes
        self.maxPendingAppends = maxPendingAppends
        self.reserveBytes = reserveBytes
    }
}
