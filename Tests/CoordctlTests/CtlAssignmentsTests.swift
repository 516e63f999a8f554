import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing

@testable import coordctl

/// `coordctl assignments` against a node manager: every group in brief, one group in full, and JSON.
struct CtlAssignmentsTests {
    @Test func assignmentsShowGroupsMembersOwnersAndFences() async throws {
        try await CtlHarness.with(.memory) { harness in
            let none = await harness.run(["assignments"])
            #expect(none.status == 0 && none.out == "no assignment groups\n")

            var changes = harness.client.assignments(group: "indexers", partitions: 2, member: "m1").makeAsyncIterator()
            var fences: [String: UInt64] = [:]
            while fences.count < 2, let change = try await changes.next() {
                if case .acquired(let partition) = change { fences[partition.partition] = partition.fence }
            }

            let all = await harness.run(["assignments"])
            #expect(all.status == 0, "\(all.err)")
            #expect(all.outLines == [
                "GROUP     PARTITIONS  PRESENT  ABSENT  OWNED  RELEASING",
                "indexers  2           1        0       2      0",
            ])
            let one = await harness.run(["assignments", "indexers"])
            #expect(one.status == 0, "\(one.err)")
            #expect(one.outLines.first == "group indexers: 2 partitions, grace 30000 ms, revoke after 30000 ms")
            #expect(one.outLines.contains("m1      1       yes      2        2"))
            #expect(one.outLines.contains("0          owned  m1     \(fences["0"]!)      -      -"))

            let json = await harness.run(["assignments", "indexers", "--json"])
            let info = try AssignmentGroupInfo(decoding: Array(json.outLines[0].utf8))
            #expect(info.partitions.map(\.fence) == [fences["0"], fences["1"]])

            let missing = await harness.run(["assignments", "nope"])
            #expect(missing.status == 1 && missing.err.contains("no assignment group named nope"))
            _ = changes
        }
    }

    @Test func assignmentsTakesAtMostOneGroup() {
        #expect((try? CtlArguments.parse(["assignments", "g"], environment: [:])) == .run(GlobalOptions(), .assignments(group: "g")))
        #expect((try? CtlArguments.parse(["assignments"], environment: [:])) == .run(GlobalOptions(), .assignments(group: nil)))
        #expect(throws: CtlUsageError.self) { try CtlArguments.parse(["assignments", "a", "b"], environment: [:]) }
    }
}
