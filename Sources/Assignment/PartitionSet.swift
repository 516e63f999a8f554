/// A group's partitions, declared as a count or as a list of names, held one way: the ordered list of names.
///
/// A count `n` means the names `"0"` … `"n-1"`, so `count(3)` and `named(["0", "1", "2"])` are the same
/// declaration. Order matters: it is the order the planner spreads partitions in. Only validated sets exist.
public struct PartitionSet: Sendable, Hashable {
    /// The partition names, in declared order, each unique.
    public let names: [String]

    private init(names: [String]) { self.names = names }

    /// The partitions `"0"` … `"count-1"`, or why `count` is refused.
    public static func count(_ count: Int, limits: AssignmentLimits) -> Result<PartitionSet, AssignmentRejection> {
        guard (1...limits.maxPartitions).contains(count) else {
            return .failure(.invalidPartitionCount(count, limit: limits.maxPartitions))
        }
        return .success(PartitionSet(names: (0..<count).map(String.init)))
    }

    /// The partitions named `names`, in that order, or why the list is refused: its length is outside
    /// 1…`maxPartitions`, a name is not a valid name, or a name appears twice.
    public static func named(_ names: [String], limits: AssignmentLimits) -> Result<PartitionSet, AssignmentRejection> {
        guard (1...limits.maxPartitions).contains(names.count) else {
            return .failure(.invalidPartitionCount(names.count, limit: limits.maxPartitions))
        }
        var seen = Set<String>(minimumCapacity: names.count)
        for name in names {
            if let problem = limits.problem(with: name, as: .partition) { return .failure(problem) }
            guard seen.insert(name).inserted else { return .failure(.duplicatePartition(name)) }
        }
        return .success(PartitionSet(names: names))
    }

    /// The number of partitions.
    public var count: Int { names.count }
}

/// A group's two durations, validated.
public struct AssignmentTimings: Sendable, Hashable {
    /// How long a member whose presence ended keeps its partitions before they are reassigned (0: none).
    public let graceMs: Int64
    /// How long a member asked to release a partition may take before it is revoked.
    public let revokeAfterMs: Int64

    private init(graceMs: Int64, revokeAfterMs: Int64) {
        self.graceMs = graceMs
        self.revokeAfterMs = revokeAfterMs
    }

    /// The limits' defaults.
    public static func defaults(_ limits: AssignmentLimits) -> AssignmentTimings {
        AssignmentTimings(graceMs: limits.defaultGraceMs, revokeAfterMs: limits.defaultRevokeAfterMs)
    }

    /// The timings a group declared, each defaulting to the limits' default when absent, or why one is refused.
    public static func validated(
        graceMs: Int64?, revokeAfterMs: Int64?, limits: AssignmentLimits
    ) -> Result<AssignmentTimings, AssignmentRejection> {
        let grace = graceMs ?? limits.defaultGraceMs
        let revoke = revokeAfterMs ?? limits.defaultRevokeAfterMs
        guard (0...limits.maxGraceMs).contains(grace) else {
            return .failure(.invalidGraceMs(grace, limit: limits.maxGraceMs))
        }
        guard (1...limits.maxRevokeAfterMs).contains(revoke) else {
            return .failure(.invalidRevokeAfterMs(revoke, limit: limits.maxRevokeAfterMs))
        }
        return .success(AssignmentTimings(graceMs: grace, revokeAfterMs: revoke))
    }
}
