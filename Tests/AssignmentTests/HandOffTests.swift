import Assignment
import Testing

/// The hand-off state machine step by step with a manual clock: who is granted what, when, and never early.
struct HandOffTests {
    let a = member(0)
    let b = member(1)
    let c = member(2)

    func group(partitions: Int = 4, graceMs: Int64 = 10_000, revokeAfterMs: Int64 = 5_000) -> AssignmentGroup {
        AssignmentGroup(partitions: partitionSet(partitions), timings: timings(graceMs: graceMs, revokeAfterMs: revokeAfterMs))
    }

    /// a and b (weight 1 each) have split the partitions at t = 0: a holds the lower half, b the upper.
    func split(partitions: Int = 4, graceMs: Int64 = 10_000) throws -> AssignmentGroup {
        var group = group(partitions: partitions, graceMs: graceMs)
        _ = try group.join(a, weight: 1, now: 0).actions
        _ = try group.join(b, weight: 1, now: 0).actions
        _ = try group.released((partitions / 2..<partitions).map(String.init), by: a, now: 0).actions
        #expect(group.assignment(of: b) == MemberAssignment(owned: (partitions / 2..<partitions).map(String.init), releasing: []))
        return group
    }

    @Test func theFirstMemberIsGrantedEveryPartitionAtOnce() throws {
        var group = group()
        let actions = try group.join(a, weight: 1, now: 0).actions
        #expect(actions == ["0", "1", "2", "3"].map { .grant(partition: $0, to: a) })
        #expect(group.assignment(of: a) == MemberAssignment(owned: ["0", "1", "2", "3"], releasing: []))
        #expect(group.nextDeadline == nil)
    }

    @Test func aJoiningMemberIsGrantedOnlyWhatTheOwnerReleased() throws {
        var group = group()
        _ = try group.join(a, weight: 1, now: 0).actions

        // b joins: a is asked to give up its two highest partitions; b gets nothing yet.
        let joined = try group.join(b, weight: 1, now: 100).actions
        #expect(joined == [
            .askRelease(partition: "2", from: a, deadline: 5_100),
            .askRelease(partition: "3", from: a, deadline: 5_100),
            .scheduleWakeUp(at: 5_100),
        ])
        #expect(group.assignment(of: a)?.releasing.map(\.partition) == ["2", "3"])
        #expect(group.assignment(of: b) == MemberAssignment(owned: [], releasing: []))

        // a acknowledges "2": it is released, then granted to b.
        let acknowledged = try group.released(["2"], by: a, now: 200).actions
        #expect(acknowledged == [.released(partition: "2", by: a), .grant(partition: "2", to: b), .scheduleWakeUp(at: 5_100)])

        // A tick before the deadline does nothing; at the deadline "3" is revoked from a, then granted to b.
        #expect(group.tick(now: 5_099) == [.scheduleWakeUp(at: 5_100)])
        #expect(group.tick(now: 5_100) == [.revoke(partition: "3", from: a), .grant(partition: "3", to: b)])
        #expect(group.assignment(of: a) == MemberAssignment(owned: ["0", "1"], releasing: []))
        #expect(group.assignment(of: b) == MemberAssignment(owned: ["2", "3"], releasing: []))
        #expect(group.nextDeadline == nil)
    }

    @Test func anAcknowledgementThatCrossedARevocationIsPassedOver() throws {
        var group = group()
        _ = try group.join(a, weight: 1, now: 0).actions
        _ = try group.join(b, weight: 1, now: 0).actions
        _ = group.tick(now: 5_000)
        #expect(try group.released(["2", "3", "no-such"], by: a, now: 5_001).actions == [])
        #expect(group.assignment(of: b)?.owned == ["2", "3"])
    }

    @Test func anOwnerWhosePresenceEndsMidReleaseHandsOverAtOnce() throws {
        var group = group()
        _ = try group.join(a, weight: 1, now: 0).actions
        _ = try group.join(b, weight: 1, now: 0).actions

        // a's presence ends: its lease on "2" and "3" ended with it, so b gets them now; "0" and "1" wait for a.
        let actions = try group.disconnect(a, now: 1_000).actions
        #expect(actions == [.grant(partition: "2", to: b), .grant(partition: "3", to: b), .scheduleWakeUp(at: 11_000)])
        #expect(group.partitionStatuses.map(\.state) == [
            .reserved(a, until: 11_000), .reserved(a, until: 11_000), .owned(b), .owned(b),
        ])
    }

    @Test func aMemberReturningWithinItsGraceGetsItsPartitionsBackUnmoved() throws {
        var group = try split()

        #expect(try group.disconnect(a, now: 1_000).actions == [.scheduleWakeUp(at: 11_000)], "nothing moves during grace")
        #expect(group.tick(now: 10_999) == [.scheduleWakeUp(at: 11_000)])
        let back = try group.join(a, weight: 1, now: 10_999).actions
        #expect(back == [.grant(partition: "0", to: a), .grant(partition: "1", to: a)])
        #expect(group.assignment(of: b)?.owned == ["2", "3"])
    }

    @Test func afterTheGracePeriodTheAbsentMembersPartitionsAreReassigned() throws {
        var group = try split()
        _ = try group.disconnect(a, now: 1_000).actions

        let actions = group.tick(now: 11_000)
        #expect(actions == [.memberExpired(a), .grant(partition: "0", to: b), .grant(partition: "1", to: b)])
        #expect(group.memberStatuses.map(\.member) == [b])
        // Returning now is joining afresh: a gets a balanced share through releases by b.
        let rejoined = try group.join(a, weight: 1, now: 12_000).actions
        #expect(rejoined.filter { if case .grant = $0 { true } else { false } }.isEmpty)
        #expect(rejoined.filter { if case .askRelease = $0 { true } else { false } }.count == 2)
    }

    @Test func leavingReleasesTheLeasesBeforeAnyoneIsGrantedThem() throws {
        var group = try split()

        let actions = try group.leave(b, now: 20).actions
        #expect(actions == [
            .released(partition: "2", by: b), .released(partition: "3", by: b),
            .grant(partition: "2", to: a), .grant(partition: "3", to: a),
        ])
    }

    @Test func leavingWhileAbsentDropsTheReservationsWithoutReleases() throws {
        var group = try split()
        _ = try group.disconnect(a, now: 20).actions
        #expect(try group.leave(a, now: 30).actions == [.grant(partition: "0", to: b), .grant(partition: "1", to: b)])
    }

    @Test func withoutGraceADisconnectReassignsAtOnce() throws {
        var group = try split(graceMs: 0)
        // No `released`: the leases ended with the presence.
        #expect(try group.disconnect(a, now: 20).actions == [.grant(partition: "0", to: b), .grant(partition: "1", to: b)])
        #expect(group.memberStatuses.map(\.member) == [b])
    }

    @Test func anAbsentMemberGetsNothingNewAndThePresentOnesShareTheRest() throws {
        var group = try split(partitions: 6)
        _ = try group.disconnect(a, now: 10).actions
        // c joins while a is away: a's three stay reserved, b and c split b's three (c gets one or two).
        let actions = try group.join(c, weight: 1, now: 20).actions
        #expect(actions.allSatisfy { action in
            if case .askRelease(_, let from, _) = action { from == b } else if case .scheduleWakeUp = action { true } else { false }
        })
        let statuses = group.memberStatuses
        #expect(statuses.first { $0.member == a }?.target == 3)
        #expect(statuses.first { $0.member == c }.map { (1...2).contains($0.target) } == true)
    }

    @Test func aReturningMemberMayComeBackWithAnotherWeight() throws {
        var group = try split(partitions: 6)
        _ = try group.disconnect(a, now: 10).actions
        // a returns with weight 2: it is granted its three back, then b releases one to it.
        let actions = try group.join(a, weight: 2, now: 20).actions
        #expect(actions == [
            .grant(partition: "0", to: a), .grant(partition: "1", to: a), .grant(partition: "2", to: a),
            .askRelease(partition: "5", from: b, deadline: 5_020), .scheduleWakeUp(at: 5_020),
        ])
    }

    @Test func theWakeUpIsTheEarliestDeadlineOfReleasesAndGracePeriods() throws {
        var group = group(partitions: 4, graceMs: 3_000, revokeAfterMs: 5_000)
        _ = try group.join(a, weight: 1, now: 0).actions
        _ = try group.join(b, weight: 1, now: 0).actions   // a releases by 5,000
        _ = try group.join(c, weight: 1, now: 1_000).actions
        let actions = try group.disconnect(c, now: 1_500).actions  // c is back by 4,500
        #expect(actions.last == .scheduleWakeUp(at: 4_500))
        #expect(group.nextDeadline == 4_500)
    }
}
