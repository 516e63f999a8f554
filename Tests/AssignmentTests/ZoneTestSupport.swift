import Assignment
import CoordTestKit

/// A random zoned planner input and the planner's answer to it.
struct ZonedInput: CustomStringConvertible {
    var partitionCount: Int
    var weights: [MemberID: Int]
    var current: [MemberID?]
    var memberZones: [MemberID: String]
    var pins: [String?]
    var plan: [MemberID?]
    var context: String

    var members: [MemberID] { weights.keys.sorted() }
    var description: String { context }

    /// Plans this input's partitions again from `current`.
    func replanned(from current: [MemberID?], weights: [MemberID: Int]? = nil) -> [MemberID?] {
        AssignmentPlanner.plan(
            partitionCount: partitionCount, weights: weights ?? self.weights, current: current, memberZones: memberZones,
            partitionZones: pins)
    }

    /// The indices of the partitions pinned to `zone` (nil: the unpinned ones).
    func partitions(pinnedTo zone: String?) -> [Int] { pins.indices.filter { pins[$0] == zone } }

    /// The members whose zone is `zone`.
    func members(in zone: String) -> [MemberID] { members.filter { memberZones[$0] == zone } }

    /// The zones partitions are pinned to, sorted.
    var pinnedZones: [String] { Set(pins.compactMap { $0 }).sorted() }
}

/// Zones members declare in the random inputs; `"d"` is a zone partitions are pinned to but no member is in.
let memberZoneChoices: [String?] = ["a", "b", "c", nil]
let pinChoices: [String?] = ["a", "b", "c", "d", nil, nil, nil]

/// Plans `rounds` random zoned inputs drawn from `seed` and hands each to `check`: the plain planner's random
/// inputs (which yield the thread each round), with zones drawn for their members and pins for their partitions.
func forEachZonedInput(
    seed: UInt64, rounds: Int, maxPartitions: Int, maxMembers: Int, maxWeight: Int,
    _ check: (ZonedInput, inout SplitMix64) -> Void
) async {
    await forEachPlannedInput(seed: seed, rounds: rounds, maxPartitions: maxPartitions, maxMembers: maxMembers,
                              maxWeight: maxWeight) { base, random in
        var memberZones: [MemberID: String] = [:]
        for member in base.weights.keys.sorted() {
            memberZones[member] = memberZoneChoices[random.next(in: 0...(memberZoneChoices.count - 1))]
        }
        // A third of the inputs pin nothing, so the unpinned path is also seen with zoned members alone.
        let pinning = !random.oneIn(3)
        let pins: [String?] = (0..<base.partitionCount).map { _ in
            pinning ? pinChoices[random.next(in: 0...(pinChoices.count - 1))] : nil
        }
        let plan = AssignmentPlanner.plan(
            partitionCount: base.partitionCount, weights: base.weights, current: base.current, memberZones: memberZones,
            partitionZones: pins)
        let zones = base.weights.keys.sorted().map { "\($0)@\(memberZones[$0] ?? "-")" }
        let input = ZonedInput(
            partitionCount: base.partitionCount, weights: base.weights, current: base.current, memberZones: memberZones,
            pins: pins, plan: plan,
            context: "\(base.context); zones \(zones), pins \(pins.map { $0 ?? "-" }) → zoned \(plan)")
        check(input, &random)
    }
}

// MARK: - The water level, computed independently of the planner

/// An exact rational `numerator / denominator`, denominator positive.
struct Level: CustomStringConvertible {
    var numerator: Int
    var denominator: Int
    var description: String { "\(numerator)/\(denominator)" }
}

/// The level `L` with `Σ max(0, L·w − p) = unpinned`, found by trying, for each member `j`, the level that the
/// members at or below `j`'s pinned level would reach together, and keeping the one that meets the equation.
func waterLevel(unpinned: Int, weights: [Int], pinned: [Int]) -> Level? {
    for j in weights.indices {
        let below = weights.indices.filter { pinned[$0] * weights[j] <= pinned[j] * weights[$0] }
        let candidate = Level(
            numerator: unpinned + below.reduce(0) { $0 + pinned[$1] }, denominator: below.reduce(0) { $0 + weights[$1] })
        let filled = weights.indices.reduce(0) { sum, m in
            sum + max(0, candidate.numerator * weights[m] - pinned[m] * candidate.denominator)
        }
        if filled == unpinned * candidate.denominator { return candidate }
    }
    return nil
}

/// Member `m`'s unpinned share at `level`, `max(0, L·w − p)`, as its floor and ceiling.
func waterShareBounds(level: Level, weight: Int, pinned: Int) -> ClosedRange<Int> {
    let numerator = max(0, level.numerator * weight - pinned * level.denominator)
    let low = numerator / level.denominator
    return low...(low + (numerator % level.denominator == 0 ? 0 : 1))
}

/// The fewest moves of any assignment of `currentSlots.count` partitions whose count per member lies within
/// `bounds`, by exhaustive search (with pruning), or nil when none does. A partition whose current slot is
/// nil is placed anywhere for free.
func bruteForceFewestMoves(bounds: [ClosedRange<Int>], currentSlots: [Int?]) -> Int? {
    var counts = [Int](repeating: 0, count: bounds.count)
    var best: Int?

    func search(_ partition: Int, _ moved: Int) {
        if let best, moved >= best { return }
        guard partition < currentSlots.count else {
            if bounds.indices.allSatisfy({ bounds[$0].contains(counts[$0]) }) { best = moved }
            return
        }
        for slot in bounds.indices where counts[slot] < bounds[slot].upperBound {
            counts[slot] += 1
            search(partition + 1, moved + (currentSlots[partition].map { $0 != slot ? 1 : 0 } ?? 0))
            counts[slot] -= 1
        }
    }
    search(0, 0)
    return best
}

/// Moves within one class of partitions: its current owner is one of `members` and the plan names another.
func moves(of partitions: [Int], from current: [MemberID?], to plan: [MemberID?], members: Set<MemberID>) -> Int {
    partitions.filter { current[$0].map(members.contains) == true && plan[$0] != current[$0] }.count
}
