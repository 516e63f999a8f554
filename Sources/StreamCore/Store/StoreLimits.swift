/// Named limits of the streaming store, with where each value comes from.
public struct StoreLimits: Sendable {
    /// Records committed together as one chunk (one TRX, one SegmentStatus): streamkit's pebble chunk size
    /// (streamkit v1 §2.2).
    public var chunkMaxRecords = 10_000
    /// A chunk also ends once its records pass this many bytes (payload, metadata and a per-record
    /// allowance, see `Record.storedSize`), so 10,000 large records cannot pin gigabytes in memory before
    /// they are committed. With one more record of at most `maxPayloadBytes` + `maxMetadataBytes` a chunk
    /// stays under the log's 16 MiB `maxBatchBytes`, so every chunk fits one log append.
    public var chunkMaxBytes = 8 << 20
    /// Largest record payload: the 6 MiB mux message cap (streamkit v1 §3.4); a bigger one could never
    /// be read back over WebSocket.
    public var maxPayloadBytes = 6 << 20
    /// Largest metadata map of one record, keys plus values in UTF-8 bytes.
    public var maxMetadataBytes = 64 << 10
    /// Largest space or segment name in UTF-8 bytes.
    public var maxNameBytes = 1_024
    /// Entries one consume may return: streamkit's `serverMaxConsumeEntries` (streamkit v1 §2.2).
    public var maxConsumeEntries: UInt64 = 10_000_000
    /// Entries read from the index per page while streaming a consume, so one long read never holds the
    /// index lock for long.
    public var readPageSize = 512

    /// The default limits.
    public init() {}
}
