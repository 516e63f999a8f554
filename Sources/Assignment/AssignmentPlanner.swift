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
///
/// **Zones.** Members may declare a zone and partitions may be pinned to one; the zone extension says what
/// then holds. With nothing pinned it gives exactly this plan, whatever zones the members declared.
public enum AssignmentPlanner {
    /// The target owner of each partition `0..<partitionCount`; nil everywhere only when `weights` is empty.
    ///
    /// - Parameters:
    ///   - weights: each member's weight (≥ 1). A dictionary, so a member appears once; its order is ignored.
    ///   - current: each partition's current owner, possibly stale: an owner absent from `weights` counts as
    ///     none. Its length must be `partitionCount`.
    public static func plan(partitionCount: Int, weights: [MemberID: Int], current: [MemberID?]) -> [MemberID?] {
        plan(partitionCount: partitionCount, weights: weights, current: current, memberZones: [:],
             partitionZones: Array(repeating: nil, count: partitionCount))
    }

    /// Keeps each member's lowest-indexed partitions of `partitions` up to its quota, then deals the rest in
    /// order, round-robin over the members still short, in `members` (id) order.
    ///
    /// - Parameters:
    ///   - partitions: the indices to place, ascending.
    ///   - members: the members that may receive them, sorted by id; `quota` and the slots of `owners` index it.
    ///   - owners: the current owner's slot for each of `partitions`, or nil (no owner, or one not in `members`).
    static func place(
        _ partitions: [Int], over members: [MemberID], owners: [Int?], quota: [Int], into target: inout [MemberID?]
    ) {
        var filled = [Int](repeating: 0, count: members.count)
        var toPlace: [Int] = []
        for (position, partition) in partitions.enumerated() {
            if let slot = owners[position], filled[slot] < quota[slot] {
                filled[slot] += 1
                target[partition] = members[slot]
            } else {
                toPlace.append(partition)
            }
        }
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
    }

    /// Each member's number of partitions: `⌊s⌋`, plus one for the `r` members chosen as the type comment
    /// says (those holding more than `⌊s⌋` first, then the larger remainder, then the lower slot).
    static func quotas(partitionCount: Int, weights: [Int], held: [Int]) -> [Int] {
        let total = sumOfWeights(weights)
        let numerators = weights.map { weight in
            let (product, overflow) = partitionCount.multipliedReportingOverflow(by: weight)
            precondition(!overflow, "AssignmentPlanner: \(partitionCount) partitions × weight \(weight) overflows")
            return product
        }
        return rounded(numerators: numerators, denominator: total, count: partitionCount, held: held)
    }

    /// Rounds the shares `numerators[m] / denominator`, which sum to `count`, to integers that sum to `count`:
    /// each floor, plus one for the `count − Σ floor` members with a fractional share that hold more than their
    /// floor first, then have the larger remainder, then the lower slot.
    static func rounded(numerators: [Int], denominator: Int, count: Int, held: [Int]) -> [Int] {
        precondition(denominator > 0, "AssignmentPlanner: shares over \(denominator)")
        var quota: [Int] = []
        var remainder: [Int] = []
        quota.reserveCapacity(numerators.count)
        remainder.reserveCapacity(numerators.count)
        for numerator in numerators {
            precondition(numerator >= 0, "AssignmentPlanner: negative share \(numerator)/\(denominator)")
            quota.append(numerator / denominator)
            remainder.append(numerator % denominator)
        }
        let leftOver = count - quota.reduce(0, +)
        let roundedUp = numerators.indices.filter { remainder[$0] > 0 }.sorted { a, b in
            let aSaves = held[a] > quota[a]
            let bSaves = held[b] > quota[b]
            if aSaves != bSaves { return aSaves }
            if remainder[a] != remainder[b] { return remainder[a] > remainder[b] }
            return a < b
        }
        precondition(
            (0...roundedUp.count).contains(leftOver), "AssignmentPlanner: \(leftOver) left over, \(roundedUp.count) fractional")
        for slot in roundedUp.prefix(leftOver) { quota[slot] += 1 }
        return quota
    }

    /// The sum of `weights`, each at least 1.
    static func sumOfWeights(_ weights: [Int]) -> Int {
        precondition(weights.allSatisfy { $0 >= 1 }, "AssignmentPlanner: every weight must be at least 1")
        return weights.reduce(0) { sum, weight in
            let (next, overflow) = sum.addingReportingOverflow(weight)
            precondition(!overflow, "AssignmentPlanner: the sum of weights overflows")
            return next
        }
    }
}
