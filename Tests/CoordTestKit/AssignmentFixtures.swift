import StreamCore

extension AssignmentGroupInfo {
    /// A listing of a group that uses zones: a member in zone a holding a partition pinned to a and an unpinned
    /// one, and a partition pinned to zone b, which has no member. Shared by the wire and coordctl tests.
    public static let zonedExample = AssignmentGroupInfo(
        group: "g", partitionCount: 3, graceMs: 30_000, revokeAfterMs: 30_000,
        members: [.init(memberID: "m", weight: 1, present: true, holding: 2, target: 2, zone: "a")],
        partitions: [
            .init(partition: "0", state: .owned, owner: "m", fence: 7, zone: "a"),
            .init(partition: "1", state: .unowned, zone: "b", unplaceable: "no member in zone b"),
            .init(partition: "2", state: .owned, owner: "m", fence: 8),
        ])
}
