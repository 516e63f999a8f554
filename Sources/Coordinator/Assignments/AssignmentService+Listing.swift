import Assignment
import StreamCore

extension AssignmentService {
    /// `assignment_list`: the named group, or every group in name order up to `limit`.
    func list(_ request: AssignmentList) -> [AssignmentGroupInfo] {
        let limit = request.limit == 0 ? limits.maxListedGroups : Int(min(request.limit, UInt64(limits.maxListedGroups)))
        return state.withLock { s in
            let names = request.group.isEmpty ? Array(s.groups.keys.sorted().prefix(limit)) : [request.group]
            return names.compactMap { name in s.groups[name].map { info($0, named: name) } }
        }
    }

    /// One group as the listing shows it; deadlines on the server's wall clock.
    private func info(_ group: Group, named name: String) -> AssignmentGroupInfo {
        let monoNow = monotonicClock.nowMs()
        let wallNow = wallClock.nowMs()
        func wall(_ deadline: Int64) -> Int64 { wallNow + (deadline - monoNow) }
        let members = group.engine.memberStatuses.map { status in
            AssignmentGroupInfo.Member(
                memberID: status.member.name, weight: Int64(status.weight), present: status.absentUntil == nil,
                returnsBy: status.absentUntil.map(wall), holding: status.holding, target: status.target, zone: status.zone)
        }
        let partitions = group.engine.partitionStatuses.map { status -> AssignmentGroupInfo.Partition in
            var listed = partition(status, fences: group.fences, wall: wall)
            listed.zone = status.zone
            listed.unplaceable = status.unplaceable
            return listed
        }
        return AssignmentGroupInfo(
            group: name, partitionCount: group.engine.partitions.count, graceMs: group.engine.timings.graceMs,
            revokeAfterMs: group.engine.timings.revokeAfterMs, members: members, partitions: partitions)
    }

    /// One partition as the listing shows it.
    private func partition(
        _ status: PartitionStatus, fences: [String: UInt64], wall: (Int64) -> Int64
    ) -> AssignmentGroupInfo.Partition {
        let target = status.target?.name
        switch status.state {
        case .unowned:
            return .init(partition: status.partition, state: .unowned, target: target, removed: status.removed)
        case .owned(let owner):
            return .init(partition: status.partition, state: .owned, owner: owner.name,
                         fence: fences[status.partition], target: target == owner.name ? nil : target,
                         removed: status.removed)
        case .reserved(let owner, let until):
            return .init(partition: status.partition, state: .reserved, owner: owner.name, returnsBy: wall(until),
                         removed: status.removed)
        case .releasing(let owner, let deadline):
            return .init(partition: status.partition, state: .releasing, owner: owner.name,
                         fence: fences[status.partition], releaseBy: wall(deadline), target: target,
                         removed: status.removed)
        }
    }
}
