extension AssignmentGroup {
    /// Recomputes every partition's target from the present members and the zones partitions are pinned to.
    ///
    /// A partition reserved for an absent member keeps that member as its target and is left out of the plan,
    /// so absence moves nothing and the present members are balanced over the rest. A partition being released
    /// enters the plan as unowned: its owner gives it up whatever the plan says, so only partitions that are
    /// actually held count as moves.
    mutating func replan() {
        var weights: [MemberID: Int] = [:]
        var memberZones: [MemberID: String] = [:]
        for (member, record) in members where record.absentUntil == nil {
            weights[member] = record.weight
            memberZones[member] = record.zone
        }
        var planned: [Int] = []
        var current: [MemberID?] = []
        var pins: [String?] = []
        planned.reserveCapacity(states.count)
        current.reserveCapacity(states.count)
        pins.reserveCapacity(states.count)
        for index in states.indices {
            switch states[index] {
            case .owned(let owner) where weights[owner] == nil:
                precondition(members[owner] != nil, "AssignmentGroup: partition \(index) owned by non-member \(owner)")
                targets[index] = owner
            case .owned(let owner):
                planned.append(index)
                current.append(owner)
                pins.append(zones.zones[partitions.names[index]])
            case .unowned, .releasing:
                planned.append(index)
                current.append(nil)
                pins.append(zones.zones[partitions.names[index]])
            }
        }
        let plan = AssignmentPlanner.plan(
            partitionCount: planned.count, weights: weights, current: current, memberZones: memberZones,
            partitionZones: pins)
        for (position, index) in planned.enumerated() { targets[index] = plan[position] }
    }

    /// The end of every membership or partition change: re-plan, move the partitions towards the new plan,
    /// and re-arm the wake-up, after the `actions` the change itself produced.
    mutating func replanned(after actions: [AssignmentAction], now: Int64) -> [AssignmentAction] {
        var actions = actions
        replan()
        reconcile(now: now, into: &actions)
        appendWakeUp(to: &actions)
        return actions
    }

    /// Moves every partition towards its target: an unowned one is granted, one owned by a present member
    /// that is not its target is asked to be released. Grants come before requests to release.
    mutating func reconcile(now: Int64, into actions: inout [AssignmentAction]) {
        var requests: [AssignmentAction] = []
        for index in states.indices {
            switch states[index] {
            case .unowned:
                grantIfTargeted(index, into: &actions)
            case .owned(let owner) where targets[index] != owner:
                let due = deadline(after: now, ms: timings.revokeAfterMs)
                states[index] = .releasing(from: owner, deadline: due)
                requests.append(.askRelease(partition: partitions.names[index], from: owner, deadline: due))
            case .owned, .releasing:
                break
            }
        }
        actions += requests
    }

    /// Grants the unowned partition at `index` to its target, if it has one.
    mutating func grantIfTargeted(_ index: Int, into actions: inout [AssignmentAction]) {
        guard let target = targets[index] else { return }
        precondition(
            members[target]?.absentUntil == nil, "AssignmentGroup: unowned partition \(index) targets absent \(target)")
        states[index] = .owned(target)
        actions.append(.grant(partition: partitions.names[index], to: target))
    }

    /// Appends the wake-up for the earliest pending deadline, if any: the last action of every input.
    func appendWakeUp(to actions: inout [AssignmentAction]) {
        if let next = nextDeadline { actions.append(.scheduleWakeUp(at: next)) }
    }

    /// The earliest pending deadline (monotonic ms): a release bound or the end of a grace period.
    public var nextDeadline: Int64? {
        var earliest: Int64?
        func consider(_ candidate: Int64) { earliest = min(earliest ?? candidate, candidate) }
        for state in states {
            if case .releasing(_, let due) = state { consider(due) }
        }
        for entry in retiring.values { consider(entry.deadline) }
        for record in members.values {
            if let until = record.absentUntil { consider(until) }
        }
        return earliest
    }
}
