import Assignment
import Testing

/// The planner on hand-picked inputs: what it keeps, what it moves, and where it deals what it places.
struct PlannerTests {
    @Test func noMembersLeavesEveryPartitionUnowned() {
        let plan = AssignmentPlanner.plan(partitionCount: 3, weights: [:], current: [member(0), nil, member(1)])
        #expect(plan == [nil, nil, nil])
    }

    @Test func noPartitionsIsAnEmptyPlan() {
        #expect(AssignmentPlanner.plan(partitionCount: 0, weights: [member(0): 1], current: []).isEmpty)
    }

    @Test(arguments: [1, 2, 3, 5, 8])
    func aFreshGroupOfEqualMembersIsDealtRoundRobin(memberCount: Int) {
        let weights = Dictionary(uniqueKeysWithValues: (0..<memberCount).map { (member($0), 1) })
        let plan = AssignmentPlanner.plan(partitionCount: 20, weights: weights, current: Array(repeating: nil, count: 20))
        #expect(plan == (0..<20).map { member($0 % memberCount) })
    }

    @Test func weightsSetTheSharesAndLeftoversGoToTheLargestRemainders() {
        // Shares 7·3/6 = 3.5, 7·2/6 = 2.33, 7·1/6 = 1.17: floors 3 + 2 + 1 = 6, one left over for m0 (remainder .5).
        let weights = [member(0): 3, member(1): 2, member(2): 1]
        let plan = AssignmentPlanner.plan(partitionCount: 7, weights: weights, current: Array(repeating: nil, count: 7))
        #expect(plan == [member(0), member(1), member(2), member(0), member(1), member(0), member(0)])
    }

    @Test func aJoiningMemberTakesTheHighestIndexedPartitionsOfTheOthers() {
        // Three members with four each; a fourth joins: each gives up its highest-indexed partition.
        let current = (0..<12).map { member($0 % 3) }
        let weights = Dictionary(uniqueKeysWithValues: (0..<4).map { (member($0), 1) })
        let plan = AssignmentPlanner.plan(partitionCount: 12, weights: weights, current: current)
        var expected = current.map(Optional.some)
        for moved in [9, 10, 11] { expected[moved] = member(3) }
        #expect(plan == expected)
    }

    @Test func aDepartedMembersPartitionsAreDealtAcrossTheRest() {
        // m1 is gone; its partitions 1, 5, 9 are dealt to m0, m2, m3 in turn, and nothing else moves.
        let current = (0..<12).map { member($0 % 4) }
        let weights = [member(0): 1, member(2): 1, member(3): 1]
        let plan = AssignmentPlanner.plan(partitionCount: 12, weights: weights, current: current)
        var expected = current.map(Optional.some)
        expected[1] = member(0)
        expected[5] = member(2)
        expected[9] = member(3)
        #expect(plan == expected)
        #expect(moves(from: current, to: plan, members: Set(weights.keys)) == 0)
    }

    @Test func theMemberAlreadyAboveItsFloorIsTheOneRoundedUp() {
        // Shares are 1.5 each. m1 holds 2 and m0 holds 1: rounding m1 up keeps everything in place,
        // although the tie on remainders would otherwise favour m0.
        let current: [MemberID?] = [member(1), member(1), member(0)]
        let weights = [member(0): 1, member(1): 1]
        let plan = AssignmentPlanner.plan(partitionCount: 3, weights: weights, current: current)
        #expect(plan == current)
    }

    @Test func aMemberOverItsQuotaKeepsItsLowestIndexedPartitions() {
        let current: [MemberID?] = Array(repeating: member(0), count: 6)
        let plan = AssignmentPlanner.plan(partitionCount: 6, weights: [member(0): 1, member(1): 1, member(2): 1], current: current)
        #expect(plan == [member(0), member(0), member(1), member(2), member(1), member(2)])
    }

    @Test func ownersThatAreNotMembersCountAsNone() {
        // Shares are 1.5; neither member holds more than 1, so the tie goes to the lower id: m0 gets 2.
        let current: [MemberID?] = [MemberID("gone"), MemberID("gone"), member(0)]
        let plan = AssignmentPlanner.plan(partitionCount: 3, weights: [member(0): 1, member(1): 1], current: current)
        #expect(plan == [member(0), member(1), member(0)])
    }
}
