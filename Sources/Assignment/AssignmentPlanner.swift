/// The target assignment of a group's partitions to its members: balanced by weight, sticky, deterministic
/// and spread. A pure function; `AssignmentGroup` calls it on every membership change.
///
/// **Balance.** With `n` partitions and weights `w_m` summing to `W`, member `m`'s share is `s_m = n·w_m/W`.
/// Every member gets `⌊s_m⌋` or `⌈s_m⌉` partitions, and together exactly `n` (every partition is placed):
/// each member first gets `⌊s_m⌋`, and the `r = n − Σ⌊s_m⌋` partitions left over go one each to `r` members
/// whose share is fractional (there are always enough: `r = Σ frac(s_m)` is an integer below their number).
///
/// **Stickiness.** A partition moves when its current owner is a member and the target names another; a
/// partition with no current owner (or one that is not a member) is placed, not moved. For quotas `q_m`, a
/// member that holds `c_m` partitions must give up at least `max(0, c_m − q_m)`, and keeping
/// `min(c_m, q_m)` of its own meets that bound, so the fewest moves for given quotas is
/// `Σ max(0, c_m − q_m)`. Among balanced quotas, rounding member `m` up lowers that sum by one exactly when
/// `c_m > ⌊s_m⌋`, whichever other members are rounded up; so the planner rounds up those members first, and
/// no balanced assignment moves fewer partitions. (The tests compare it with a brute-force search.)
///
/// **Determinism.** Members are ordered by id, partitions by index; ties are broken by those orders alone, never
/// by hashing, so the same input gives the same output in every process. Re-planning an output moves nothing.
///
/// **Spread.** Among members rounded alike, the larger remainder of `n·w_m/W` wins (Hamilton's method), then
/// the smaller id. A member over its quota keeps its lowest-indexed partitions. The partitions to place are
/// dealt in index order, round-robin, over the members still short of their quota in id order, so
/// consecutive partitions go to different members whenever more than one member receives: a fresh group of
/// `k` equal members gets partition `i` on member `i mod k`.
public enum AssignmentPlanner {
    /// The target owner of each partition `0..<partitionCount`; nil everywhere only when `weights` is empty.
    ///
    /// - Parameters:
    ///   - weights: each member's weight (≥ 1). A dictionary, so a member appears once; its order is ignored.
    ///   - current: each partition's current owner, possibly stale: an owner absent from `weights` counts as
    ///     none. Its length must be `partitionCount`.
    public static func plan(partitionCount: Int, weights: [MemberID: Int], current: [MemberID?]) -> [MemberID?] {
        precondition(
            current.count == partitionCount,
            "AssignmentPlanner: \(current.count) current owners for \(partitionCount) partitions")
        var target = [MemberID?](repeating: nil, count: partitionCount)
        let members = weights.keys.sorted()
        guard !members.isEmpty else { return target }

        var slots: [MemberID: Int] = [:]
        slots.reserveCapacity(members.count)
        for (slot, member) in members.enumerated() { slots[member] = slot }
        let owners = current.map { owner in owner.flatMap { slots[$0] } }
        var held = [Int](repeating: 0, count: members.count)
        for case let slot? in owners { held[slot] += 1 }
        let quota = quotas(
            partitionCount: partitionCount, weights: members.map { weights[$0] ?? 0 }, held: held)

        // Keep each member's lowest-indexed partitions up to its quota; everything else is to be placed.
        var filled = [Int](repeating: 0, count: members.count)
        var toPlace: [Int] = []
        for partition in 0..<partitionCount {
            if let slot = owners[partition], filled[slot] < quota[slot] {
                filled[slot] += 1
                target[partition] = members[slot]
            } else {
                toPlace.append(partition)
            }
        }

        // Deal the rest round-robin over the members still short, in id order.
        var short = members.indices.filter { filled[$0] < quota[$0] }
        var next = 0
        while next < toPlace.count {
            precondition(!short.isEmpty, "AssignmentPlanner: \(toPlace.count - next) partitions left and no quota")
            var stillShort: [Int] = []
            for slot in short where next < toPlace.count {
                target[toPlace[next]] = members[slot]
                next += 1
                filled[slot] += 1
                if filled[slot] < quota[slot] { stillShort.append(slot) }
            }
            short = stillShort
        }
        return target
    }

    /// Each member's number of partitions: `⌊s⌋`, plus one for the `r` members chosen as the type comment
    /// says (those holding more than `⌊s⌋` first, then the larger remainder, then the lower slot).
    static func quotas(partitionCount: Int, weights: [Int], held: [Int]) -> [Int] {
        precondition(weights.allSatisfy { $0 >= 1 }, "AssignmentPlanner: every weight must be at least 1")
        let total = weights.reduce(0) { sum, weight in
            let (next, overflow) = sum.addingReportingOverflow(weight)
            precondition(!overflow, "AssignmentPlanner: the sum of weights overflows")
            return next
        }
        var quota: [Int] = []
        var remainder: [Int] = []
        quota.reserveCapacity(weights.count)
        remainder.reserveCapacity(weights.count)
        for weight in weights {
            let (product, overflow) = partitionCount.multipliedReportingOverflow(by: weight)
            precondition(!overflow, "AssignmentPlanner: \(partitionCount) partitions × weight \(weight) overflows")
            quota.append(product / total)
            remainder.append(product % total)
        }
        let leftOver = partitionCount - quota.reduce(0, +)
        let roundedUp = weights.indices.filter { remainder[$0] > 0 }.sorted { a, b in
            let aSaves = held[a] > quota[a]
            let bSaves = held[b] > quota[b]
            if aSaves != bSaves { return aSaves }
            if remainder[a] != remainder[b] { return remainder[a] > remainder[b] }
            return a < b
        }
        precondition(leftOver <= roundedUp.count, "AssignmentPlanner: \(leftOver) left over, \(roundedUp.count) fractional")
        for slot in roundedUp.prefix(leftOver) { quota[slot] += 1 }
        return quota
    }
}
