import Assignment
import Testing

/// Changing a group's partitions: matched by name, removed ones released cooperatively, new ones placed.
struct PartitionUpdateTests {
    let a = member(0)
    let b = member(1)

    func named(_ names: [String]) throws -> PartitionSet {
        try PartitionSet.named(names, limits: limits).get()
    }

    @Test func aCountIsTheSameDeclarationAsTheNamesOfItsIndices() throws {
        #expect(try PartitionSet.count(3, limits: limits).get() == named(["0", "1", "2"]))
        #expect(try PartitionSet.count(3, limits: limits).get() != named(["0", "2", "1"]))
    }

    @Test func addedPartitionsArePlacedAndKeptOnesStay() throws {
        var group = AssignmentGroup(partitions: try named(["x", "y"]), timings: timings())
        _ = try group.join(a, weight: 1, now: 0).actions
        _ = try group.join(b, weight: 1, now: 0).actions
        _ = try group.released(["y"], by: a, now: 0).actions

        let actions = try group.updatePartitions(try named(["x", "y", "z", "w"]), now: 10).actions
        #expect(actions == [.grant(partition: "z", to: a), .grant(partition: "w", to: b)])
    }

    @Test func aRemovedPartitionIsReleasedByItsOwnerAndGrantedToNobody() throws {
        var group = AssignmentGroup(partitions: try named(["x", "y", "z"]), timings: timings())
        _ = try group.join(a, weight: 1, now: 0).actions

        let actions = try group.updatePartitions(try named(["x", "z"]), now: 10).actions
        #expect(actions == [.askRelease(partition: "y", from: a, deadline: 5_010), .scheduleWakeUp(at: 5_010)])
        #expect(group.assignment(of: a) == MemberAssignment(owned: ["x", "z"], releasing: [.init(partition: "y", deadline: 5_010)]))
        #expect(group.partitionStatuses.last == PartitionStatus(
            partition: "y", state: .releasing(a, deadline: 5_010), target: nil, removed: true))

        #expect(try group.released(["y"], by: a, now: 20).actions == [.released(partition: "y", by: a)])
        #expect(group.partitionStatuses.map(\.partition) == ["x", "z"])
    }

    @Test func aRemovedPartitionNotReleasedInTimeIsRevoked() throws {
        var group = AssignmentGroup(partitions: try named(["x", "y"]), timings: timings())
        _ = try group.join(a, weight: 1, now: 0).actions
        _ = try group.updatePartitions(try named(["x"]), now: 0).actions
        #expect(group.tick(now: 5_000) == [.revoke(partition: "y", from: a)])
        #expect(group.assignment(of: a) == MemberAssignment(owned: ["x"], releasing: []))
    }

    @Test func aPartitionAddedBackWhileBeingReleasedWaitsForTheRelease() throws {
        var group = AssignmentGroup(partitions: try named(["x", "y"]), timings: timings())
        _ = try group.join(a, weight: 1, now: 0).actions
        _ = try group.updatePartitions(try named(["x"]), now: 0).actions

        // "y" comes back while a still holds its lease: it is not granted until a lets go.
        #expect(try group.updatePartitions(try named(["x", "y"]), now: 10).actions == [.scheduleWakeUp(at: 5_000)])
        #expect(try group.released(["y"], by: a, now: 20).actions == [.released(partition: "y", by: a), .grant(partition: "y", to: a)])
    }

    @Test func aRemovedPartitionReservedForAnAbsentMemberIsDropped() throws {
        var group = AssignmentGroup(partitions: try named(["x", "y"]), timings: timings())
        _ = try group.join(a, weight: 1, now: 0).actions
        _ = try group.disconnect(a, now: 0).actions
        #expect(try group.updatePartitions(try named(["x"]), now: 10).actions == [.scheduleWakeUp(at: 10_000)])
        #expect(try group.join(a, weight: 1, now: 20).actions == [.grant(partition: "x", to: a)])
    }

    @Test func partitionsInHandAreBoundedAcrossUpdates() throws {
        let small = AssignmentLimits(maxPartitions: 4)
        var group = AssignmentGroup(
            partitions: try PartitionSet.named(["a", "b", "c"], limits: small).get(), timings: .defaults(small), limits: small)
        _ = try group.join(a, weight: 1, now: 0).actions
        // Removing a, b, c while adding d, e would leave 2 declared + 3 being released = 5 in hand.
        let refused = group.updatePartitions(try PartitionSet.named(["d", "e"], limits: small).get(), now: 0)
        #expect(refused.rejection == .tooManyPartitionsInHand(limit: 4))
        #expect(group.partitionStatuses.map(\.partition) == ["a", "b", "c"], "a refused update changes nothing")
        _ = try group.updatePartitions(try PartitionSet.named(["d"], limits: small).get(), now: 0).actions
        _ = try group.released(["a", "b", "c"], by: a, now: 1).actions
        #expect(group.updatePartitions(try PartitionSet.named(["d", "e", "f", "g"], limits: small).get(), now: 2).rejection == nil)
    }
}
