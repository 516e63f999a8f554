import Assignment
import CoordTestKit
import Testing

/// The planner's guarantees with members in zones and partitions pinned to zones, over seeded random inputs.
/// Every failure names the seed and the input.
struct ZonePlannerPropertyTests {
    @Test(arguments: randomSeeds)
    func pinnedPartitionsGoOnlyToTheirZoneAndWaitWhenItHasNoMember(seed: UInt64) async {
        await forEachZonedInput(seed: seed, rounds: 1_000, maxPartitions: 60, maxMembers: 9, maxWeight: 6) { input, _ in
            for (index, zone) in input.pins.enumerated() {
                if let zone {
                    if input.members(in: zone).isEmpty {
                        #expect(input.plan[index] == nil, "partition \(index) pinned to empty zone \(zone): \(input)")
                    } else {
                        #expect(input.plan[index].map { input.memberZones[$0] } == zone, "partition \(index): \(input)")
                    }
                } else {
                    #expect((input.plan[index] != nil) == !input.weights.isEmpty, "unpinned \(index) placed: \(input)")
                }
            }
        }
    }

    @Test(arguments: randomSeeds)
    func eachZonesPinnedPartitionsAreBalancedOverItsMembers(seed: UInt64) async {
        await forEachZonedInput(seed: seed, rounds: 1_000, maxPartitions: 60, maxMembers: 9, maxWeight: 6) { input, _ in
            for zone in input.pinnedZones {
                let members = input.members(in: zone)
                guard !members.isEmpty else { continue }
                let pinned = input.partitions(pinnedTo: zone)
                let total = members.reduce(0) { $0 + input.weights[$1]! }
                for member in members {
                    let count = pinned.filter { input.plan[$0] == member }.count
                    let bounds = shareBounds(partitionCount: pinned.count, weight: input.weights[member]!, totalWeight: total)
                    #expect(bounds.contains(count), "\(member) has \(count) of zone \(zone), bounds \(bounds): \(input)")
                }
            }
        }
    }

    @Test(arguments: randomSeeds)
    func unpinnedPartitionsFillEveryMembersTotalUpToOneLevel(seed: UInt64) async {
        await forEachZonedInput(seed: seed, rounds: 1_000, maxPartitions: 80, maxMembers: 9, maxWeight: 6) { input, _ in
            let members = input.members
            guard !members.isEmpty else { return }
            let unpinned = input.partitions(pinnedTo: nil)
            let weights = members.map { input.weights[$0]! }
            let pinnedLoad = members.map { member in input.plan.indices.filter { input.pins[$0] != nil && input.plan[$0] == member }.count }
            let received = members.map { member in unpinned.filter { input.plan[$0] == member }.count }
            guard let level = waterLevel(unpinned: unpinned.count, weights: weights, pinned: pinnedLoad) else {
                Issue.record("no water level: \(input)")
                return
            }
            for slot in members.indices {
                let bounds = waterShareBounds(level: level, weight: weights[slot], pinned: pinnedLoad[slot])
                #expect(bounds.contains(received[slot]), "\(members[slot]) got \(received[slot]) unpinned, share \(bounds) at level \(level): \(input)")
                if pinnedLoad[slot] * level.denominator >= level.numerator * weights[slot] {
                    #expect(received[slot] == 0, "\(members[slot]) is at or above the level \(level): \(input)")
                }
            }
            // The bound on totals: a member that received an unpinned partition is, less one, below any member plus one.
            let totals = members.indices.map { pinnedLoad[$0] + received[$0] }
            for a in members.indices where received[a] > 0 {
                for b in members.indices where b != a {
                    #expect((totals[a] - 1) * weights[b] < (totals[b] + 1) * weights[a],
                            "\(members[a]) total \(totals[a]) vs \(members[b]) total \(totals[b]): \(input)")
                }
            }
        }
    }

    @Test(arguments: randomSeeds)
    func noAssignmentWithinTheQuotasMovesFewerPartitions(seed: UInt64) async {
        await forEachZonedInput(seed: seed, rounds: 300, maxPartitions: 7, maxMembers: 4, maxWeight: 3) { input, _ in
            guard !input.weights.isEmpty else { return }
            #expect(planMovesTheFewest(input.plan, from: input.current, input: input, weights: input.weights), "\(input)")
        }
    }

    @Test(arguments: randomSeeds)
    func removingAMemberMovesOnlyWhatBalanceRequires(seed: UInt64) async {
        await forEachZonedInput(seed: seed, rounds: 300, maxPartitions: 7, maxMembers: 4, maxWeight: 3) { input, random in
            guard let leaving = input.members.randomElement(using: &random) else { return }
            var rest = input.weights
            rest[leaving] = nil
            guard !rest.isEmpty else { return }
            let after = input.replanned(from: input.plan, weights: rest)
            #expect(planMovesTheFewest(after, from: input.plan, input: input, weights: rest), "without \(leaving) → \(after): \(input)")
            // Zones the leaving member was not in lose nothing of their pinned partitions.
            for zone in input.pinnedZones where zone != input.memberZones[leaving] {
                for index in input.partitions(pinnedTo: zone) {
                    #expect(after[index] == input.plan[index], "zone \(zone) partition \(index) moved without \(leaving): \(input)")
                }
            }
        }
    }

    @Test(arguments: randomSeeds)
    func theSameInputGivesTheSamePlanAndReplanningItMovesNothing(seed: UInt64) async {
        await forEachZonedInput(seed: seed, rounds: 1_000, maxPartitions: 80, maxMembers: 9, maxWeight: 6) { input, random in
            #expect(input.replanned(from: input.current) == input.plan, "\(input)")
            #expect(input.replanned(from: input.plan) == input.plan, "\(input)")
            var shuffled: [MemberID: Int] = [:]
            var shuffledZones: [MemberID: String] = [:]
            shuffled.reserveCapacity(random.next(in: 0...64))
            shuffledZones.reserveCapacity(random.next(in: 0...64))
            for (member, weight) in input.weights.sorted(by: { $0.key < $1.key }).shuffled(using: &random) {
                shuffled[member] = weight
                shuffledZones[member] = input.memberZones[member]
            }
            let other = AssignmentPlanner.plan(
                partitionCount: input.partitionCount, weights: shuffled, current: input.current, memberZones: shuffledZones,
                partitionZones: input.pins)
            #expect(other == input.plan, "\(input)")
        }
    }

    @Test(arguments: randomSeeds)
    func withNothingPinnedZonesChangeNothing(seed: UInt64) async {
        await forEachZonedInput(seed: seed, rounds: 1_000, maxPartitions: 80, maxMembers: 9, maxWeight: 6) { input, _ in
            let unpinned = [String?](repeating: nil, count: input.partitionCount)
            let zoned = AssignmentPlanner.plan(
                partitionCount: input.partitionCount, weights: input.weights, current: input.current,
                memberZones: input.memberZones, partitionZones: unpinned)
            #expect(zoned == AssignmentPlanner.plan(partitionCount: input.partitionCount, weights: input.weights, current: input.current), "\(input)")
        }
    }
}

/// True when `plan` moves, from `current`, the fewest partitions of any assignment that keeps every class
/// within its quotas: each zone's pinned partitions balanced over its members (brute force over the balanced
/// assignments of the class), and the unpinned within the rounded water-filling shares of the pinned load
/// `plan` gives (brute force over those counts).
func planMovesTheFewest(_ plan: [MemberID?], from current: [MemberID?], input: ZonedInput, weights: [MemberID: Int]) -> Bool {
    let members = weights.keys.sorted()
    for zone in input.pinnedZones {
        let inZone = members.filter { input.memberZones[$0] == zone }
        guard !inZone.isEmpty else { continue }
        let partitions = input.partitions(pinnedTo: zone)
        let classWeights = Dictionary(uniqueKeysWithValues: inZone.map { ($0, weights[$0]!) })
        let fewest = bruteForceFewestMoves(
            partitionCount: partitions.count, weights: classWeights, current: partitions.map { current[$0] })
        if moves(of: partitions, from: current, to: plan, members: Set(inZone)) != fewest { return false }
    }
    let unpinned = input.partitions(pinnedTo: nil)
    let memberWeights = members.map { weights[$0]! }
    let pinnedLoad = members.map { member in plan.indices.filter { input.pins[$0] != nil && plan[$0] == member }.count }
    guard let level = waterLevel(unpinned: unpinned.count, weights: memberWeights, pinned: pinnedLoad) else { return false }
    let bounds = members.indices.map { waterShareBounds(level: level, weight: memberWeights[$0], pinned: pinnedLoad[$0]) }
    let fewest = bruteForceFewestMoves(bounds: bounds, currentSlots: unpinned.map { current[$0].flatMap(members.firstIndex) })
    return moves(of: unpinned, from: current, to: plan, members: Set(members)) == fewest
}
