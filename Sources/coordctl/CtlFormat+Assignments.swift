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

    /// A group's declaration, then its members and its partitions as tables.
    static func assignmentGroup(_ group: AssignmentGroupInfo) -> String {
        var out = "group \(group.group): \(group.partitionCount) partitions, grace \(group.graceMs) ms, "
            + "revoke after \(group.revokeAfterMs) ms\n\n"
        out += table(["MEMBER", "WEIGHT", "PRESENT", "HOLDING", "TARGET"], group.members.map { member in
            [member.memberID, String(member.weight),
             member.present ? "yes" : "absent until \(member.returnsBy.map(time) ?? "-")",
             String(member.holding), String(member.target)]
        })
        out += "\n"
        out += table(["PARTITION", "STATE", "OWNER", "FENCE", "UNTIL", "TARGET"], group.partitions.map { partition in
            [partition.partition, partition.state.rawValue + (partition.removed ? " (removed)" : ""),
             partition.owner ?? "-", partition.fence.map(String.init) ?? "-",
             (partition.releaseBy ?? partition.returnsBy).map(time) ?? "-", partition.target ?? "-"]
        })
        return out
    }
}
