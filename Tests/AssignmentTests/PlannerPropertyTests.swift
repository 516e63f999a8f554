import Assignment
import CoordTestKit
import Testing

/// A random planner input and the planner's answer to it.
struct PlannedInput: CustomStringConvertible {
    var partitionCount: Int
    var weights: [MemberID: Int]
    var current: [MemberID?]
    var plan: [MemberID?]
    var context: String

    var members: Set<MemberID> { Set(weights.keys) }
    var description: String { context }
}

/// Plans `rounds` random inputs drawn from `seed` and hands each to `check`.
func forEachPlannedInput(
    seed: UInt64, rounds: Int, maxPartitions: Int, maxMembers: Int, maxWeight: Int,
    _ check: (PlannedInput, inout SplitMix64) -> Void
) async {
    var random = SplitMix64(seed: seed)
    for round in 0..<rounds {
        // Hands the thread back each round: a long synchronous run on one of the pool's few threads stalls
        // every other test of the process.
        await Task.yield()
        let input = randomPlannerInput(&random, maxPartitions: maxPartitions, maxMembers: maxMembers, maxWeight: maxWeight)
        let plan = AssignmentPlanner.plan(partitionCount: input.partitionCount, weights: input.weights, current: input.current)
        let planned = PlannedInput(
            partitionCount: input.partitionCount, weights: input.weights, current: input.current, plan: plan,
            context: "seed \(seed) round \(round): \(input.partitionCount) partitions, weights \(input.weights.sorted { $0.key < $1.key }), current \(input.current) → \(plan)")
        check(planned, &random)
    }
}

/// The planner's guarantees over seeded random inputs. Every failure names the seed and the input.
struct PlannerPropertyTests {
    @Test(arguments: randomSeeds)
    func everyMemberGetsTheFloorOrCeilingOfItsShareAndEveryPartitionIsPlaced(seed: UInt64) async {
        await forEachPlannedInput(seed: seed, rounds: 2_000, maxPartitions: 60, maxMembers: 9, maxWeight: 6) { input, _ in
            #expect(input.plan.count == input.partitionCount, "\(input)")
            guard !input.weights.isEmpty else {
                #expect(input.plan.allSatisfy { $0 == nil }, "\(input)")
                return
            }
            #expect(input.plan.allSatisfy { $0.map(input.members.contains) == true }, "every partition placed on a member: \(input)")
            let total = input.weights.values.reduce(0, +)
            for (member, weight) in input.weights {
                let count = input.plan.filter { $0 == member }.count
                let bounds = shareBounds(partitionCount: input.partitionCount, weight: weight, totalWeight: total)
                #expect(bounds.contains(count), "\(member) has \(count), share bounds \(bounds): \(input)")
            }
        }
    }

    @Test(arguments: randomSeeds)
    func noBalancedAssignmentMovesFewerPartitions(seed: UInt64) async {
        await forEachPlannedInput(seed: seed, rounds: 400, maxPartitions: 7, maxMembers: 4, maxWeight: 3) { input, _ in
            guard !input.weights.isEmpty else { return }
            let fewest = bruteForceFewestMoves(partitionCount: input.partitionCount, weights: input.weights, current: input.current)
            #expect(fewest != nil, "a balanced assignment exists: \(input)")
            #expect(moves(from: input.current, to: input.plan, members: input.members) == fewest, "\(input)")
        }
    }

    @Test(arguments: randomSeeds)
    func movesMatchTheLowerBoundOnLargerInputs(seed: UInt64) async {
        // Σ max(0, held − quota) is the least any assignment with those counts can move; on inputs larger than
        // brute force reaches, the planner meets it for its own counts.
        await forEachPlannedInput(seed: seed, rounds: 500, maxPartitions: 300, maxMembers: 20, maxWeight: 10) { input, _ in
            let bound = input.members.reduce(0) { sum, member in
                sum + max(0, input.current.filter { $0 == member }.count - input.plan.filter { $0 == member }.count)
            }
            #expect(moves(from: input.current, to: input.plan, members: input.members) == bound, "\(input)")
        }
    }

    @Test(arguments: randomSeeds)
    func theSameInputGivesTheSamePlanAndReplanningItMovesNothing(seed: UInt64) async {
        await forEachPlannedInput(seed: seed, rounds: 1_000, maxPartitions: 80, maxMembers: 9, maxWeight: 6) { input, _ in
            let same = AssignmentPlanner.plan(partitionCount: input.partitionCount, weights: input.weights, current: input.current)
            #expect(same == input.plan, "\(input)")
            let again = AssignmentPlanner.plan(partitionCount: input.partitionCount, weights: input.weights, current: input.plan)
            #expect(again == input.plan, "\(input)")
        }
    }

    @Test(arguments: randomSeeds)
    func theOrderMembersAreGivenInChangesNothing(seed: UInt64) async {
        await forEachPlannedInput(seed: seed, rounds: 500, maxPartitions: 60, maxMembers: 9, maxWeight: 6) { input, random in
            // The same members inserted in another order into a dictionary of another capacity iterate differently.
            var shuffled: [MemberID: Int] = [:]
            shuffled.reserveCapacity(random.next(in: 0...64))
            for (member, weight) in input.weights.sorted(by: { $0.key < $1.key }).shuffled(using: &random) {
                shuffled[member] = weight
            }
            let other = AssignmentPlanner.plan(partitionCount: input.partitionCount, weights: shuffled, current: input.current)
            #expect(other == input.plan, "\(input)")
        }
    }

    @Test(arguments: randomSeeds)
    func consecutivePlacedPartitionsGoToDifferentMembersWhenSeveralReceive(seed: UInt64) async {
        await forEachPlannedInput(seed: seed, rounds: 500, maxPartitions: 60, maxMembers: 9, maxWeight: 6) { input, _ in
            // The partitions that were placed (not kept), in index order, and who received them.
            let placed = input.plan.indices.filter { input.current[$0] != input.plan[$0] || input.current[$0].map(input.members.contains) != true }
            let receivers = placed.compactMap { input.plan[$0] }
            // Round-robin: a receiver gets two placed partitions in a row only once every other receiver is full.
            for (position, pair) in zip(receivers, receivers.dropFirst()).enumerated() where pair.0 == pair.1 {
                #expect(Set(receivers[(position + 1)...]) == [pair.0], "\(receivers): \(input)")
            }
        }
    }
}
