// Data types of the streaming store (streamkit v1 §2.1) and the requests that write and peek.

/// One record a producer sends (bare JSON): the sequence it expects, its payload and metadata.
public struct Record: WireMessage, Equatable {
    /// The sequence this record must get: exactly the segment's last sequence + 1.
    public var sequence: UInt64
    /// Opaque bytes (base64 on the wire; `null` when nil).
    public var payload: [UInt8]?
    /// Optional string metadata (omitted when empty).
    public var metadata: [String: String]?

    /// Creates a record.
    public init(sequence: UInt64, payload: [UInt8]?, metadata: [String: String]? = nil) {
        self.sequence = sequence
        self.payload = payload
        self.metadata = metadata
    }

    public init(fields: JSONFields) throws(StreamsError) {
        sequence = try fields.uint64("sequence")
        payload = try fields.bytes("payload")
        metadata = try fields.stringMap("metadata")
    }

    /// Bytes the record takes in a chunk: payload, metadata keys and values, and 32 bytes for framing.
    public var storedSize: Int {
        32 + (payload?.count ?? 0) + (metadata?.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 8 } ?? 0)
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("sequence"); w.uint(sequence)
        w.key("payload"); w.base64(payload)
        if let metadata, !metadata.isEmpty { w.key("metadata"); w.stringMap(metadata) }
        w.endObject()
    }
}

/// The transaction an entry was committed in: one random id per committed chunk, and a per-segment
/// counter that is the previous chunk's number + 1.
public struct TRX: WireMessage, Hashable {
    /// The chunk's id; nil (the nil UUID on the wire) for an empty Peek result.
    public var id: WireUUID?
    /// Never set by streamkit or coordd; always the nil UUID on the wire.
    public var node: WireUUID?
    /// Per-segment transaction counter.
    public var number: UInt64

    /// Creates a transaction reference.
    public init(id: WireUUID?, node: WireUUID? = nil, number: UInt64) {
        self.id = id
        self.node = node
        self.number = number
    }

    public init(fields: JSONFields) throws(StreamsError) {
        id = try fields.uuid("id")
        node = try fields.uuid("node")
        number = try fields.uint64("number")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.uuid(id)
        w.key("node"); w.uuid(node)
        w.key("number"); w.uint(number)
        w.endObject()
    }
}

/// A stored record as readers see it (bare JSON).
public struct Entry: WireMessage, Equatable {
    /// Position in the segment, starting at 1; 0 only in an empty Peek result.
    public var sequence: UInt64
    /// Server time of the commit in Unix ms, shared by every entry of one chunk (omitted when 0).
    public var timestamp: Int64
    /// The committing transaction.
    public var trx: TRX
    /// The record's payload.
    public var payload: [UInt8]?
    /// The record's metadata (omitted when empty).
    public var metadata: [String: String]?
    /// The space the entry belongs to.
    public var space: String
    /// The segment the entry belongs to.
    public var segment: String

    /// Creates an entry.
    public init(
        sequence: UInt64, timestamp: Int64, trx: TRX, payload: [UInt8]?, metadata: [String: String]?,
        space: String, segment: String
    ) {
        self.sequence = sequence
        self.timestamp = timestamp
        self.trx = trx
        self.payload = payload
        self.metadata = metadata
        self.space = space
        self.segment = segment
    }

    /// The Peek answer for an empty segment (streamkit v1 §6.3): only space and segment set.
    public static func empty(space: String, segment: String) -> Entry {
        Entry(sequence: 0, timestamp: 0, trx: TRX(id: nil, number: 0), payload: nil, metadata: nil,
              space: space, segment: segment)
    }

    /// This entry's cursor for ConsumeSpace / Consume offsets.
    public var spaceOffset: LexKey {
        .spaceOffset(space: space, timestamp: timestamp, segment: segment, sequence: sequence)
    }

    /// This entry's cursor within its segment.
    public var segmentOffset: LexKey {
        .segmentOffset(space: space, segment: segment, sequence: sequence)
    }

    public init(fields: JSONFields) throws(StreamsError) {
        sequence = try fields.uint64("sequence")
        timestamp = try fields.int64("timestamp")
        trx = try fields.object("trx").map { f throws(StreamsError) in try TRX(fields: f) } ?? TRX(id: nil, number: 0)
        payload = try fields.bytes("payload")
        metadata = try fields.stringMap("metadata")
        space = try fields.string("space")
        segment = try fields.string("segment")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("sequence"); w.uint(sequence)
        if timestamp != 0 { w.key("timestamp"); w.int(timestamp) }
        w.key("trx"); trx.write(to: &w)
        w.key("payload"); w.base64(payload)
        if let metadata, !metadata.isEmpty { w.key("metadata"); w.stringMap(metadata) }
        w.key("space"); w.string(space)
        w.key("segment"); w.string(segment)
        w.endObject()
    }
}

/// A segment's bounds after a commit, or a subscription heartbeat (bare JSON on streams).
public struct SegmentStatus: EnvelopedMessage, Equatable {
    public static let discriminator = "streamkit://api/v1/segment_status"
    /// The space.
    public var space: String
    /// The segment, or `*` in heartbeats of a wildcard subscription.
    public var segment: String
    /// First sequence of the segment.
    public var firstSequence: UInt64
    /// Timestamp of the first entry (Unix ms).
    public var firstTimestamp: Int64
    /// Last (head) sequence.
    public var lastSequence: UInt64
    /// Timestamp of the head entry (Unix ms).
    public var lastTimestamp: Int64
    /// True only for keepalive frames.
    public var heartbeat: Bool

    /// Creates a status.
    public init(
        space: String, segment: String, firstSequence: UInt64 = 0, firstTimestamp: Int64 = 0,
        lastSequence: UInt64 = 0, lastTimestamp: Int64 = 0, heartbeat: Bool = false
    ) {
        self.space = space
        self.segment = segment
        self.firstSequence = firstSequence
        self.firstTimestamp = firstTimestamp
        self.lastSequence = lastSequence
        self.lastTimestamp = lastTimestamp
        self.heartbeat = heartbeat
    }

    public init(fields: JSONFields) throws(StreamsError) {
        space = try fields.string("space")
        segment = try fields.string("segment")
        firstSequence = try fields.uint64("first_sequence")
        firstTimestamp = try fields.int64("first_timestamp")
        lastSequence = try fields.uint64("last_sequence")
        lastTimestamp = try fields.int64("last_timestamp")
        heartbeat = try fields.bool("heartbeat")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("space"); w.string(space)
        w.key("segment"); w.string(segment)
        w.key("first_sequence"); w.uint(firstSequence)
        w.key("first_timestamp"); w.int(firstTimestamp)
        w.key("last_sequence"); w.uint(lastSequence)
        w.key("last_timestamp"); w.int(lastTimestamp)
        w.key("heartbeat"); w.bool(heartbeat)
        w.endObject()
    }
}

/// coordd extension on Produce: the lease a fenced write claims to hold.
public struct Fence: WireMessage, Hashable {
    /// The lease key.
    public var key: String
    /// The fencing token the writer was granted.
    public var token: UInt64

    /// Creates a fence.
    public init(key: String, token: UInt64) {
        self.key = key
        self.token = token
    }

    public init(fields: JSONFields) throws(StreamsError) {
        key = try fields.string("key")
        token = try fields.uint64("token")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("key"); w.string(key)
        w.key("token"); w.uint(token)
        w.endObject()
    }
}

/// Opens a Produce stream: the client then sends bare Records and half-closes; the server answers one
/// SegmentStatus per committed chunk and ends the stream.
public struct Produce: RequestMessage, Equatable {
    public static let discriminator = "streamkit://api/v1/produce"
    /// The space to write to.
    public var space: String
    /// The segment to write to.
    public var segment: String
    /// coordd extension: refuse the write unless this lease is live with this token.
    public var fence: Fence?

    /// Creates a produce request.
    public init(space: String, segment: String, fence: Fence? = nil) {
        self.space = space
        self.segment = segment
        self.fence = fence
    }

    public init(fields: JSONFields) throws(StreamsError) {
        space = try fields.string("space")
        segment = try fields.string("segment")
        fence = try fields.object("fence").map { f throws(StreamsError) in try Fence(fields: f) }
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("space"); w.string(space)
        w.key("segment"); w.string(segment)
        if let fence { w.key("fence"); fence.write(to: &w) }
        w.endObject()
    }
}

/// Asks for a segment's head entry (one bare Entry, then the end).
public struct Peek: RequestMessage, Equatable {
    public static let discriminator = "streamkit://api/v1/peek"
    /// The space.
    public var space: String
    /// The segment.
    public var segment: String

    /// Creates a peek request.
    public init(space: String, segment: String) {
        self.space = space
        self.segment = segment
    }

    public init(fields: JSONFields) throws(StreamsError) {
        space = try fields.string("space")
        segment = try fields.string("segment")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("space"); w.string(space)
        w.key("segment"); w.string(segment)
        w.endObject()
    }
}
