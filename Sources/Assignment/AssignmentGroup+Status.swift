/// One partition as `assignment_list` shows it.
public struct PartitionStatus: Sendable, Hashable {
    /// Where the partition stands.
    public enum State: Sendable, Hashable {
        /// No lease; nobody to grant it to (the group has no present member, or none in the partition's zone).
        case unowned
        /// The member holds the partition's lease.
        case owned(MemberID)
        /// The member is absent; the partition waits for it, unleased, until its grace period ends.
        case reserved(MemberID, until: Int64)
        /// The member holds the lease and has been asked to release it by `deadline`.
        case releasing(MemberID, deadline: Int64)
    }

    /// The partition's name.
    public var partition: String
    /// Where it stands.
    public var state: State
    /// Where the plan puts it; nil for a removed partition or when the group has no present member.
    public var target: MemberID?
    /// True for a partition an update removed that its owner is still releasing.
    public var removed: Bool
    /// The zone the partition is pinned to, if any.
    public var zone: String?
    /// Why the plan gives the partition to nobody while members are present (`no member in zone a`), if so.
    public var unplaceable: String?

    /// Creates a status.
    public init(
        partition: String, state: State, target: MemberID?, removed: Bool, zone: String? = nil, unplaceable: String? = nil
    ) {
        self.partition = partition
        self.state = state
        self.target = target
        self.removed = removed
        self.zone = zone
        self.unplaceable = unplaceable
    }
}

/// One member as `assignment_list` shows it.
public struct MemberStatus: Sendable, Hashable {
    /// The member's id.
    public var member: MemberID
    /// Its weight.
    public var weight: Int
    /// Nil while present; while absent, when its grace period ends (monotonic ms).
    public var absentUntil: Int64?
    /// Partitions it owns, is releasing, or has reserved.
    public var holding: Int
    /// Partitions the plan gives it.
    public var target: Int
    /// The zone it declared, if any.
    public var zone: String?

    /// Creates a status.
    public init(member: MemberID, weight: Int, absentUntil: Int64?, holding: Int, target: Int, zone: String? = nil) {
        self.member = member
        self.weight = weight
        self.absentUntil = absentUntil
        self.holding = holding
        self.target = target
        self.zone = zone
    }
}

extension AssignmentGroup {
    /// What `member` owns and must release, or nil when it is not present.
    public func assignment(of member: MemberID) -> MemberAssignment? {
        guard let record = members[member], record.absentUntil == nil else { return nil }
        var assignment = MemberAssignment(owned: [], releasing: [])
        for (index, state) in states.enumerated() {
            switch state {
            case .owned(let owner) where owner == member:
                assignment.owned.append(partitions.names[index])
            case .releasing(let owner, let due) where owner == member:
                assignment.releasing.append(.init(partition: partitions.names[index], deadline: due))
            default:
                break
            }
        }
        for name in retiring.keys.sorted() {
            if let entry = retiring[name], entry.member == member {
                assignment.releasing.append(.init(partition: name, deadline: entry.deadline))
            }
        }
        return assignment
    }

    /// Every member, present or absent, sorted by id.
    public var memberStatuses: [MemberStatus] {
        var holding: [MemberID: Int] = [:]
        var target: [MemberID: Int] = [:]
        for (index, state) in states.enumerated() {
            switch state {
            case .owned(let owner), .releasing(let owner, _): holding[owner, default: 0] += 1
            case .unowned: break
            }
            if let planned = targets[index] { target[planned, default: 0] += 1 }
        }
        for entry in retiring.values { holding[entry.member, default: 0] += 1 }
        return members.sorted { $0.key < $1.key }.map { member, record in
            MemberStatus(
                member: member, weight: record.weight, absentUntil: record.absentUntil,
                holding: holding[member] ?? 0, target: target[member] ?? 0, zone: record.zone)
        }
    }

    /// Every partition in declared order, then the removed ones still being released, by name.
    public var partitionStatuses: [PartitionStatus] {
        var statuses: [PartitionStatus] = []
        statuses.reserveCapacity(states.count + retiring.count)
        let anyPresent = members.values.contains { $0.absentUntil == nil }
        var zonesPresent = Set<String>()
        for record in members.values where record.absentUntil == nil {
            if let zone = record.zone { zonesPresent.insert(zone) }
        }
        for (index, state) in states.enumerated() {
            let shown: PartitionStatus.State
            switch state {
            case .unowned:
                shown = .unowned
            case .owned(let owner):
                if let until = members[owner]?.absentUntil { shown = .reserved(owner, until: until) } else { shown = .owned(owner) }
            case .releasing(let owner, let due):
                shown = .releasing(owner, deadline: due)
            }
            let zone = zones.zones[partitions.names[index]]
            let unplaceable = zone.flatMap { zone in
                anyPresent && targets[index] == nil && !zonesPresent.contains(zone) ? "no member in zone \(zone)" : nil
            }
            statuses.append(PartitionStatus(
                partition: partitions.names[index], state: shown, target: targets[index], removed: false, zone: zone,
                unplaceable: unplaceable))
        }
        for name in retiring.keys.sorted() {
            guard let entry = retiring[name] else { continue }
            statuses.append(PartitionStatus(
                partition: name, state: .releasing(entry.member, deadline: entry.deadline), target: nil, removed: true))
        }
        return statuses
    }

    /// True when the group has no member, present or absent: the service may forget it. (Nothing can be
    /// held then: every lease and reservation belongs to a member.)
    public var isEmpty: Bool { members.isEmpty }

    /// Members, present or absent within their grace period.
    public var memberCount: Int { members.count }
}
