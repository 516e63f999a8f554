/// Named limits of the streaming store, with where each value comes from.
///
/// The sizes of a record are derived from what a reader can receive: the entry a record becomes (its
/// payload base64'd inside the entry's JSON, with the names, metadata, timestamp and TRX) must fit one
/// message of the wire (``WireLimits/maxMessageBytes``). So every record Produce acknowledges can be
/// read back by Peek and every consume, over WebSocket and in process.
public struct StoreLimits: Sendable {
    /// Records committed together as one chunk (one TRX, one SegmentStatus): streamkit's pebble chunk size
    /// (streamkit v1 §2.2).
    public var chunkMaxRecords = 10_000
    /// A chunk also ends once its records pass this many bytes (payload, metadata and a per-record
    /// allowance, see `Record.storedSize`), so 10,000 large records cannot pin gigabytes in memory before
    /// they are committed. With one more record of at most `maxPayloadBytes` + `maxMetadataBytes` a chunk
    /// stays under the log's 16 MiB `maxBatchBytes`, so every chunk fits one log append.
    public var chunkMaxBytes = 8 << 20
    /// Largest entry as readers receive it, in bytes of its JSON: the largest message one WebSocket
    /// frame carries (``WireLimits/maxMessageBytes``, 6,291,351 bytes).
    public var maxEntryBytes = WireLimits.maxMessageBytes
    /// Largest metadata map of one record, in bytes of its JSON object as the entry carries it: keys and
    /// values quoted and escaped (a control character counts 6 bytes, `\u00XX`), colons, commas, braces.
    public var maxMetadataBytes = 64 << 10
    /// Largest space or segment name in UTF-8 bytes. In an entry each is escaped JSON, at most 6 bytes
    /// per byte (``JSONWriter/maxQuotedCount(utf8Count:)``), which ``maxPayloadBytes`` allows for.
    public var maxNameBytes = 1_024
    /// Entries one consume may return: streamkit's `serverMaxConsumeEntries` (streamkit v1 §2.2).
    public var maxConsumeEntries: UInt64 = 10_000_000
    /// Entries read from the index per page while streaming a consume, so one long read never holds the
    /// index lock for long.
    public var readPageSize = 512

    /// The default limits.
    public init() {}

    /// Largest record payload: what ``maxEntryBytes`` leaves for its base64 once the entry's fixed JSON
    /// (``entryFixedBytes``), the largest metadata and the two largest names, fully escaped, are counted.
    /// Base64 writes 4 bytes per 3, so the payload gets ⌊room / 4⌋ × 3 bytes: 4,659,963 by default.
    public var maxPayloadBytes: Int {
        let names = 2 * JSONWriter.maxQuotedCount(utf8Count: maxNameBytes)
        let room = maxEntryBytes - Self.entryFixedBytes - maxMetadataBytes - names
        return max(0, room / 4 * 3)
    }

    /// Bytes of an entry's JSON besides its payload's base64, its metadata object and its quoted names:
    /// every key, quote and brace, the widest sequence, timestamp and TRX number (20 characters each),
    /// the TRX's two UUIDs, and the `,"metadata":` member. Measured by encoding such an entry, so it
    /// follows ``Entry/write(to:)``.
    public static let entryFixedBytes: Int = {
        let widest = Entry(
            sequence: .max, timestamp: .min, trx: TRX(id: nil, number: .max), payload: [], metadata: nil,
            space: "", segment: "")
        let names = 2 * JSONWriter.quotedCount("")
        return widest.encoded().count - names + Array(#","metadata":"#.utf8).count
    }()
}
