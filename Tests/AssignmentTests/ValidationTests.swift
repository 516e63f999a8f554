import Assignment
import Testing

/// Bad input is refused with a clear value, and a refused input changes nothing.
struct ValidationTests {
    @Test(arguments: [
        ("", "must not be empty"),
        ("has space", "must be visible ASCII without spaces"),
        ("tab\t", "must be visible ASCII without spaces"),
        ("é", "must be visible ASCII without spaces"),
        (String(repeating: "x", count: 129), "exceeds maximum of 128 bytes"),
    ])
    func badNamesAreRefused(name: String, reason: String) {
        for kind in [AssignmentName.member, .partition, .group] {
            guard case .invalidName(let refusedKind, _, let refusedReason)? = limits.problem(with: name, as: kind) else {
                Issue.record("\(kind) \"\(name)\" was accepted")
                continue
            }
            #expect(refusedKind == kind && refusedReason == reason)
        }
    }

    @Test func onlyGroupNamesRefuseASlash() {
        #expect(limits.problem(with: "eu/1", as: .partition) == nil)
        #expect(limits.problem(with: "eu/1", as: .member) == nil)
        #expect(limits.problem(with: "eu/1", as: .group)?.message == "group name \"eu/1\" must not contain '/'")
        #expect(limits.problem(with: String(repeating: "x", count: 128), as: .group) == nil)
    }

    @Test func groupsAreBoundedPerStore() {
        let small = AssignmentLimits(maxGroups: 2)
        #expect(small.problemCreatingGroup(named: "g", existingGroups: 1) == nil)
        #expect(small.problemCreatingGroup(named: "g", existingGroups: 2) == .tooManyGroups(limit: 2))
        #expect(small.problemCreatingGroup(named: "g", existingGroups: 2)?.exceedsLimit == true)
        #expect(small.problemCreatingGroup(named: "", existingGroups: 0)?.exceedsLimit == false)
    }

    @Test func partitionDeclarationsAreValidated() {
        #expect(PartitionSet.count(0, limits: limits).rejection == .invalidPartitionCount(0, limit: 10_000))
        #expect(PartitionSet.count(10_001, limits: limits).rejection == .invalidPartitionCount(10_001, limit: 10_000))
        #expect(PartitionSet.count(10_000, limits: limits).rejection == nil)
        #expect(PartitionSet.count(10_001, limits: limits).rejection?.exceedsLimit == true)
        #expect(PartitionSet.count(0, limits: limits).rejection?.exceedsLimit == false)
        #expect(PartitionSet.named([], limits: limits).rejection == .invalidPartitionCount(0, limit: 10_000))
        #expect(PartitionSet.named(["a", "b", "a"], limits: limits).rejection == .duplicatePartition("a"))
        #expect(PartitionSet.named(["a", " "], limits: limits).rejection?.message == "partition name \" \" must be visible ASCII without spaces")
    }

    @Test func timingsAreValidatedAndDefaulted() throws {
        let defaults = try AssignmentTimings.validated(graceMs: nil, revokeAfterMs: nil, limits: limits).get()
        #expect(defaults == .defaults(limits) && defaults.graceMs == 30_000 && defaults.revokeAfterMs == 30_000)
        #expect(AssignmentTimings.validated(graceMs: 0, revokeAfterMs: 1, limits: limits).rejection == nil)
        #expect(AssignmentTimings.validated(graceMs: -1, revokeAfterMs: nil, limits: limits).rejection == .invalidGraceMs(-1, limit: 600_000))
        #expect(AssignmentTimings.validated(graceMs: 600_001, revokeAfterMs: nil, limits: limits).rejection == .invalidGraceMs(600_001, limit: 600_000))
        #expect(AssignmentTimings.validated(graceMs: nil, revokeAfterMs: 0, limits: limits).rejection == .invalidRevokeAfterMs(0, limit: 600_000))
    }

    @Test func badJoinsAreRefusedAndChangeNothing() throws {
        var group = AssignmentGroup(partitions: partitionSet(4), timings: timings(), limits: AssignmentLimits(maxMembers: 1, maxWeight: 5))
        #expect(group.join(MemberID("bad id"), weight: 1, now: 0).rejection?.message == "member id \"bad id\" must be visible ASCII without spaces")
        #expect(group.join(member(0), weight: 0, now: 0).rejection == .invalidWeight(0, limit: 5))
        #expect(group.join(member(0), weight: 6, now: 0).rejection == .invalidWeight(6, limit: 5))
        #expect(group.isEmpty)
        _ = try group.join(member(0), weight: 5, now: 0).actions
        #expect(group.join(member(0), weight: 1, now: 0).rejection == .memberAlreadyPresent(member(0)))
        #expect(group.join(member(1), weight: 1, now: 0).rejection == .tooManyMembers(limit: 1))
        #expect(group.memberStatuses == [MemberStatus(member: member(0), weight: 5, absentUntil: nil, holding: 4, target: 4)])
    }

    @Test func inputsFromMembersThatAreNotPresentAreRefused() throws {
        var group = AssignmentGroup(partitions: partitionSet(2), timings: timings())
        #expect(group.disconnect(member(0), now: 0).rejection == .unknownMember(member(0)))
        #expect(group.leave(member(0), now: 0).rejection == .unknownMember(member(0)))
        #expect(group.released(["0"], by: member(0), now: 0).rejection == .memberNotPresent(member(0)))
        _ = try group.join(member(0), weight: 1, now: 0).actions
        _ = try group.disconnect(member(0), now: 0).actions
        #expect(group.disconnect(member(0), now: 1).rejection == .memberNotPresent(member(0)))
        #expect(group.released(["0"], by: member(0), now: 1).rejection == .memberNotPresent(member(0)))
        #expect(group.assignment(of: member(0)) == nil, "an absent member has no assignment to be sent")
    }
}
