// Read requests of the streaming store (streamkit v1 §2.2).

/// Reads one segment in ascending sequence: bare Entries, then the end.
public struct ConsumeSegment: RequestMessage, Equatable {
    public static let discriminator = "streamkit://api/v1/consume_segment"
    /// The space.
    public var space: String
    /// The segment.
    public var segment: String
    /// Inclusive lower sequence bound (0 = from the start).
    public var minSequence: UInt64
    /// Exclusive lower timestamp bound (0 = none).
    public var minTimestamp: Int64
    /// Inclusive upper sequence bound (0 = none; raised to `minSequence` when below it).
    public var maxSequence: UInt64
    /// Inclusive upper timestamp bound (0 = none).
    public var maxTimestamp: Int64
    /// At most this many entries (0 or `UInt64.max` = unlimited, else capped at 10,000,000).
    public var limit: UInt64
    /// coordd extension: the entries may come many to a message (``EntryBatch``).
    public var batched: Bool

    /// Creates a segment read.
    public init(
        space: String, segment: String, minSequence: UInt64 = 0, minTimestamp: Int64 = 0,
        maxSequence: UInt64 = 0, maxTimestamp: Int64 = 0, limit: UInt64 = 0, batched: Bool = false
    ) {
        self.space = space
        self.segment = segment
        self.minSequence = minSequence
        self.minTimestamp = minTimestamp
        self.maxSequence = maxSequence
        self.maxTimestamp = maxTimestamp
        self.limit = limit
        self.batched = batched
    }

    public init(fields: JSONFields) throws(StreamsError) {
        space = try fields.string("space")
        segment = try fields.string("segment")
        minSequence = try fields.uint64("min_sequence")
        minTimestamp = try fields.int64("min_timestamp")
        maxSequence = try fields.uint64("max_sequence")
        maxTimestamp = try fields.int64("max_timestamp")
        limit = try fields.uint64("limit")
        batched = try fields.bool("batched")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("space"); w.string(space)
        w.key("segment"); w.string(segment)
        if minSequence != 0 { w.key("min_sequence"); w.uint(minSequence) }
        if minTimestamp != 0 { w.key("min_timestamp"); w.int(minTimestamp) }
        if maxSequence != 0 { w.key("max_sequence"); w.uint(maxSequence) }
        if maxTimestamp != 0 { w.key("max_timestamp"); w.int(maxTimestamp) }
        if limit != 0 { w.key("limit"); w.uint(limit) }
        if batched { w.key("batched"); w.bool(true) }
        w.endObject()
    }
}

/// Reads a whole space ordered by (timestamp, segment, sequence), after an exclusive cursor.
public struct ConsumeSpace: RequestMessage, Equatable {
    public static let discriminator = "streamkit://api/v1/consume_space"
    /// The space.
    public var space: String
    /// Exclusive lower timestamp bound (0 = none).
    public var minTimestamp: Int64
    /// Inclusive upper timestamp bound (0 = none).
    public var maxTimestamp: Int64
    /// Exclusive cursor (a space offset key; empty = from the start).
    public var offset: [UInt8]
    /// At most this many entries (same rule as ``ConsumeSegment/limit``).
    public var limit: UInt64
    /// coordd extension: the entries may come many to a message (``EntryBatch``).
    public var batched: Bool

    /// Creates a space read.
    public init(space: String, minTimestamp: Int64 = 0, maxTimestamp: Int64 = 0, offset: [UInt8] = [], limit: UInt64 = 0,
                batched: Bool = false) {
        self.space = space
        self.minTimestamp = minTimestamp
        self.maxTimestamp = maxTimestamp
        self.offset = offset
        self.limit = limit
        self.batched = batched
    }

    public init(fields: JSONFields) throws(StreamsError) {
        space = try fields.string("space")
        minTimestamp = try fields.int64("min_timestamp")
        maxTimestamp = try fields.int64("max_timestamp")
        offset = try fields.hex("offset")
        limit = try fields.uint64("limit")
        batched = try fields.bool("batched")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("space"); w.string(space)
        if minTimestamp != 0 { w.key("min_timestamp"); w.int(minTimestamp) }
        if maxTimestamp != 0 { w.key("max_timestamp"); w.int(maxTimestamp) }
        if !offset.isEmpty { w.key("offset"); w.hex(offset) }
        if limit != 0 { w.key("limit"); w.uint(limit) }
        if batched { w.key("batched"); w.bool(true) }
        w.endObject()
    }
}

/// Reads several spaces merged by timestamp; the spaces read are exactly the keys of `offsets`.
public struct Consume: RequestMessage, Equatable {
    public static let discriminator = "streamkit://api/v1/consume"
    /// Exclusive lower timestamp bound (0 = none).
    public var minTimestamp: Int64
    /// Inclusive upper timestamp bound (0 = none).
    public var maxTimestamp: Int64
    /// Space → exclusive cursor (empty = from `minTimestamp`).
    public var offsets: [String: [UInt8]]
    /// At most this many entries across all spaces.
    public var limit: UInt64
    /// coordd extension: the entries may come many to a message (``EntryBatch``).
    public var batched: Bool

    /// Creates a multi-space read.
    public init(offsets: [String: [UInt8]], minTimestamp: Int64 = 0, maxTimestamp: Int64 = 0, limit: UInt64 = 0,
                batched: Bool = false) {
        self.offsets = offsets
        self.minTimestamp = minTimestamp
        self.maxTimestamp = maxTimestamp
        self.limit = limit
        self.batched = batched
    }

    public init(fields: JSONFields) throws(StreamsError) {
        minTimestamp = try fields.int64("min_timestamp")
        maxTimestamp = try fields.int64("max_timestamp")
        limit = try fields.uint64("limit")
        batched = try fields.bool("batched")
        var offsets: [String: [UInt8]] = [:]
        for (space, text) in try fields.stringMap("offsets") ?? [:] {
            guard let key = LexKey.decodeHex(text) else {
                throw .malformed("field \"offsets.\(InputExcerpt.excerpt(space))\": invalid hex key")
            }
            offsets[space] = key
        }
        self.offsets = offsets
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        if minTimestamp != 0 { w.key("min_timestamp"); w.int(minTimestamp) }
        if maxTimestamp != 0 { w.key("max_timestamp"); w.int(maxTimestamp) }
        w.key("offsets")
        w.beginObject()
        for space in offsets.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            w.key(escaping: space)
            w.hex(offsets[space] ?? [])
        }
        w.endObject()
        if limit != 0 { w.key("limit"); w.uint(limit) }
        if batched { w.key("batched"); w.bool(true) }
        w.endObject()
    }
}

/// Lists space names (bare JSON strings, ascending by bytes), then the end.
public struct GetSpaces: RequestMessage, Equatable {
    public static let discriminator = "streamkit://api/v1/get_spaces"

    /// Creates the request.
    public init() {}

    public init(fields: JSONFields) throws(StreamsError) {}

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.endObject()
    }
}

/// Lists the segment names of one space (bare JSON strings, ascending by bytes), then the end.
public struct GetSegments: RequestMessage, Equatable {
    public static let discriminator = "streamkit://api/v1/get_segments"
    /// The space.
    public var space: String

    /// Creates the request.
    public init(space: String) { self.space = space }

    public init(fields: JSONFields) throws(StreamsError) {
        space = try fields.string("space")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("space"); w.string(space)
        w.endObject()
    }
}

/// Asks for the store's status. streamkit leaves it unhandled; coordd answers one bare ``StoreStatus``.
public struct GetStatus: RequestMessage, Equatable {
    public static let discriminator = "streamkit://api/v1/get_status"

    /// Creates the request.
    public init() {}

    public init(fields: JSONFields) throws(StreamsError) {}

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.endObject()
    }
}

/// coordd's answer to GetStatus (bare JSON): what the store holds and who is connected to it.
public struct StoreStatus: WireMessage, Equatable {
    /// The store.
    public var storeID: WireUUID?
    /// `file` or `memory`.
    public var storage: String
    /// Number of spaces.
    public var spaces: UInt64
    /// Number of segments across all spaces.
    public var segments: UInt64
    /// Number of entries across all segments.
    public var entries: UInt64
    /// Sum of entry payload sizes.
    public var payloadBytes: UInt64
    /// Registered workers.
    public var workers: UInt64
    /// Open SubscribeWorkers streams without a worker id.
    public var observers: UInt64
    /// Live leases.
    public var leases: UInt64
    /// Current inventory revision.
    public var inventoryRevision: UInt64

    /// Creates a status.
    public init(
        storeID: WireUUID?, storage: String, spaces: UInt64, segments: UInt64, entries: UInt64,
        payloadBytes: UInt64, workers: UInt64, observers: UInt64, leases: UInt64, inventoryRevision: UInt64
    ) {
        self.storeID = storeID
        self.storage = storage
        self.spaces = spaces
        self.segments = segments
        self.entries = entries
        self.payloadBytes = payloadBytes
        self.workers = workers
        self.observers = observers
        self.leases = leases
        self.inventoryRevision = inventoryRevision
    }

    public init(fields: JSONFields) throws(StreamsError) {
        storeID = try fields.uuid("store_id")
        storage = try fields.string("storage")
        spaces = try fields.uint64("spaces")
        segments = try fields.uint64("segments")
        entries = try fields.uint64("entries")
        payloadBytes = try fields.uint64("payload_bytes")
        workers = try fields.uint64("workers")
        observers = try fields.uint64("observers")
        leases = try fields.uint64("leases")
        inventoryRevision = try fields.uint64("inventory_revision")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("store_id"); w.uuid(storeID)
        w.key("storage"); w.string(storage)
        w.key("spaces"); w.uint(spaces)
        w.key("segments"); w.uint(segments)
        w.key("entries"); w.uint(entries)
        w.key("payload_bytes"); w.uint(payloadBytes)
        w.key("workers"); w.uint(workers)
        w.key("observers"); w.uint(observers)
        w.key("leases"); w.uint(leases)
        w.key("inventory_revision"); w.uint(inventoryRevision)
        w.endObject()
    }
}

/// Subscribes to segment statuses: a snapshot, then live statuses, plus optional heartbeats.
public struct SubscribeToSegmentStatus: RequestMessage, Equatable {
    public static let discriminator = "streamkit://api/v1/subscribe_to_segment_status"
    /// The space.
    public var space: String
    /// An exact segment name, or `*` for every segment of the space.
    public var segment: String
    /// ≤ 0: no heartbeats; otherwise clamped to [1, 300] seconds.
    public var heartbeatIntervalSeconds: Int64

    /// Creates a subscription request.
    public init(space: String, segment: String, heartbeatIntervalSeconds: Int64 = 0) {
        self.space = space
        self.segment = segment
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
    }

    public init(fields: JSONFields) throws(StreamsError) {
        space = try fields.string("space")
        segment = try fields.string("segment")
        heartbeatIntervalSeconds = try fields.int64("heartbeat_interval_seconds")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("space"); w.string(space)
        w.key("segment"); w.string(segment)
        w.key("heartbeat_interval_seconds"); w.int(heartbeatIntervalSeconds)
        w.endObject()
    }
}

/// A bus message carrying a segment status (never sent on client streams; kept for wire compatibility).
public struct SegmentNotification: EnvelopedMessage, Equatable {
    public static let discriminator = "streamkit://api/v1/segment_notification"
    /// The store.
    public var storeID: WireUUID?
    /// The status.
    public var segmentStatus: SegmentStatus

    /// Creates a notification.
    public init(storeID: WireUUID?, segmentStatus: SegmentStatus) {
        self.storeID = storeID
        self.segmentStatus = segmentStatus
    }

    public init(fields: JSONFields) throws(StreamsError) {
        storeID = try fields.uuid("store_id")
        segmentStatus = try fields.object("segment_status").map { f throws(StreamsError) in try SegmentStatus(fields: f) }
            ?? SegmentStatus(space: "", segment: "")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("store_id"); w.uuid(storeID)
        w.key("segment_status"); segmentStatus.write(to: &w)
        w.endObject()
    }
}
