/// What a name names, so that a refusal can say which field was wrong.
public enum AssignmentName: String, Sendable, Hashable {
    /// A member id (`member_id`, or a worker id's text).
    case member = "member id"
    /// A partition name.
    case partition = "partition name"
    /// A group name.
    case group = "group name"
    /// A zone: a member's, or one a partition is pinned to.
    case zone = "zone"
}

/// Why the engine refused an input. Operating errors, answered to the client, never a crash; nothing changed.
public enum AssignmentRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// A member id, partition name or group name is empty, too long, or not visible ASCII.
    case invalidName(AssignmentName, name: String, reason: String)
    /// A member weight outside 1…`AssignmentLimits.maxWeight`.
    case invalidWeight(Int, limit: Int)
    /// A partition count outside 1…`AssignmentLimits.maxPartitions`.
    case invalidPartitionCount(Int, limit: Int)
    /// A partition list names the same partition twice.
    case duplicatePartition(String)
    /// A grace period outside 0…`AssignmentLimits.maxGraceMs`.
    case invalidGraceMs(Int64, limit: Int64)
    /// A release bound outside 1…`AssignmentLimits.maxRevokeAfterMs`.
    case invalidRevokeAfterMs(Int64, limit: Int64)
    /// The group already holds `AssignmentLimits.maxMembers` members.
    case tooManyMembers(limit: Int)
    /// The store already holds `AssignmentLimits.maxGroups` groups.
    case tooManyGroups(limit: Int)
    /// An update would leave more than `AssignmentLimits.maxPartitions` partitions in hand, counting those an
    /// earlier update removed that are still being released.
    case tooManyPartitionsInHand(limit: Int)
    /// A zone map pins a partition the group does not declare (its name, cut to 32 characters).
    case unknownPinnedPartition(String)
    /// A zone map names more distinct zones than `AssignmentLimits.maxZones`.
    case tooManyZones(limit: Int)
    /// A member joined while it is already present: the shell ends the older presence first (`disconnect`).
    case memberAlreadyPresent(MemberID)
    /// The member is not present in the group (never joined, left, or absent).
    case memberNotPresent(MemberID)
    /// The member is not in the group at all.
    case unknownMember(MemberID)

    /// True when a named limit was passed (the shell's `limit_exceeded`); false for a malformed or
    /// out-of-order request (`invalid_request`).
    public var exceedsLimit: Bool {
        switch self {
        case .tooManyMembers, .tooManyGroups, .tooManyPartitionsInHand, .tooManyZones: true
        case .invalidPartitionCount(let count, let limit): count > limit
        default: false
        }
    }

    /// The text the client receives.
    public var message: String {
        switch self {
        case .invalidName(let kind, let name, let reason):
            "\(kind.rawValue) \"\(name)\" \(reason)"
        case .invalidWeight(let weight, let limit):
            "weight \(weight) is outside 1...\(limit)"
        case .invalidPartitionCount(let count, let limit):
            "partition count \(count) is outside 1...\(limit)"
        case .duplicatePartition(let name):
            "partition \"\(name)\" is named twice"
        case .invalidGraceMs(let value, let limit):
            "grace_ms \(value) is outside 0...\(limit)"
        case .invalidRevokeAfterMs(let value, let limit):
            "revoke_after_ms \(value) is outside 1...\(limit)"
        case .tooManyMembers(let limit):
            "too many members in the group (limit \(limit))"
        case .tooManyGroups(let limit):
            "too many assignment groups (limit \(limit))"
        case .tooManyPartitionsInHand(let limit):
            "too many partitions declared or still being released (limit \(limit))"
        case .unknownPinnedPartition(let name):
            "partition_zones pins partition \"\(name)\", which the group does not declare"
        case .tooManyZones(let limit):
            "partition_zones names too many zones (limit \(limit))"
        case .memberAlreadyPresent(let member):
            "member \(member) is already present in the group"
        case .memberNotPresent(let member):
            "member \(member) is not present in the group"
        case .unknownMember(let member):
            "member \(member) is not in the group"
        }
    }

    /// Same as `message`.
    public var description: String { message }
}
