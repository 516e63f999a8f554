import Assignment
import CoordTestKit

/// Seeds for the randomized tests: two fixed ones, so every run covers known ground, and a fresh one per run
/// (or `COORDD_SIM_SEED`, to replay a failure: every failure message names its seed).
let randomSeeds: [UInt64] = [0xA551_6E00_0001, 0xA551_6E00_0002, SplitMix64.seedFromEnvironment()]

extension SplitMix64 {
    /// A value in `range` (the modulo bias is irrelevant for test inputs).
    mutating func next(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    /// True with probability `1 / n`.
    mutating func oneIn(_ n: Int) -> Bool { next() % UInt64(n) == 0 }
}

/// Members `m0`, `m1`, … (ids sort in index order below ten).
func member(_ index: Int) -> MemberID { MemberID("m\(index)") }

let limits = AssignmentLimits()

func partitionSet(_ count: Int) -> PartitionSet {
    guard case .success(let set) = PartitionSet.count(count, limits: limits) else {
        preconditionFailure("test partition count \(count) is invalid")
    }
    return set
}

func timings(graceMs: Int64 = 10_000, revokeAfterMs: Int64 = 5_000) -> AssignmentTimings {
    guard case .success(let value) = AssignmentTimings.validated(graceMs: graceMs, revokeAfterMs: revokeAfterMs, limits: limits) else {
        preconditionFailure("test timings are invalid")
    }
    return value
}

extension Result where Success == [AssignmentAction], Failure == AssignmentRejection {
    /// The actions of an accepted input; a refusal fails the calling test.
    var actions: [AssignmentAction] {
        get throws {
            switch self {
            case .success(let actions): return actions
            case .failure(let rejection): throw rejection
            }
        }
    }
}

extension Result where Failure == AssignmentRejection {
    /// The rejection, or nil when the input was accepted.
    var rejection: AssignmentRejection? {
        if case .failure(let rejection) = self { return rejection }
        return nil
    }
}

// MARK: - Balance and movement, computed independently of the planner

/// Member `m`'s bounds `⌊n·w/W⌋ … ⌈n·w/W⌉`.
func shareBounds(partitionCount: Int, weight: Int, totalWeight: Int) -> ClosedRange<Int> {
    let low = partitionCount * weight / totalWeight
    return low...(low + (partitionCount * weight % totalWeight == 0 ? 0 : 1))
}

/// Partitions whose current owner is a member and whose target is another member.
func moves(from current: [MemberID?], to target: [MemberID?], members: Set<MemberID>) -> Int {
    zip(current, target).filter { owner, planned in owner.map(members.contains) == true && planned != owner }.count
}

/// The fewest moves of any assignment that gives every member a count within its share bounds, by exhaustive
/// search (with pruning), or nil when no assignment is balanced.
func bruteForceFewestMoves(partitionCount: Int, weights: [MemberID: Int], current: [MemberID?]) -> Int? {
    let members = weights.keys.sorted()
    let total = weights.values.reduce(0, +)
    let bounds = members.map { shareBounds(partitionCount: partitionCount, weight: weights[$0] ?? 0, totalWeight: total) }
    let currentSlot = current.map { owner in owner.flatMap { members.firstIndex(of: $0) } }
    var counts = [Int](repeating: 0, count: members.count)
    var best: Int?

    func search(_ partition: Int, _ moved: Int) {
        if let best, moved >= best { return }
        guard partition < partitionCount else {
            if members.indices.allSatisfy({ bounds[$0].contains(counts[$0]) }) { best = moved }
            return
        }
        for slot in members.indices where counts[slot] < bounds[slot].upperBound {
            counts[slot] += 1
            let cost = currentSlot[partition].map { $0 != slot ? 1 : 0 } ?? 0
            search(partition + 1, moved + cost)
            counts[slot] -= 1
        }
    }
    search(0, 0)
    return best
}

/// A random planner input: up to `maxPartitions` partitions, up to `maxMembers` members with weights
/// 1…`maxWeight`, and current owners that are members, strangers (gone members) or nobody.
func randomPlannerInput(
    _ random: inout SplitMix64, maxPartitions: Int, maxMembers: Int, maxWeight: Int
) -> (partitionCount: Int, weights: [MemberID: Int], current: [MemberID?]) {
    let partitionCount = random.next(in: 0...maxPartitions)
    var weights: [MemberID: Int] = [:]
    for index in 0..<random.next(in: 0...maxMembers) { weights[member(index)] = random.next(in: 1...maxWeight) }
    let current: [MemberID?] = (0..<partitionCount).map { _ in
        switch random.next(in: 0...5) {
        case 0: nil
        case 1: MemberID("gone\(random.next(in: 0...2))")
        default: member(random.next(in: 0...maxMembers))
        }
    }
    return (partitionCount, weights, current)
}
