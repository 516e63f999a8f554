/// The hand-off state machine of one group: who is a member, who owns each partition, who must give one up.
///
/// Pure: it reads no clock and does no I/O. Every input carries `now` (milliseconds on the server's monotonic
/// clock) and returns the actions the shell must carry out, in order (see `AssignmentAction`); a refused input
/// returns a rejection and changes nothing.
///
/// Each partition is in one of three states:
/// - **unowned**: no lease. It is granted at once to its target, if it has one.
/// - **owned by a member**: that member holds the partition's lease while it is present. While the member is
///   absent within its grace period the partition is *reserved* for it: its lease ended with its presence, and
///   nobody else is granted it until the member returns (it is granted back, without moving) or the grace
///   period ends (it becomes unowned and is reassigned).
/// - **releasing**: its owner has been asked to give it up and still holds the lease. It becomes unowned when the
///   owner acknowledges, leaves, or loses its presence, or when `revokeAfterMs` has passed (it is revoked).
///
/// A partition is granted only from *unowned*, so never while another member's lease on it is live. Every
/// membership change re-plans the target with `AssignmentPlanner` over the present members and the partitions
/// not reserved for an absent one; a partition owned by a present member whose target is another member is
/// asked to be released. A release once asked is never withdrawn.
public struct AssignmentGroup: Sendable {
    /// A member of the group: present, or absent until its grace period ends.
    struct Member: Sendable, Hashable {
        var weight: Int
        /// The zone it declared, if any: only members of a zone receive the partitions pinned to it.
        var zone: String?
        /// Nil while present; while absent, when its grace period ends (monotonic ms).
        var absentUntil: Int64?
    }

    /// Where one partition stands (see the type's comment).
    enum PartitionState: Sendable, Hashable {
        case unowned
        case owned(MemberID)
        case releasing(from: MemberID, deadline: Int64)
    }

    /// A partition an update removed while a present member still held its lease: it is being released and is
    /// granted to nobody.
    struct Retiring: Sendable, Hashable {
        var member: MemberID
        var deadline: Int64
    }

    /// The bounds this group enforces.
    public let limits: AssignmentLimits
    /// The group's partitions, in declared order.
    public internal(set) var partitions: PartitionSet
    /// The partitions pinned to zones; every pinned name is one of `partitions`.
    public internal(set) var zones: PartitionZones
    /// The grace period and release bound. A change applies to deadlines set after it.
    public var timings: AssignmentTimings

    var members: [MemberID: Member] = [:]
    /// One entry per partition of `partitions`, at the same index.
    var states: [PartitionState]
    /// The planner's choice for each partition: a present member, or the absent member it is reserved for.
    var targets: [MemberID?]
    var indexByName: [String: Int]
    var retiring: [String: Retiring] = [:]

    /// Creates a group with no members; every partition is unowned. `zones` must pin only `partitions`.
    public init(
        partitions: PartitionSet, zones: PartitionZones = .none, timings: AssignmentTimings,
        limits: AssignmentLimits = AssignmentLimits()
    ) {
        precondition(zones.fits(partitions), "AssignmentGroup: zones pin partitions the group does not declare")
        self.limits = limits
        self.partitions = partitions
        self.zones = zones
        self.timings = timings
        states = Array(repeating: .unowned, count: partitions.count)
        targets = Array(repeating: nil, count: partitions.count)
        indexByName = Self.index(partitions)
    }

    // MARK: - Inputs

    /// `member` joins with `weight`, in `zone` if it names one, or returns within its grace period (its
    /// reserved partitions are granted back to it first, unmoved; its weight and zone may have changed). Then
    /// the group is re-planned.
    public mutating func join(
        _ member: MemberID, weight: Int, zone: String? = nil, now: Int64
    ) -> Result<[AssignmentAction], AssignmentRejection> {
        if let problem = limits.problem(with: member.name, as: .member) { return .failure(problem) }
        if let zone, let problem = limits.problem(with: zone, as: .zone) { return .failure(problem) }
        guard (1...limits.maxWeight).contains(weight) else {
            return .failure(.invalidWeight(weight, limit: limits.maxWeight))
        }
        var actions: [AssignmentAction] = []
        if let known = members[member] {
            guard known.absentUntil != nil else { return .failure(.memberAlreadyPresent(member)) }
            for index in states.indices where states[index] == .owned(member) {
                actions.append(.grant(partition: partitions.names[index], to: member))
            }
        } else {
            guard members.count < limits.maxMembers else { return .failure(.tooManyMembers(limit: limits.maxMembers)) }
        }
        members[member] = Member(weight: weight, zone: zone, absentUntil: nil)
        return .success(replanned(after: actions, now: now))
    }

    /// `member`'s presence ended (its stream or its worker's presence ended) and, with it, every lease bound
    /// to it. Partitions it was releasing become unowned and go to their targets at once; partitions it owned
    /// are reserved for it until `now + graceMs` (with no grace, it is removed as by `leave`, its partitions
    /// reassigned at once).
    public mutating func disconnect(_ member: MemberID, now: Int64) -> Result<[AssignmentAction], AssignmentRejection> {
        guard let known = members[member] else { return .failure(.unknownMember(member)) }
        guard known.absentUntil == nil else { return .failure(.memberNotPresent(member)) }
        var actions: [AssignmentAction] = []
        if timings.graceMs == 0 {
            remove(member, leasesLive: false, into: &actions)
        } else {
            members[member]?.absentUntil = deadline(after: now, ms: timings.graceMs)
            for index in states.indices {
                if case .releasing(let from, _) = states[index], from == member { states[index] = .unowned }
            }
            for name in retiring.keys where retiring[name]?.member == member { retiring[name] = nil }
        }
        return .success(replanned(after: actions, now: now))
    }

    /// `member` leaves the group for good, at once and without grace: a present member's leases are released
    /// (`released` actions, before the grants that follow), an absent member's reservations are dropped.
    public mutating func leave(_ member: MemberID, now: Int64) -> Result<[AssignmentAction], AssignmentRejection> {
        guard let known = members[member] else { return .failure(.unknownMember(member)) }
        var actions: [AssignmentAction] = []
        remove(member, leasesLive: known.absentUntil == nil, into: &actions)
        return .success(replanned(after: actions, now: now))
    }

    /// `member` acknowledges that it stopped working on `released`: each partition it was asked to release is
    /// released and granted to its target. Any other name is passed over: the acknowledgement may cross a
    /// revocation or an update on the wire.
    public mutating func released(
        _ released: [String], by member: MemberID, now: Int64
    ) -> Result<[AssignmentAction], AssignmentRejection> {
        guard let known = members[member], known.absentUntil == nil else { return .failure(.memberNotPresent(member)) }
        var actions: [AssignmentAction] = []
        for name in released {
            if let index = indexByName[name], case .releasing(let from, _) = states[index], from == member {
                states[index] = .unowned
                actions.append(.released(partition: name, by: member))
                grantIfTargeted(index, into: &actions)
            } else if retiring[name]?.member == member {
                retiring[name] = nil
                actions.append(.released(partition: name, by: member))
            }
        }
        appendWakeUp(to: &actions)
        return .success(actions)
    }

    /// Revokes every release whose deadline is at or before `now`, ends every grace period that has passed
    /// (re-planning without those members), and grants what became unowned.
    public mutating func tick(now: Int64) -> [AssignmentAction] {
        var actions: [AssignmentAction] = []
        for index in states.indices {
            if case .releasing(let from, let due) = states[index], due <= now {
                states[index] = .unowned
                actions.append(.revoke(partition: partitions.names[index], from: from))
            }
        }
        for name in retiring.keys.sorted() {
            guard let entry = retiring[name], entry.deadline <= now else { continue }
            retiring[name] = nil
            actions.append(.revoke(partition: name, from: entry.member))
        }
        let expired = members.filter { $0.value.absentUntil.map { $0 <= now } ?? false }.keys.sorted()
        for member in expired {
            remove(member, leasesLive: false, into: &actions)
            actions.append(.memberExpired(member))
        }
        if !expired.isEmpty { replan() }
        reconcile(now: now, into: &actions)
        appendWakeUp(to: &actions)
        return actions
    }

    // MARK: - Shared steps

    /// Takes `member` out of the group; everything it owned or was releasing becomes unowned. With
    /// `leasesLive`, the member is present and still holds those leases, so each gets a `released` action.
    mutating func remove(_ member: MemberID, leasesLive: Bool, into actions: inout [AssignmentAction]) {
        members[member] = nil
        for index in states.indices {
            switch states[index] {
            case .owned(let owner) where owner == member, .releasing(let owner, _) where owner == member:
                states[index] = .unowned
                if leasesLive { actions.append(.released(partition: partitions.names[index], by: member)) }
            default:
                break
            }
        }
        for name in retiring.keys.sorted() where retiring[name]?.member == member {
            retiring[name] = nil
            if leasesLive { actions.append(.released(partition: name, by: member)) }
        }
    }

    static func index(_ partitions: PartitionSet) -> [String: Int] {
        var index: [String: Int] = [:]
        index.reserveCapacity(partitions.count)
        for (position, name) in partitions.names.enumerated() { index[name] = position }
        return index
    }
}

/// `now + ms`, saturating: a deadline at `Int64.max` is as good as never for any clock that can be read.
func deadline(after now: Int64, ms: Int64) -> Int64 {
    let (sum, overflow) = now.addingReportingOverflow(ms)
    return overflow ? Int64.max : sum
}
