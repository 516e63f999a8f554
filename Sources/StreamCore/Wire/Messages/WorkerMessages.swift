// Worker presence and inventory (streamkit v1 §2.3 and §4), with coordd's additive fields.

/// Opens a worker inventory stream: as a worker (with `workerID`) or as an observer (without).
public struct SubscribeWorkers: RequestMessage, Equatable {
    public static let discriminator = "streamkit://api/v1/subscribe_workers"
    /// The worker's id; nil (the nil UUID on the wire) for an observer.
    public var workerID: WireUUID?
    /// The worker's metadata (omitted when empty).
    public var metadata: [String: String]?
    /// Server heartbeat period in seconds: ≤ 0 none, else clamped to [1, 300]; always written.
    public var heartbeatIntervalSeconds: Int64
    /// coordd extension: the period in milliseconds, overriding the seconds when > 0.
    public var heartbeatIntervalMs: Int64?
    /// coordd extension: receive `worker_inventory_delta` messages after the first snapshot.
    public var deltas: Bool
    /// coordd extension: resume deltas after this revision when it is still retained.
    public var sinceRevision: UInt64?
    /// coordd extension: the epoch `sinceRevision` belongs to; the deltas resume only in that epoch
    /// (a restarted server counts revisions again, in a new epoch), otherwise a snapshot comes.
    public var sinceEpoch: UInt64?
    /// coordd extension: a worker that registers and renews without receiving the inventory; it gets
    /// Presence messages only, the first one acknowledging the registration.
    public var presenceOnly: Bool

    /// Creates a subscription.
    public init(
        workerID: WireUUID?, metadata: [String: String]? = nil, heartbeatIntervalSeconds: Int64 = 0,
        heartbeatIntervalMs: Int64? = nil, deltas: Bool = false, sinceRevision: UInt64? = nil,
        sinceEpoch: UInt64? = nil, presenceOnly: Bool = false
    ) {
        self.workerID = workerID
        self.metadata = metadata
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
        self.heartbeatIntervalMs = heartbeatIntervalMs
        self.deltas = deltas
        self.sinceRevision = sinceRevision
        self.sinceEpoch = sinceEpoch
        self.presenceOnly = presenceOnly
    }

    public init(fields: JSONFields) throws(StreamsError) {
        workerID = try fields.uuid("worker_id")
        metadata = try fields.stringMap("metadata")
        heartbeatIntervalSeconds = try fields.int64("heartbeat_interval_seconds")
        heartbeatIntervalMs = try fields.optionalInt64("heartbeat_interval_ms")
        deltas = try fields.bool("deltas")
        sinceRevision = try fields.optionalUInt64("since_revision")
        sinceEpoch = try fields.optionalUInt64("since_epoch")
        presenceOnly = try fields.bool("presence_only")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("worker_id"); w.uuid(workerID)
        if let metadata, !metadata.isEmpty { w.key("metadata"); w.stringMap(metadata) }
        w.key("heartbeat_interval_seconds"); w.int(heartbeatIntervalSeconds)
        if let heartbeatIntervalMs { w.key("heartbeat_interval_ms"); w.int(heartbeatIntervalMs) }
        if deltas { w.key("deltas"); w.bool(true) }
        if let sinceRevision { w.key("since_revision"); w.uint(sinceRevision) }
        if let sinceEpoch { w.key("since_epoch"); w.uint(sinceEpoch) }
        if presenceOnly { w.key("presence_only"); w.bool(true) }
        w.endObject()
    }
}

/// One worker in an inventory.
public struct WorkerInfo: WireMessage, Equatable {
    /// The worker's id.
    public var workerID: WireUUID?
    /// Its metadata (omitted when empty).
    public var metadata: [String: String]?
    /// Server wall-clock time of its last registration or renewal, Unix ms.
    public var lastSeenAt: Int64

    /// Creates a worker entry.
    public init(workerID: WireUUID?, metadata: [String: String]?, lastSeenAt: Int64) {
        self.workerID = workerID
        self.metadata = metadata
        self.lastSeenAt = lastSeenAt
    }

    public init(fields: JSONFields) throws(StreamsError) {
        workerID = try fields.uuid("worker_id")
        metadata = try fields.stringMap("metadata")
        lastSeenAt = try fields.int64("last_seen_at")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("worker_id"); w.uuid(workerID)
        if let metadata, !metadata.isEmpty { w.key("metadata"); w.stringMap(metadata) }
        w.key("last_seen_at"); w.int(lastSeenAt)
        w.endObject()
    }
}

/// The full worker inventory at one revision (enveloped on SubscribeWorkers streams).
public struct WorkerInventory: EnvelopedMessage, Equatable {
    public static let discriminator = "streamkit://api/v1/worker_inventory"
    /// Workers in ascending byte order of their ids; `[]`, never null, when empty.
    public var workers: [WorkerInfo]
    /// Server wall-clock time the snapshot was built, Unix ms.
    public var timestamp: Int64
    /// coordd extension: the inventory revision, +1 per membership change; absent from streamkit servers.
    public var revision: UInt64?
    /// coordd extension: which history `revision` counts in; a restarted server starts a new epoch
    /// (and counts revisions from 0 again).
    public var epoch: UInt64?

    /// Creates an inventory.
    public init(workers: [WorkerInfo], timestamp: Int64, revision: UInt64? = nil, epoch: UInt64? = nil) {
        self.workers = workers
        self.timestamp = timestamp
        self.revision = revision
        self.epoch = epoch
    }

    public init(fields: JSONFields) throws(StreamsError) {
        workers = try fields.array("workers").map { v throws(StreamsError) in try WorkerInfo(fields: JSONFields(v)) }
        timestamp = try fields.int64("timestamp")
        revision = try fields.optionalUInt64("revision")
        epoch = try fields.optionalUInt64("epoch")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("workers")
        w.beginArray()
        for worker in workers { worker.write(to: &w) }
        w.endArray()
        w.key("timestamp"); w.int(timestamp)
        if let revision { w.key("revision"); w.uint(revision) }
        if let epoch { w.key("epoch"); w.uint(epoch) }
        w.endObject()
    }
}

/// A presence message: a worker's renewal (`heartbeat: false`) or the server's keepalive (`true`).
public struct Presence: EnvelopedMessage, Equatable {
    public static let discriminator = "streamkit://api/v1/presence"
    /// The worker.
    public var workerID: WireUUID?
    /// True for server → client keepalives, false for client → server renewals.
    public var heartbeat: Bool
    /// Sender's wall-clock time, Unix ms (coordd never trusts a client's value for liveness).
    public var timestamp: Int64

    /// Creates a presence message.
    public init(workerID: WireUUID?, heartbeat: Bool, timestamp: Int64) {
        self.workerID = workerID
        self.heartbeat = heartbeat
        self.timestamp = timestamp
    }

    public init(fields: JSONFields) throws(StreamsError) {
        workerID = try fields.uuid("worker_id")
        heartbeat = try fields.bool("heartbeat")
        timestamp = try fields.int64("timestamp")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("worker_id"); w.uuid(workerID)
        w.key("heartbeat"); w.bool(heartbeat)
        w.key("timestamp"); w.int(timestamp)
        w.endObject()
    }
}

/// A bus message carrying an inventory (reserved by streamkit, unused; kept for wire compatibility).
public struct WorkerInventoryNotification: EnvelopedMessage, Equatable {
    public static let discriminator = "streamkit://api/v1/worker_inventory_notification"
    /// The store.
    public var storeID: WireUUID?
    /// The inventory.
    public var inventory: WorkerInventory

    /// Creates a notification.
    public init(storeID: WireUUID?, inventory: WorkerInventory) {
        self.storeID = storeID
        self.inventory = inventory
    }

    public init(fields: JSONFields) throws(StreamsError) {
        storeID = try fields.uuid("store_id")
        inventory = try fields.object("inventory").map { f throws(StreamsError) in try WorkerInventory(fields: f) }
            ?? WorkerInventory(workers: [], timestamp: 0)
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("store_id"); w.uuid(storeID)
        w.key("inventory"); inventory.write(to: &w)
        w.endObject()
    }
}

/// coordd extension: the membership change of one revision, for subscribers that asked for deltas.
public struct WorkerInventoryDelta: EnvelopedMessage, Equatable {
    public static let discriminator = "coordd://api/v1/worker_inventory_delta"
    /// The revision this delta produces (the previous one + 1).
    public var revision: UInt64
    /// Workers that joined.
    public var joined: [WorkerInfo]
    /// Ids of workers that left (stream ended, evicted, or replaced away).
    public var left: [WireUUID]
    /// Workers whose entry changed (re-registered by a new stream).
    public var updated: [WorkerInfo]
    /// The epoch `revision` counts in (see ``WorkerInventory/epoch``).
    public var epoch: UInt64?

    /// Creates a delta.
    public init(revision: UInt64, joined: [WorkerInfo], left: [WireUUID], updated: [WorkerInfo], epoch: UInt64? = nil) {
        self.revision = revision
        self.joined = joined
        self.left = left
        self.updated = updated
        self.epoch = epoch
    }

    public init(fields: JSONFields) throws(StreamsError) {
        revision = try fields.uint64("revision")
        joined = try fields.array("joined").map { v throws(StreamsError) in try WorkerInfo(fields: JSONFields(v)) }
        left = try fields.array("left").map { v throws(StreamsError) in
            guard case .string(let s) = v, let id = WireUUID(s) else { throw .malformed("field \"left\": invalid UUID") }
            return id
        }
        updated = try fields.array("updated").map { v throws(StreamsError) in try WorkerInfo(fields: JSONFields(v)) }
        epoch = try fields.optionalUInt64("epoch")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("revision"); w.uint(revision)
        w.key("joined")
        w.beginArray()
        for worker in joined { worker.write(to: &w) }
        w.endArray()
        w.key("left")
        w.beginArray()
        for id in left { w.uuid(id) }
        w.endArray()
        w.key("updated")
        w.beginArray()
        for worker in updated { worker.write(to: &w) }
        w.endArray()
        if let epoch { w.key("epoch"); w.uint(epoch) }
        w.endObject()
    }
}
