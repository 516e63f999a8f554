import Assignment
import StreamCore

/// Named limits of the assignment service beyond the engine's own, with where each value comes from.
public struct AssignmentServiceLimits: Sendable {
    /// The engine's limits: groups per store, members and partitions per group, weights, names, timings.
    public var engine = AssignmentLimits()
    /// Shortest renewal interval of a `member_id` member: 100 ms, as for the inventory's sub-second workers.
    public var minHeartbeatIntervalMs: Int64 = 100
    /// Longest renewal interval: 300 s, streamkit's longest presence interval (v1 §4.2).
    public var maxHeartbeatIntervalMs: Int64 = 300_000
    /// Renewal interval when the request names none: 30 s, streamkit's default presence interval.
    public var defaultHeartbeatIntervalMs: Int64 = 30_000
    /// Groups one `assignment_list` answer may hold: a store holds at most `engine.maxGroups`.
    public var maxListedGroups = 1_000

    /// The default limits.
    public init() {}
}

/// The lease keys of assignment groups: `$assign/<group>/<partition>`. The prefix is the service's own:
/// plain lease requests on it are refused, so no grant ever meets a lease from outside.
enum AssignmentKeys {
    /// Every assignment lease key starts with this.
    static let prefix = "$assign/"

    /// The lease key of `partition` in `group`.
    static func key(group: String, partition: String) -> String { "\(prefix)\(group)/\(partition)" }

    /// The error for a plain lease request on an assignment key.
    static func refusal(_ key: String) -> StreamsError? {
        guard key.hasPrefix(prefix) else { return nil }
        return .invalidRequest("lease keys under \(prefix) belong to partition assignment; use subscribe_assignments")
    }

    /// The operation that refuses a plain lease request on `key` (an assignment key).
    static func refusing(_ key: String) -> Node.Operation {
        let error = refusal(key) ?? .invalidRequest("lease key \(key) is reserved")
        return { _ throws(StreamsError) in throw error }
    }
}
