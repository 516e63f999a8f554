// coordd extension: what `assignment_list` answers for one group.

/// One assignment group as `assignment_list` shows it (bare JSON): its declaration, members and partitions.
public struct AssignmentGroupInfo: WireMessage, Equatable {
    /// One member.
    public struct Member: Sendable, Hashable {
        /// The member's id.
        public var memberID: String
        /// Its weight.
        public var weight: Int64
        /// True while its presence lasts; false while absent within its grace period.
        public var present: Bool
        /// For an absent member: when its grace period ends, server wall-clock Unix ms.
        public var returnsBy: Int64?
        /// Partitions it owns, is releasing or has reserved.
        public var holding: Int
        /// Partitions the plan gives it.
        public var target: Int
        /// The zone it declared, if any.
        public var zone: String?

        /// Creates an entry.
        public init(
            memberID: String, weight: Int64, present: Bool, returnsBy: Int64? = nil, holding: Int, target: Int,
            zone: String? = nil
        ) {
            self.memberID = memberID
            self.weight = weight
            self.present = present
            self.returnsBy = returnsBy
            self.holding = holding
            self.target = target
            self.zone = zone
        }
    }

    /// One partition.
    public struct Partition: Sendable, Hashable {
        /// Where a partition stands.
        public enum State: String, Sendable, Hashable {
            /// Nobody holds it (the group has no present member to give it to, or none in its zone).
            case unowned
            /// Its owner holds its lease.
            case owned
            /// Kept, unleased, for its absent owner until `returns_by`.
            case reserved
            /// Its owner was asked to release it by `release_by`.
            case releasing
        }

        /// The partition's name.
        public var partition: String
        /// Where it stands.
        public var state: State
        /// Its owner (owned, releasing) or the absent member it is kept for (reserved).
        public var owner: String?
        /// The owner's lease token (owned, releasing).
        public var fence: UInt64?
        /// When a reservation ends, server wall-clock Unix ms.
        public var returnsBy: Int64?
        /// When a release is due, server wall-clock Unix ms.
        public var releaseBy: Int64?
        /// Where the plan puts it, when that is not its owner.
        public var target: String?
        /// True for a partition an update removed that is still being released.
        public var removed: Bool
        /// The zone the partition is pinned to, if any.
        public var zone: String?
        /// Why nobody can be given the partition although members are present (`no member in zone a`).
        public var unplaceable: String?

        /// Creates an entry.
        public init(
            partition: String, state: State, owner: String? = nil, fence: UInt64? = nil, returnsBy: Int64? = nil,
            releaseBy: Int64? = nil, target: String? = nil, removed: Bool = false, zone: String? = nil,
            unplaceable: String? = nil
        ) {
            self.partition = partition
            self.state = state
            self.owner = owner
            self.fence = fence
            self.returnsBy = returnsBy
            self.releaseBy = releaseBy
            self.target = target
            self.removed = removed
            self.zone = zone
            self.unplaceable = unplaceable
        }
    }

    /// The group's name.
    public var group: String
    /// Its partitions (declared; removed ones still being released are listed but not counted).
    public var partitionCount: Int
    /// Its grace period, ms.
    public var graceMs: Int64
    /// Its release bound, ms.
    public var revokeAfterMs: Int64
    /// Its members, by id.
    public var members: [Member]
    /// Its partitions, in declared order, then the removed ones.
    public var partitions: [Partition]

    /// Creates a listing.
    public init(group: String, partitionCount: Int, graceMs: Int64, revokeAfterMs: Int64, members: [Member], partitions: [Partition]) {
        self.group = group
        self.partitionCount = partitionCount
        self.graceMs = graceMs
        self.revokeAfterMs = revokeAfterMs
        self.members = members
        self.partitions = partitions
    }

    public init(fields: JSONFields) throws(StreamsError) {
        group = try fields.string("group")
        partitionCount = Int(try fields.uint64("partition_count"))
        graceMs = try fields.int64("grace_ms")
        revokeAfterMs = try fields.int64("revoke_after_ms")
        members = try fields.objects("members").map { m throws(StreamsError) in
            Member(
                memberID: try m.string("member_id"), weight: try m.int64("weight"), present: try m.bool("present"),
                returnsBy: try m.optionalInt64("returns_by"), holding: Int(try m.uint64("holding")),
                target: Int(try m.uint64("target")), zone: try m.optionalString("zone"))
        }
        partitions = try fields.objects("partitions").map { p throws(StreamsError) in
            let text = try p.string("state")
            guard let state = Partition.State(rawValue: text) else {
                throw .malformed("field \"state\": unknown partition state \"\(InputExcerpt.excerpt(text))\"")
            }
            return Partition(
                partition: try p.string("partition"), state: state, owner: try p.optionalString("owner"),
                fence: try p.optionalUInt64("fence"), returnsBy: try p.optionalInt64("returns_by"),
                releaseBy: try p.optionalInt64("release_by"), target: try p.optionalString("target"),
                removed: try p.bool("removed"), zone: try p.optionalString("zone"),
                unplaceable: try p.optionalString("unplaceable"))
        }
    }

    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("group"); w.string(group)
        w.key("partition_count"); w.int(Int64(partitionCount))
        w.key("grace_ms"); w.int(graceMs)
        w.key("revoke_after_ms"); w.int(revokeAfterMs)
        w.key("members"); w.beginArray()
        for m in members {
            w.beginObject()
            w.key("member_id"); w.string(m.memberID)
            w.key("weight"); w.int(m.weight)
            w.key("present"); w.bool(m.present)
            if let returnsBy = m.returnsBy { w.key("returns_by"); w.int(returnsBy) }
            w.key("holding"); w.int(Int64(m.holding))
            w.key("target"); w.int(Int64(m.target))
            if let zone = m.zone { w.key("zone"); w.string(zone) }
            w.endObject()
        }
        w.endArray()
        w.key("partitions"); w.beginArray()
        for p in partitions {
            w.beginObject()
            w.key("partition"); w.string(p.partition)
            w.key("state"); w.string(p.state.rawValue)
            if let owner = p.owner { w.key("owner"); w.string(owner) }
            if let fence = p.fence { w.key("fence"); w.uint(fence) }
            if let returnsBy = p.returnsBy { w.key("returns_by"); w.int(returnsBy) }
            if let releaseBy = p.releaseBy { w.key("release_by"); w.int(releaseBy) }
            if let target = p.target { w.key("target"); w.string(target) }
            if p.removed { w.key("removed"); w.bool(true) }
            if let zone = p.zone { w.key("zone"); w.string(zone) }
            if let unplaceable = p.unplaceable { w.key("unplaceable"); w.string(unplaceable) }
            w.endObject()
        }
        w.endArray()
        w.endObject()
    }
}

// Readers and writers for the lists these messages carry.
extension JSONFields {
    /// An optional string member: nil when missing or null.
    func optionalString(_ key: String) throws(StreamsError) -> String? {
        guard let value = members[key], value != .null else { return nil }
        return try string(key)
    }

    /// An array of strings; missing or null → [].
    func strings(_ key: String) throws(StreamsError) -> [String] {
        try array(key).map { item throws(StreamsError) in
            guard case .string(let text) = item else {
                throw .malformed("field \"\(key)\": expected an array of strings, got an element of type \(item.typeName)")
            }
            return text
        }
    }

    /// An array of objects; missing or null → [].
    func objects(_ key: String) throws(StreamsError) -> [JSONFields] {
        try array(key).map { item throws(StreamsError) in try JSONFields(item) }
    }
}

extension JSONWriter {
    /// An array of strings.
    mutating func strings(_ values: [String]) {
        beginArray()
        for value in values { string(value) }
        endArray()
    }
}
