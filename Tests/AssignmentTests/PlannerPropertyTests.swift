import Assignment
import CoordTestKit
import Testing

/// The planner's guarantees over seeded random inputs. Every failure names the seed and the input.
struct PlannerPropertyTests {
    @Test(arguments: randomSeeds)
    func everyMemberGetsTheFloorOrCeilingOfItsShareAndEveryPartitionIsPlaced(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for round in 0..<2_000 {
            let input = randomPlannerInput(&random, maxPartitions: 60, maxMembers: 9, maxWeight: 6)
            let plan = AssignmentPlanner.plan(partitionCount: input.partitionCount, weights: input.weights, current: input.current)
            let context = "seed \(seed) round \(round): \(input)"
            #expect(plan.count == input.partitionCount, "\(context)")
            guard !input.weights.isEmpty else {
                #expect(plan.allSatisfy { $0 == nil }, "\(context)")
                continue
            }
            #expect(plan.allSatisfy { $0.map { input.weights[$0] != nil } == true }, "every partition placed on a member: \(context)")
            let total = input.weights.values.reduce(0, +)
            for (member, weight) in input.weights {
                let count = plan.filter { $0 == member }.count
                let bounds = shareBounds(partitionCount: input.partitionCount, weight: weight, totalWeight: total)
                #expect(bounds.contains(count), "\(member) has \(count), share bounds \(bounds): \(context)")
            }
        }
    }

    @Test(arguments: randomSeeds)
    func noBalancedAssignmentMovesFewerPartitions(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for round in 0..<400 {
            let input = randomPlannerInput(&random, maxPartitions: 7, maxMembers: 4, maxWeight: 3)
            let plan = AssignmentPlanner.plan(partitionCount: input.partitionCount, weights: input.weights, current: input.current)
            let context = "seed \(seed) round \(round): \(input)"
            guard !input.weights.isEmpty else { continue }
            let fewest = bruteForceFewestMoves(partitionCount: input.partitionCount, weights: input.weights, current: input.current)
            #expect(fewest != nil, "a balanced assignment exists: \(context)")
            #expect(moves(from: input.current, to: plan, members: Set(input.weights.keys)) == fewest, "\(context) → \(plan)")
        }
    }

    @Test(arguments: randomSeeds)
    func movesMatchTheLowerBoundOnLargerInputs(seed: UInt64) {
        // Σ max(0, held − quota) is the least any assignment with those counts can move; for larger inputs
        // than brute force reaches, the planner meets it for its own counts.
        var random = SplitMix64(seed: seed)
        for round in 0..<500 {
            let input = randomPlannerInput(&random, maxPartitions: 300, maxMembers: 20, maxWeight: 10)
            let plan = AssignmentPlanner.plan(partitionCount: input.partitionCount, weights: input.weights, current: input.current)
            let bound = input.weights.keys.reduce(0) { sum, member in
                let held = input.current.filter { $0 == member }.count
                let quota = plan.filter { $0 == member }.count
                return sum + max(0, held - quota)
            }
            #expect(moves(from: input.current, to: plan, members: Set(input.weights.keys)) == bound, "seed \(seed) round \(round)")
        }
    }

    @Test(arguments: randomSeeds)
    func replanningItsOwnOutputMovesNothing(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for round in 0..<1_000 {
            let input = randomPlannerInput(&random, maxPartitions: 80, maxMembers: 9, maxWeight: 6)
            let plan = AssignmentPlanner.plan(partitionCount: input.partitionCount, weights: input.weights, current: input.current)
            let again = AssignmentPlanner.plan(partitionCount: input.partitionCount, weights: input.weights, current: plan)
            #expect(again == plan, "seed \(seed) round \(round): \(input)")
            let same = AssignmentPlanner.plan(partitionCount: input.partitionCount, weights: input.weights, current: input.current)
            #expect(same == plan, "same input, same output: seed \(seed) round \(round)")
        }
    }

    @Test(arguments: randomSeeds)
    func theOrderMembersAreGivenInChangesNothing(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for round in 0..<500 {
            let input = randomPlannerInput(&random, maxPartitions: 60, maxMembers: 9, maxWeight: 6)
            let plan = AssignmentPlanner.plan(partitionCount: input.partitionCount, weights: input.weights, current: input.current)
            // The same members inserted in another order into a dictionary of another capacity iterate differently.
            var shuffled: [MemberID: Int] = [:]
            shuffled.reserveCapacity(random.next(in: 0...64))
            for (member, weight) in input.weights.sorted(by: { $0.key < $1.key }).shuffled(using: &random) {
                shuffled[member] = weight
            }
            let other = AssignmentPlanner.plan(partitionCount: input.partitionCount, weights: shuffled, current: input.current)
            #expect(other == plan, "seed \(seed) round \(round): \(input)")
        }
    }

    @Test(arguments: randomSeeds)
    func consecutivePlacedPartitionsGoToDifferentMembersWhenSeveralReceive(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for round in 0..<500 {
            let input = randomPlannerInput(&random, maxPartitions: 60, maxMembers: 9, maxWeight: 6)
            let plan = AssignmentPlanner.plan(partitionCount: input.partitionCount, weights: input.weights, current: input.current)
            let members = Set(input.weights.keys)
            // The partitions that were placed (not kept), in index order, and who received them.
            let placed = plan.indices.filter { input.current[$0] != plan[$0] || input.current[$0].map(members.contains) != true }
            let receivers = placed.compactMap { plan[$0] }
            // Round-robin: a receiver gets a second placed partition in a row only once every other receiver is full.
            for (position, pair) in zip(receivers, receivers.dropFirst()).enumerated() where pair.0 == pair.1 {
                let later = Set(receivers[(position + 1)...])
                #expect(later == [pair.0], "seed \(seed) round \(round): \(receivers)")
            }
        }
    }
}
