// coordd extension: partition assignment. A member subscribes to a group and receives its share of the
// group's partitions, each under a fenced lease bound to the member's presence (docs/assignments.md).

extension StreamsError {
    /// A member declared a group's partitions, pins or timings differently from the group's first declaration.
    public static func assignmentDeclarationMismatch(_ message: String) -> StreamsError {
        StreamsError(.permanent, name: "assignment_declaration_mismatch", message: message)
    }

    /// Another stream subscribed with the same member id; this one no longer speaks for the member.
    public static let memberReplaced = StreamsError(
        .permanent, name: "member_replaced", message: "member_id subscribed by another stream")
}

/// A group's partitions as a request declares them: a count (`partitions`) or names (`partition_names`).
public enum PartitionDeclaration: Sendable, Hashable {
    /// `n` partitions named `"0"` … `"n-1"`.
    case count(Int64)
    /// Partitions with these names, in this order.
    case names([String])

    /// Reads `partitions` / `partition_names` from `fields`; nil when neither is present, an error when both are.
    static func read(_ fields: JSONFields) throws(StreamsError) -> PartitionDeclaration? {
        let count = try fields.optionalInt64("partitions")
        let hasNames = fields.members["partition_names"].map { $0 != .null } ?? false
        switch (count, hasNames) {
        case (nil, false): return nil
        case (let count?, false): return .count(count)
        case (nil, true): return .names(try fields.strings("partition_names"))
        case (.some, true): throw .malformed("fields \"partitions\" and \"partition_names\" exclude each other")
        }
    }

    func write(to w: inout JSONWriter) {
        switch self {
        case .count(let count):
            w.key("partitions"); w.int(count)
        case .names(let names):
            w.key("partition_names"); w.strings(names)
        }
    }
}

/// coordd extension: a member joins an assignment group and receives its assignment until the stream ends.
///
/// The member names itself with exactly one of `member_id` (its presence is this stream, renewed with
/// `{"op":"renew"}`) and `worker_id` (its presence is that registered worker's), and may declare its `zone`.
/// The first member's declaration (partitions, their pins to zones, and timings) creates the group; a later one that declares differently is refused
/// with `assignment_declaration_mismatch`. Then the server sends ``AssignmentUpdate``s and the member sends
/// ``AssignmentCommand``s, both bare.
public struct SubscribeAssignments: RequestMessage, Equatable {
    public static let discriminator = "coordd://api/v1/subscribe_assignments"
    /// The group's name.
    public var group: String
    /// The member's own id (its presence is this stream).
    public var memberID: String?
    /// A registered worker whose presence is the member's (its member id is the worker id's text).
    public var workerID: WireUUID?
    /// The member's weight (relative capacity); nil means 1.
    public var weight: Int64?
    /// The member's zone; only members of a zone receive the partitions pinned to it. Nil: no zone.
    public var zone: String?
    /// The group's partitions; nil to join the group as it is.
    public var partitions: PartitionDeclaration?
    /// The group's pins, partition name → zone (`partition_zones`); nil to take the group's, empty for none.
    public var partitionZones: [String: String]?
    /// The group's grace period for absent members, in milliseconds; nil for the group's (or the default).
    public var graceMs: Int64?
    /// How long a member may take to release a partition, in milliseconds; nil for the group's (or the default).
    public var revokeAfterMs: Int64?
    /// How often a `member_id` member renews its presence, in milliseconds; nil for the default.
    public var heartbeatIntervalMs: Int64?

    /// Creates a request.
    public init(
        group: String, memberID: String? = nil, workerID: WireUUID? = nil, weight: Int64? = nil,
        partitions: PartitionDeclaration? = nil, graceMs: Int64? = nil, revokeAfterMs: Int64? = nil,
        heartbeatIntervalMs: Int64? = nil, zone: String? = nil, partitionZones: [String: String]? = nil
    ) {
        self.group = group
        self.memberID = memberID
        self.workerID = workerID
        self.weight = weight
        self.zone = zone
        self.partitions = partitions
        self.partitionZones = partitionZones
        self.graceMs = graceMs
        self.revokeAfterMs = revokeAfterMs
        self.heartbeatIntervalMs = heartbeatIntervalMs
    }

    public init(fields: JSONFields) throws(StreamsError) {
        group = try fields.string("group")
        memberID = try fields.optionalString("member_id")
        workerID = try fields.uuid("worker_id")
        weight = try fields.optionalInt64("weight")
        zone = try fields.optionalString("zone")
        partitions = try PartitionDeclaration.read(fields)
        partitionZones = try fields.stringMap("partition_zones")
        graceMs = try fields.optionalInt64("grace_ms")
        revokeAfterMs = try fields.optionalInt64("revoke_after_ms")
        heartbeatIntervalMs = try fields.optionalInt64("heartbeat_interval_ms")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("group"); w.string(group)
        if let memberID { w.key("member_id"); w.string(memberID) }
        if let workerID { w.key("worker_id"); w.uuid(workerID) }
        if let weight { w.key("weight"); w.int(weight) }
        if let zone { w.key("zone"); w.string(zone) }
        partitions?.write(to: &w)
        if let partitionZones { w.key("partition_zones"); w.stringMap(partitionZones) }
        if let graceMs { w.key("grace_ms"); w.int(graceMs) }
        if let revokeAfterMs { w.key("revoke_after_ms"); w.int(revokeAfterMs) }
        if let heartbeatIntervalMs { w.key("heartbeat_interval_ms"); w.int(heartbeatIntervalMs) }
        w.endObject()
    }
}

/// What a member sends on its ``SubscribeAssignments`` stream (bare JSON, `op` first).
public enum AssignmentCommand: WireMessage, Equatable {
    /// `{"op":"released","partitions":[…]}`: the member stopped working on these partitions.
    case released([String])
    /// `{"op":"renew"}`: presence renewal of a `member_id` member.
    case renew
    /// `{"op":"update_group",…}`: changes the group's declaration (each field optional; without
    /// `partition_zones` the pins of the partitions still declared stay).
    case updateGroup(
        partitions: PartitionDeclaration?, graceMs: Int64?, revokeAfterMs: Int64?, partitionZones: [String: String]? = nil)
    /// `{"op":"leave"}`: leave the group now, without grace.
    case leave

    public init(fields: JSONFields) throws(StreamsError) {
        switch try fields.string("op") {
        case "released": self = .released(try fields.strings("partitions"))
        case "renew": self = .renew
        case "leave": self = .leave
        case "update_group":
            self = .updateGroup(
                partitions: try PartitionDeclaration.read(fields), graceMs: try fields.optionalInt64("grace_ms"),
                revokeAfterMs: try fields.optionalInt64("revoke_after_ms"), partitionZones: try fields.stringMap("partition_zones"))
        case let other:
            throw .invalidRequest("unknown assignment op \"\(InputExcerpt.excerpt(other))\"")
        }
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        switch self {
        case .released(let names):
            w.key("op"); w.string("released")
            w.key("partitions"); w.strings(names)
        case .renew:
            w.key("op"); w.string("renew")
        case .leave:
            w.key("op"); w.string("leave")
        case .updateGroup(let partitions, let graceMs, let revokeAfterMs, let partitionZones):
            w.key("op"); w.string("update_group")
            partitions?.write(to: &w)
            if let graceMs { w.key("grace_ms"); w.int(graceMs) }
            if let revokeAfterMs { w.key("revoke_after_ms"); w.int(revokeAfterMs) }
            if let partitionZones { w.key("partition_zones"); w.stringMap(partitionZones) }
        }
        w.endObject()
    }
}

/// One partition in a member's assignment: its name, its lease key and the lease's fencing token.
public struct AssignedPartition: Sendable, Hashable {
    /// The partition's name.
    public var partition: String
    /// The fencing token of the member's lease on it; writes carry it as `fence`.
    public var fence: UInt64
    /// The lease key, `$assign/<group>/<partition>`.
    public var key: String
    /// For a partition being released: when it is revoked unless released first, server wall-clock Unix ms.
    public var releaseBy: Int64?

    /// Creates an entry.
    public init(partition: String, fence: UInt64, key: String, releaseBy: Int64? = nil) {
        self.partition = partition
        self.fence = fence
        self.key = key
        self.releaseBy = releaseBy
    }

    /// The `fence` for a produce under this partition's lease.
    public var produceFence: Fence { Fence(key: key, token: fence) }

    init(fields: JSONFields) throws(StreamsError) {
        partition = try fields.string("partition")
        fence = try fields.uint64("fence")
        key = try fields.string("key")
        releaseBy = try fields.optionalInt64("release_by")
    }

    func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("partition"); w.string(partition)
        w.key("fence"); w.uint(fence)
        w.key("key"); w.string(key)
        if let releaseBy { w.key("release_by"); w.int(releaseBy) }
        w.endObject()
    }
}

/// The server's message on a ``SubscribeAssignments`` stream: the member's whole current assignment.
///
/// A partition in neither list is not the member's: it released it, or it was revoked.
public struct AssignmentUpdate: WireMessage, Equatable {
    /// The group.
    public var group: String
    /// The member.
    public var memberID: String
    /// Grows by one per message on this stream.
    public var revision: UInt64
    /// The group's partitions.
    public var partitionCount: Int
    /// The group's members, present or within their grace period.
    public var members: Int
    /// Partitions to work on, with their fences.
    public var owned: [AssignedPartition]
    /// Partitions to stop working on and acknowledge (`{"op":"released"}`) before their `release_by`.
    public var releasing: [AssignedPartition]

    /// Creates an update.
    public init(
        group: String, memberID: String, revision: UInt64, partitionCount: Int, members: Int,
        owned: [AssignedPartition], releasing: [AssignedPartition]
    ) {
        self.group = group
        self.memberID = memberID
        self.revision = revision
        self.partitionCount = partitionCount
        self.members = members
        self.owned = owned
        self.releasing = releasing
    }

    public init(fields: JSONFields) throws(StreamsError) {
        group = try fields.string("group")
        memberID = try fields.string("member_id")
        revision = try fields.uint64("revision")
        partitionCount = Int(try fields.uint64("partition_count"))
        members = Int(try fields.uint64("members"))
        owned = try fields.objects("owned").map { item throws(StreamsError) in try AssignedPartition(fields: item) }
        releasing = try fields.objects("releasing").map { item throws(StreamsError) in try AssignedPartition(fields: item) }
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("group"); w.string(group)
        w.key("member_id"); w.string(memberID)
        w.key("revision"); w.uint(revision)
        w.key("partition_count"); w.int(Int64(partitionCount))
        w.key("members"); w.int(Int64(members))
        w.key("owned"); w.beginArray()
        for entry in owned { entry.write(to: &w) }
        w.endArray()
        w.key("releasing"); w.beginArray()
        for entry in releasing { entry.write(to: &w) }
        w.endArray()
        w.endObject()
    }
}

/// coordd extension: lists assignment groups. The server answers with one bare ``AssignmentGroupInfo`` per
/// group (the named one, or every group in name order up to `limit` when `group` is empty), then ends.
public struct AssignmentList: RequestMessage, Equatable {
    public static let discriminator = "coordd://api/v1/assignment_list"
    /// The group to show; empty for every group.
    public var group: String
    /// The most groups to answer; 0 for the server's limit.
    public var limit: UInt64

    /// Creates a request.
    public init(group: String = "", limit: UInt64 = 0) {
        self.group = group
        self.limit = limit
    }

    public init(fields: JSONFields) throws(StreamsError) {
        group = try fields.string("group")
        limit = try fields.uint64("limit")
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("group"); w.string(group)
        if limit > 0 { w.key("limit"); w.uint(limit) }
        w.endObject()
    }
}
