import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing

/// Members in zones and partitions pinned to zones, through a daemon: each member receives only its zone's
/// pinned partitions, a partition whose zone has no member waits and is listed as unplaceable, and the pins
/// are part of the group's declaration.
@Suite(.serialized) struct AssignmentZoneTests {
    static let pins = ["0": "a", "1": "a", "2": "b", "3": "b"]

    @Test func eachMemberReceivesOnlyItsZonesPinnedPartitions() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .webSocket))
        let client = harness.client
        let a = try await TestMember.join("a", partitions: .count(6), zone: "a", partitionZones: Self.pins, client: client)
        let first = try #require(try await a.next())
        #expect(first.ownedNames == ["0", "1", "4", "5"], "zone b's partitions wait for a member in zone b")
        let waiting = try #require(try await client.assignmentGroup("g"))
        #expect(waiting.partitions.filter { $0.unplaceable != nil }.map(\.partition) == ["2", "3"])
        #expect(waiting.partitions.first { $0.partition == "2" }?.unplaceable == "no member in zone b")
        #expect(waiting.partitions.first { $0.partition == "2" }?.state == .unowned)
        #expect(waiting.members.map(\.zone) == ["a"])

        // b joins the group as it is, in zone b: it is granted 2 and 3 at once, and one unpinned partition of a's
        // moves so that both hold three.
        let b = try await TestMember.join("b", partitions: nil, zone: "b", client: client)
        let bFirst = try #require(try await b.next())
        #expect(bFirst.ownedNames == ["2", "3"])
        let asked = try await a.until { !$0.releasing.isEmpty }
        #expect(asked.releasingNames == ["5"] && asked.ownedNames == ["0", "1", "4"])
        try await a.send(.released(asked.releasingNames))
        let bOwns = try await b.until { $0.owned.count == 3 }
        #expect(bOwns.ownedNames == ["2", "3", "5"])
        let listed = try #require(try await client.assignmentGroup("g"))
        #expect(listed.partitions.allSatisfy { $0.state == .owned && $0.unplaceable == nil })
        #expect(listed.partitions.map(\.zone) == ["a", "a", "b", "b", nil, nil])
        for partition in listed.partitions {
            if let zone = partition.zone { #expect(partition.owner == zone, "\(partition.partition) pinned to \(zone)") }
        }
        #expect(listed.members.map(\.zone) == ["a", "b"])

        // An update that pins 4 to zone b moves it to b by the same hand-off.
        var pins = Self.pins
        pins["4"] = "b"
        try await a.send(.updateGroup(partitions: nil, graceMs: nil, revokeAfterMs: nil, partitionZones: pins))
        let moving = try await a.until { $0.releasingNames.contains("4") }
        try await a.send(.released(moving.releasingNames))
        let bHas = try await b.until { $0.ownedNames.contains("4") }
        #expect(Set(bHas.ownedNames).isSuperset(of: ["2", "3", "4"]))
        a.drop()
        b.drop()
        await harness.shutdown()
    }

    @Test func aDeclarationThatDiffersOnlyInPinsIsRefused() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .webSocket))
        let client = harness.client
        let a = try await TestMember.join("a", partitions: .count(6), zone: "a", partitionZones: Self.pins, client: client)
        _ = try #require(try await a.next())

        let other = ["0": "a", "1": "a", "2": "b", "3": "c"]
        let b = try await TestMember.join("b", partitions: .count(6), zone: "b", partitionZones: other, client: client)
        let mismatch = await #expect(throws: StreamsError.self) { _ = try await b.next() }
        #expect(mismatch?.name == "assignment_declaration_mismatch")
        #expect(mismatch?.message == """
            group g pins 4 partitions to zones; this member declared 4, differing at "3" (group: b, declared: c)
            """)
        let none = try await TestMember.join("c", partitions: .count(6), partitionZones: [:], client: client)
        let refused = await #expect(throws: StreamsError.self) { _ = try await none.next() }
        #expect(refused?.name == "assignment_declaration_mismatch")
        #expect(refused?.message == """
            group g pins 4 partitions to zones; this member declared 0, differing at "0" (group: a, declared: none), \
            "1" (group: a, declared: none), "2" (group: b, declared: none), …
            """)

        // Bad pins or zones are invalid requests on their own stream.
        let unknown = try await TestMember.join("d", partitions: .count(6), partitionZones: ["9": "a"], client: client)
        let invalid = await #expect(throws: StreamsError.self) { _ = try await unknown.next() }
        #expect(invalid?.name == "invalid_request" && invalid?.message.contains("\"9\"") == true)
        let badZone = try await TestMember.join("e", partitions: nil, zone: "a b", client: client)
        let badName = await #expect(throws: StreamsError.self) { _ = try await badZone.next() }
        #expect(badName?.name == "invalid_request" && badName?.message.contains("zone \"a b\"") == true)

        // The same pins, or none sent, join the group as it is.
        let same = try await TestMember.join("f", partitions: .count(6), zone: "b", partitionZones: Self.pins, client: client)
        #expect(try await same.next()?.members == 2)
        let asIs = try await TestMember.join("g", partitions: .count(6), client: client)
        #expect(try await asIs.next()?.members == 3)
        a.drop()
        same.drop()
        asIs.drop()
        await harness.shutdown()
    }
}
