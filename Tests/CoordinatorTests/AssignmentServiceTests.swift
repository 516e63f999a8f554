import Assignment
import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing

/// Partition assignment served by a node: joins, hand-offs, revocation, grace, declarations and limits.
@Suite(.serialized) struct AssignmentServiceTests {
    @Test(arguments: Configuration.all)
    func groupsConvergeAfterJoinsAndLeaves(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        let a = try await TestMember.join("a", partitions: .count(6), client: client)
        let first = try #require(try await a.next())
        #expect(first.ownedNames == ["0", "1", "2", "3", "4", "5"] && first.releasing.isEmpty && first.revision == 1)
        #expect(first.partitionCount == 6 && first.members == 1)
        let fencesOfA = Dictionary(uniqueKeysWithValues: first.owned.map { ($0.partition, $0.fence) })

        // b joins: a is asked to give up half; b is granted nothing a still holds.
        let b = try await TestMember.join("b", partitions: nil, client: client)
        let bFirst = try #require(try await b.next())
        #expect(bFirst.owned.isEmpty, "b gets nothing while a holds every partition")
        let asked = try await a.until { !$0.releasing.isEmpty }
        #expect(asked.releasing.count == 3 && asked.owned.count == 3)
        try await a.send(.released(asked.releasingNames))
        let bOwns = try await b.until { $0.owned.count == 3 }
        #expect(Set(bOwns.ownedNames) == Set(asked.releasingNames))
        for partition in bOwns.owned { #expect(partition.fence > fencesOfA[partition.partition]!, "a move takes a higher fence") }

        // c joins and leaves: everything ends balanced on the two that stay.
        let c = try await TestMember.join("c", partitions: nil, client: client)
        _ = try #require(try await c.next())
        let aAsked = try await a.until { !$0.releasing.isEmpty }
        try await a.send(.released(aAsked.releasingNames))
        let bAsked = try await b.until { !$0.releasing.isEmpty }
        try await b.send(.released(bAsked.releasingNames))
        let cOwns = try await c.until { $0.owned.count == 2 }
        #expect(cOwns.members == 3)
        try await c.send(.leave)
        #expect(try await c.next() == nil, "leave ends the stream cleanly")
        _ = try await a.until { $0.owned.count == 3 }
        _ = try await b.until { $0.owned.count == 3 }
        let listed = try #require(try await client.assignmentGroup("g"))
        #expect(listed.members.map(\.memberID) == ["a", "b"])
        #expect(listed.partitions.allSatisfy { $0.state == .owned && $0.fence != nil })
        let leases = try await client.leases(prefix: "$assign/g/")
        #expect(leases.count == 6)
        for partition in listed.partitions {
            #expect(leases.first { $0.key == "$assign/g/\(partition.partition)" }?.holder == partition.owner)
        }
        a.drop()
        b.drop()
        await harness.shutdown()
    }

    @Test func theNewOwnerIsGrantedOnlyAfterTheOldOneReleased() async throws {
        let harness = try await Harness(Configuration(store: .file, transport: .webSocket))
        let client = harness.client
        let a = try await TestMember.join("a", partitions: .count(2), revokeAfterMs: 60_000, client: client)
        let owned = try #require(try await a.next())
        let b = try await TestMember.join("b", partitions: nil, client: client)
        _ = try #require(try await b.next())
        let asked = try await a.until { !$0.releasing.isEmpty }
        let moving = try #require(asked.releasing.first)
        // Until a acknowledges, a's lease is the live one and the listing says so.
        let listed = try #require(try await client.assignmentGroup("g"))
        let entry = try #require(listed.partitions.first { $0.partition == moving.partition })
        #expect(entry.state == .releasing && entry.owner == "a" && entry.target == "b")
        #expect(try await client.leases(prefix: moving.key).first?.holder == "a")
        // a's fence still writes; after the hand-off it is refused, b's is accepted.
        let oldFence = try #require(owned.owned.first { $0.partition == moving.partition }).produceFence
        _ = try await client.append(space: "work", segment: moving.partition, payloads: [[1]], fence: oldFence)
        try await a.send(.released([moving.partition]))
        let granted = try await b.until { !$0.owned.isEmpty }
        #expect(granted.ownedNames == [moving.partition])
        #expect(granted.owned[0].fence > oldFence.token)
        await #expect(throws: (any Error).self) {
            _ = try await client.append(space: "work", segment: moving.partition, payloads: [[2]], fence: oldFence)
        }
        _ = try await client.append(space: "work", segment: moving.partition, payloads: [[3]],
                                    fence: granted.owned[0].produceFence)
        a.drop()
        b.drop()
        await harness.shutdown()
    }

    @Test func aReleaseNotAcknowledgedInTimeIsRevoked() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .webSocket))
        let client = harness.client
        let a = try await TestMember.join("a", partitions: .count(4), revokeAfterMs: 300, client: client)
        _ = try #require(try await a.next())
        let b = try await TestMember.join("b", partitions: nil, client: client)
        _ = try #require(try await b.next())
        let asked = try await a.until { !$0.releasing.isEmpty }
        #expect(asked.releasing.allSatisfy { $0.releaseBy != nil })
        // a never answers: after the bound its partitions are revoked (gone from its message) and b owns them.
        let revoked = try await a.until { $0.releasing.isEmpty }
        #expect(revoked.owned.count == 2)
        let granted = try await b.until { $0.owned.count == 2 }
        #expect(Set(granted.ownedNames) == Set(asked.releasingNames))
        // A late acknowledgement of a revoked partition is passed over.
        try await a.send(.released(asked.releasingNames))
        #expect(try await client.assignmentGroup("g")?.partitions.filter { $0.owner == "b" }.count == 2)
        a.drop()
        b.drop()
        await harness.shutdown()
    }

    @Test func aMemberBackWithinItsGraceGetsItsPartitionsUnmoved() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .webSocket))
        let client = harness.client
        let a = try await TestMember.join("a", partitions: .count(4), graceMs: 60_000, client: client)
        _ = try #require(try await a.next())
        let b = try await TestMember.join("b", partitions: nil, client: client)
        _ = try #require(try await b.next())
        let asked = try await a.until { !$0.releasing.isEmpty }
        try await a.send(.released(asked.releasingNames))
        let aHolds = try await a.until { $0.releasing.isEmpty }
        _ = try await b.until { $0.owned.count == 2 }

        a.drop()
        #expect(await eventually {
            (try? await client.assignmentGroup("g"))?.partitions.filter { $0.state == .reserved }.count == 2
        }, "a's partitions are kept for it, unleased")
        let listed = try #require(try await client.assignmentGroup("g"))
        #expect(listed.members.first { $0.memberID == "a" }?.present == false)
        #expect(try await client.leases(prefix: "$assign/g/").count == 2, "only b's leases are live")

        let back = try await TestMember.join("a", partitions: nil, client: client)
        let returned = try await back.until { $0.owned.count == 2 }
        #expect(returned.ownedNames == aHolds.ownedNames, "unmoved")
        for (old, new) in zip(aHolds.owned, returned.owned) { #expect(new.fence > old.fence, "under new fences") }
        back.drop()
        b.drop()
        await harness.shutdown()
    }

    @Test func afterTheGracePeriodAnAbsentMembersPartitionsAreReassigned() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess))
        let client = harness.client
        let a = try await TestMember.join("a", partitions: .count(4), graceMs: 300, revokeAfterMs: 60_000, client: client)
        _ = try #require(try await a.next())
        let b = try await TestMember.join("b", partitions: nil, client: client)
        _ = try #require(try await b.next())
        let asked = try await a.until { !$0.releasing.isEmpty }
        try await a.send(.released(asked.releasingNames))
        _ = try await b.until { $0.owned.count == 2 }
        a.drop()
        let all = try await b.until { $0.owned.count == 4 }
        #expect(all.members == 1)
        #expect(try await client.assignmentGroup("g")?.members.map(\.memberID) == ["b"])
        b.drop()
        await harness.shutdown()
    }

    @Test func aDifferentDeclarationIsATypedError() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .webSocket))
        let client = harness.client
        let a = try await TestMember.join("a", partitions: .count(4), client: client)
        _ = try #require(try await a.next())
        let b = try await TestMember.join("b", partitions: .count(8), client: client)
        let mismatch = await #expect(throws: StreamsError.self) { _ = try await b.next() }
        #expect(mismatch?.name == "assignment_declaration_mismatch")
        #expect(mismatch?.message == "group g has 4 partitions (a count); this member declared 8 partitions (a count)")
        do {
            _ = try await TestMember.join("c", partitions: .count(4), graceMs: 1, client: client).next()
            Issue.record("a different grace_ms is refused")
        } catch let error as StreamsError {
            #expect(error.name == "assignment_declaration_mismatch" && error.code == .permanent)
            #expect(error.message.contains("grace_ms 30000"))
        }
        // The same declaration, or none, joins.
        let d = try await TestMember.join("d", partitions: .names(["0", "1", "2", "3"]), client: client)
        #expect(try await d.next()?.members == 2)
        a.drop()
        d.drop()
        await harness.shutdown()
    }

    @Test(arguments: [
        (SubscribeAssignments(group: "g", memberID: "m"), "does not exist"),
        (SubscribeAssignments(group: "g", partitions: .count(2)), "exactly one of member_id and worker_id"),
        (SubscribeAssignments(group: "a/b", memberID: "m", partitions: .count(2)), "must not contain '/'"),
        (SubscribeAssignments(group: "g", memberID: "m", weight: 0, partitions: .count(2)), "weight 0"),
        (SubscribeAssignments(group: "g", memberID: "m", partitions: .count(0)), "partition count 0"),
        (SubscribeAssignments(group: "g", memberID: "m", partitions: .names(["x", "x"])), "named twice"),
        (SubscribeAssignments(group: "g", memberID: "m", partitions: .count(2), heartbeatIntervalMs: 5), "heartbeat_interval_ms 5"),
        (SubscribeAssignments(group: "g", workerID: .random(), partitions: .count(2)), "is not registered"),
    ])
    func badRequestsAreRefusedOnTheirOwnStream(_ request: SubscribeAssignments, _ text: String) async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess))
        let stream = try await harness.client.open(request)
        do {
            _ = try await stream.receive(AssignmentUpdate.self)
            Issue.record("\(text): the request was not refused")
        } catch {
            #expect(error.name == "invalid_request" && error.message.contains(text), "\(error)")
        }
        #expect(try await harness.client.assignmentGroup("g") == nil)
        await harness.shutdown()
    }

    @Test func namedLimitsAreClearErrors() async throws {
        var node = NodeConfiguration()
        node.assignments.engine = AssignmentTestLimits.small
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess), node: node)
        let client = harness.client
        let a = try await TestMember.join("a", group: "one", partitions: .count(2), client: client)
        _ = try #require(try await a.next())
        let other = try await TestMember.join("a", group: "two", partitions: .count(2), client: client)
        await #expect(throws: StreamsError.limitExceeded("too many assignment groups (limit 1)")) { _ = try await other.next() }
        let b = try await TestMember.join("b", group: "one", partitions: nil, client: client)
        _ = try #require(try await b.next())
        let c = try await TestMember.join("c", group: "one", partitions: nil, client: client)
        await #expect(throws: StreamsError.limitExceeded("too many members in the group (limit 2)")) { _ = try await c.next() }
        let big = try await TestMember.join("a", group: "three", partitions: .count(9), client: client)
        await #expect(throws: StreamsError.self) { _ = try await big.next() }
        a.drop()
        b.drop()
        await harness.shutdown()
    }

    @Test func plainLeaseRequestsOnAssignmentKeysAreRefused() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess))
        await #expect(throws: StreamsError.self) {
            _ = try await harness.client.acquire(key: "$assign/g/0", holder: "x", ttl: .seconds(10))
        }
        await #expect(throws: StreamsError.self) { _ = try await harness.client.release(key: "$assign/g/0", holder: "x") }
        await harness.shutdown()
    }

    @Test func aWorkerMemberEndsWithItsWorkersPresence() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .webSocket))
        let client = harness.client
        let worker = WireUUID.random()
        let presence = try await client.open(SubscribeWorkers(workerID: worker, presenceOnly: true))
        _ = try await presence.receive()
        let stream = try await client.open(SubscribeAssignments(group: "g", workerID: worker, partitions: .count(3),
                                                                graceMs: 0))
        let member = TestMember(id: worker.description, stream: stream)
        let first = try #require(try await member.next())
        #expect(first.memberID == worker.description && first.owned.count == 3)
        let leases = try await client.leases(prefix: "$assign/g/")
        #expect(leases.allSatisfy { $0.holder == worker.description })
        presence.close(error: nil)
        await #expect(throws: StreamsError.presenceExpired) { _ = try await member.until { _ in false } }
        #expect(await eventually { (try? await client.leases(prefix: "$assign/g/"))?.isEmpty == true })
        #expect(try await client.assignmentGroup("g") == nil, "with no grace the group is forgotten with its last member")
        await harness.shutdown()
    }

    @Test func aSecondStreamReplacesTheFirst() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess))
        let client = harness.client
        let first = try await TestMember.join("a", partitions: .count(2), client: client)
        let before = try #require(try await first.next())
        let second = try await TestMember.join("a", partitions: nil, client: client)
        let after = try await second.until { $0.owned.count == 2 }
        #expect(zip(before.owned, after.owned).allSatisfy { $0.fence < $1.fence })
        await #expect(throws: StreamsError.memberReplaced) { _ = try await first.until { _ in false } }
        second.drop()
        await harness.shutdown()
    }

    @Test func updateGroupAddsAndRemovesPartitions() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess))
        let client = harness.client
        let a = try await TestMember.join("a", partitions: .count(4), client: client)
        _ = try #require(try await a.next())
        try await a.send(.updateGroup(partitions: .count(6), graceMs: nil, revokeAfterMs: nil))
        let grown = try await a.until { $0.owned.count == 6 }
        #expect(grown.partitionCount == 6)
        // Shrinking asks for the removed partitions back; once released they are gone from the group.
        try await a.send(.updateGroup(partitions: .names(["0", "1"]), graceMs: 5_000, revokeAfterMs: nil))
        let shrinking = try await a.until { !$0.releasing.isEmpty }
        #expect(shrinking.ownedNames == ["0", "1"] && shrinking.releasingNames == ["2", "3", "4", "5"])
        #expect(try await client.assignmentGroup("g")?.partitions.filter(\.removed).count == 4)
        try await a.send(.released(shrinking.releasingNames))
        _ = try await a.until { $0.releasing.isEmpty }
        let listed = try #require(try await client.assignmentGroup("g"))
        #expect(listed.partitions.map(\.partition) == ["0", "1"] && listed.graceMs == 5_000)
        #expect(try await client.leases(prefix: "$assign/g/").map(\.key) == ["$assign/g/0", "$assign/g/1"])
        // A bad update is refused on the member's stream.
        try await a.send(.updateGroup(partitions: .count(0), graceMs: nil, revokeAfterMs: nil))
        await #expect(throws: StreamsError.self) { _ = try await a.until { _ in false } }
        await harness.shutdown()
    }

    @Test func aMemberIdMemberLivesByItsRenewals() async throws {
        var node = NodeConfiguration()
        node.inventory.engine.ttlFloorMs = 300
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess), node: node)
        let client = harness.client
        let renewing = try await TestMember.join("r", partitions: .count(2), heartbeatIntervalMs: 100, client: client)
        _ = try #require(try await renewing.next())
        let silent = try await TestMember.join("s", partitions: nil, heartbeatIntervalMs: 100, client: client)
        _ = try #require(try await silent.next())
        let renewals = Task {
            for _ in 0..<40 {
                try await renewing.send(.renew)
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        await #expect(throws: StreamsError.presenceExpired) { _ = try await silent.until(seconds: 5) { _ in false } }
        #expect(try await client.assignmentGroup("g")?.members.first { $0.memberID == "r" }?.present == true)
        renewals.cancel()
        renewing.drop()
        await harness.shutdown()
    }

    @Test func assignmentLeasesLeftByARestartAreReleased() async throws {
        var harness = try await Harness(Configuration(store: .file, transport: .inProcess))
        let a = try await TestMember.join("a", partitions: .count(2), client: harness.client)
        let before = try #require(try await a.next())
        harness = try await harness.restart()
        #expect(try await harness.client.leases(prefix: "$assign/").isEmpty)
        let back = try await TestMember.join("a", partitions: .count(2), client: harness.client)
        let after = try #require(try await back.next())
        #expect(zip(before.owned, after.owned).allSatisfy { $0.fence < $1.fence })
        back.drop()
        await harness.shutdown()
    }
}

enum AssignmentTestLimits {
    static var small: AssignmentLimits {
        var limits = AssignmentLimits()
        limits.maxGroups = 1
        limits.maxMembers = 2
        limits.maxPartitions = 8
        return limits
    }
}
