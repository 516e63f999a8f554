import CoordClient
import StreamCore

extension CtlFormat {
    /// One line per group: its partitions, members present and absent, partitions owned and moving.
    static func assignmentGroups(_ groups: [AssignmentGroupInfo]) -> String {
        guard !groups.isEmpty else { return "no assignment groups\n" }
        return table(["GROUP", "PARTITIONS", "PRESENT", "ABSENT", "OWNED", "RELEASING"], groups.map { group in
            [group.group, String(group.partitionCount), String(group.members.filter(\.present).count),
             String(group.members.filter { !$0.present }.count),
             String(group.partitions.filter { $0.state == .owned }.count),
             String(group.partitions.filter { $0.state == .releasing }.count)]
        })
    }

    /// A group's declaration, then its members and its partitions as tables; a ZONE column on each when the
    /// group uses zones, and a partition pinned to a zone without members shown as unplaceable with why.
    static func assignmentGroup(_ group: AssignmentGroupInfo) -> String {
        let zoned = group.members.contains { $0.zone != nil } || group.partitions.contains { $0.zone != nil }
        func zone(_ name: String?) -> [String] { zoned ? [name ?? "-"] : [] }
        var out = "group \(group.group): \(group.partitionCount) partitions, grace \(group.graceMs) ms, "
            + "revoke after \(group.revokeAfterMs) ms\n\n"
        out += table(["MEMBER", "WEIGHT", "PRESENT", "HOLDING", "TARGET"] + (zoned ? ["ZONE"] : []), group.members.map { member in
            [member.memberID, String(member.weight),
             member.present ? "yes" : "absent until \(member.returnsBy.map(time) ?? "-")",
             String(member.holding), String(member.target)] + zone(member.zone)
        })
        out += "\n"
        let columns = ["PARTITION", "STATE", "OWNER", "FENCE", "UNTIL", "TARGET"] + (zoned ? ["ZONE"] : [])
        out += table(columns, group.partitions.map { partition in
            [partition.partition, state(partition),
             partition.owner ?? "-", partition.fence.map(String.init) ?? "-",
             (partition.releaseBy ?? partition.returnsBy).map(time) ?? "-", partition.target ?? "-"] + zone(partition.zone)
        })
        return out
    }

    /// A partition's state as the table shows it.
    private static func state(_ partition: AssignmentGroupInfo.Partition) -> String {
        if let why = partition.unplaceable { return "\(partition.state.rawValue), unplaceable: \(why)" }
        return partition.state.rawValue + (partition.removed ? " (removed)" : "")
    }
}
