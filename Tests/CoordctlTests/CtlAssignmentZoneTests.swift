import CoordTestKit
import StreamCore
import Testing

@testable import coordctl

/// `coordctl assignments GROUP` for a group that uses zones: a ZONE column, and unplaceable partitions with why.
struct CtlAssignmentZoneTests {
    @Test func aZonedGroupShowsZonesAndUnplaceablePartitions() {
        let lines = CtlFormat.assignmentGroup(.zonedExample).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.contains { $0.hasPrefix("MEMBER") && $0.hasSuffix("ZONE") })
        #expect(lines.contains { $0.hasPrefix("m ") && $0.hasSuffix(" a") })
        #expect(lines.contains { $0.hasPrefix("1 ") && $0.contains("unowned, unplaceable: no member in zone b") && $0.hasSuffix(" b") })
        #expect(lines.contains { $0.hasPrefix("2 ") && $0.hasSuffix(" -") })
    }

    @Test func aGroupWithoutZonesHasNoZoneColumn() {
        let info = AssignmentGroupInfo(
            group: "g", partitionCount: 1, graceMs: 30_000, revokeAfterMs: 30_000,
            members: [.init(memberID: "m", weight: 1, present: true, holding: 1, target: 1)],
            partitions: [.init(partition: "0", state: .owned, owner: "m", fence: 7)])
        #expect(!CtlFormat.assignmentGroup(info).contains("ZONE"))
    }
}
