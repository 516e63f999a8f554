import Assignment
import Testing

/// A group whose members declare zones and whose declaration pins partitions to zones.
struct ZoneGroupTests {
    let a = member(0)
    let b = member(1)

    func pins(_ zones: [String: String], count: Int = 4) throws -> PartitionZones {
        try PartitionZones.validated(zones, partitions: partitionSet(count), limits: limits).get()
    }

    @Test func aPartitionPinnedToAZoneWithoutMembersWaitsAndIsListedAsUnplaceable() throws {
        var group = AssignmentGroup(partitions: partitionSet(4), zones: try pins(["0": "a", "1": "b"]), timings: timings())
        #expect(try group.join(a, weight: 1, zone: "a", now: 0).actions == [
            .grant(partition: "0", to: a), .grant(partition: "2", to: a), .grant(partition: "3", to: a),
        ])
        let waiting = try #require(group.partitionStatuses.first { $0.partition == "1" })
        #expect(waiting == PartitionStatus(
            partition: "1", state: .unowned, target: nil, removed: false, zone: "b", unplaceable: "no member in zone b"))
        #expect(group.partitionStatuses.filter { $0.unplaceable != nil }.count == 1)

        // A member in zone b takes the pinned partition at once, and the unpinned ones level the totals: 2 each.
        #expect(try group.join(b, weight: 1, zone: "b", now: 10).actions == [
            .grant(partition: "1", to: b), .askRelease(partition: "3", from: a, deadline: 5_010), .scheduleWakeUp(at: 5_010),
        ])
        #expect(group.partitionStatuses.allSatisfy { $0.unplaceable == nil })
        #expect(group.memberStatuses.map(\.zone) == ["a", "b"])
        #expect(group.memberStatuses.map(\.target) == [2, 2])
    }

    @Test func aMemberWithoutAZoneGetsOnlyUnpinnedPartitions() throws {
        var group = AssignmentGroup(partitions: partitionSet(4), zones: try pins(["0": "a", "1": "a"]), timings: timings())
        #expect(try group.join(a, weight: 1, now: 0).actions == [.grant(partition: "2", to: a), .grant(partition: "3", to: a)])
        #expect(group.partitionStatuses.compactMap(\.unplaceable) == ["no member in zone a", "no member in zone a"])
    }

    @Test func pinningAHeldPartitionElsewhereMovesItByHandOff() throws {
        var group = AssignmentGroup(partitions: partitionSet(4), timings: timings())
        _ = try group.join(a, weight: 1, zone: "a", now: 0).actions
        _ = try group.join(b, weight: 1, zone: "b", now: 0).actions
        _ = try group.released(["2", "3"], by: a, now: 0).actions
        #expect(group.assignment(of: a)?.owned == ["0", "1"])

        // "0" is pinned to b's zone: a gives it up, and b sheds one unpinned partition to keep the totals level.
        let actions = try group.updatePartitions(partitionSet(4), zones: try pins(["0": "b"]), now: 100).actions
        #expect(actions.contains(.askRelease(partition: "0", from: a, deadline: 5_100)))
        #expect(group.zones.zones == ["0": "b"])
        #expect(try group.released(["0"], by: a, now: 200).actions.contains(.grant(partition: "0", to: b)))
        #expect(group.memberStatuses.map(\.target) == [2, 2])

        // With no member left in zone b the pinned partition is released and waits.
        _ = try group.leave(b, now: 300).actions
        #expect(group.partitionStatuses.first?.unplaceable == "no member in zone b")
        #expect(group.assignment(of: a)?.owned.contains("0") == false)
    }

    @Test func anUpdateWithoutPinsKeepsThoseOfPartitionsStillDeclared() throws {
        var group = AssignmentGroup(partitions: partitionSet(4), zones: try pins(["0": "a", "3": "b"]), timings: timings())
        _ = try group.updatePartitions(partitionSet(2), now: 0).actions
        #expect(group.zones.zones == ["0": "a"])
        _ = try group.updatePartitions(partitionSet(4), zones: try pins(["3": "a"]), now: 0).actions
        #expect(group.zones.zones == ["3": "a"])
        let refused = group.updatePartitions(partitionSet(2), zones: try pins(["3": "a"]), now: 0)
        #expect(refused.rejection == .unknownPinnedPartition("3"))
        #expect(group.partitions == partitionSet(4), "a refused update changes nothing")
    }

    @Test func pinsAndZonesAreValidated() throws {
        let four = partitionSet(4)
        #expect(PartitionZones.validated(["9": "a"], partitions: four, limits: limits) == .failure(.unknownPinnedPartition("9")))
        #expect(PartitionZones.validated(["0": "a b"], partitions: four, limits: limits)
            == .failure(.invalidName(.zone, name: "a b", reason: "must be visible ASCII without spaces")))
        #expect(PartitionZones.validated(["0": ""], partitions: four, limits: limits)
            == .failure(.invalidName(.zone, name: "", reason: "must not be empty")))
        let oneZone = AssignmentLimits(maxZones: 1)
        #expect(PartitionZones.validated(["0": "a", "1": "a"], partitions: four, limits: oneZone).rejection == nil)
        let tooMany = PartitionZones.validated(["0": "a", "1": "b"], partitions: four, limits: oneZone)
        #expect(tooMany == .failure(.tooManyZones(limit: 1)))
        #expect(tooMany.rejection?.exceedsLimit == true)

        var group = AssignmentGroup(partitions: four, timings: timings())
        let long = String(repeating: "z", count: limits.maxNameBytes + 1)
        let refused = group.join(a, weight: 1, zone: long, now: 0)
        #expect(refused.rejection
            == .invalidName(.zone, name: String(long.prefix(32)), reason: "exceeds maximum of \(limits.maxNameBytes) bytes"))
        #expect(group.memberCount == 0)
    }

    @Test func aMemberReturningInAnotherZoneGetsItsReservationsThenGivesUpWhatIsPinnedElsewhere() throws {
        var group = AssignmentGroup(partitions: partitionSet(2), zones: try pins(["0": "a"], count: 2), timings: timings())
        _ = try group.join(a, weight: 1, zone: "a", now: 0).actions
        _ = try group.disconnect(a, now: 10).actions
        let actions = try group.join(a, weight: 1, zone: "b", now: 20).actions
        #expect(actions.prefix(2) == [.grant(partition: "0", to: a), .grant(partition: "1", to: a)])
        #expect(actions.contains(.askRelease(partition: "0", from: a, deadline: 5_020)))
    }
}
