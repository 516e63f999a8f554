/// One thing the shell must do, in the order the engine returns them.
///
/// Every lease a partition had ends (`released`, `revoke`, or its owner's presence ending) before the
/// partition is granted again, and the engine never returns a `grant` for a partition whose previous lease it
/// has not seen end; so a shell that carries the actions out in order never holds two leases on a partition.
public enum AssignmentAction: Sendable, Hashable {
    /// Give `partition` to `member`: acquire the lease `$assign/<group>/<partition>` for holder `member`, bound
    /// to the member's presence (the lease engine issues a new, higher fence), then tell the member it owns the
    /// partition under that fence.
    case grant(partition: String, to: MemberID)
    /// Tell `member` to stop working on `partition` and acknowledge by `deadline` (monotonic ms); it keeps its
    /// lease until then. Its acknowledgement is `AssignmentGroup.released(_:by:now:)`.
    case askRelease(partition: String, from: MemberID, deadline: Int64)
    /// `member` gave `partition` up (it acknowledged, or it left the group): release its lease now, before any
    /// grant that follows.
    case released(partition: String, by: MemberID)
    /// `member` did not release `partition` in time: release its lease now, before any grant that follows,
    /// and tell the member the partition was revoked.
    case revoke(partition: String, from: MemberID)
    /// `member`'s grace period ended without it returning: it is no longer in the group. It held no lease.
    case memberExpired(MemberID)
    /// Call `tick(now:)` at `at` (monotonic ms): the earliest pending deadline. Always the last action, present
    /// whenever a deadline is pending; a tick that comes early or late is harmless.
    case scheduleWakeUp(at: Int64)
}

/// A present member's share of the group, for its assignment message.
public struct MemberAssignment: Sendable, Hashable {
    /// The partitions the member owns and may work on, in the group's partition order.
    public var owned: [String]
    /// The partitions the member has been asked to release, each with its deadline (monotonic ms), in the
    /// group's partition order, then removed partitions by name.
    public var releasing: [Releasing]

    /// A partition being released, and by when.
    public struct Releasing: Sendable, Hashable {
        /// The partition's name.
        public var partition: String
        /// When it will be revoked unless released first (monotonic ms).
        public var deadline: Int64

        /// Creates an entry.
        public init(partition: String, deadline: Int64) {
            self.partition = partition
            self.deadline = deadline
        }
    }

    /// Creates an assignment.
    public init(owned: [String], releasing: [Releasing]) {
        self.owned = owned
        self.releasing = releasing
    }
}
