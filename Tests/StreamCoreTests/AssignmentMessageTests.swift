import StreamCore
import Testing

private func text(_ message: some WireMessage) -> String { String(decoding: message.encoded(), as: UTF8.self) }

private func fields(_ text: String) throws -> JSONFields { try JSONFields(JSONValue.parse(Array(text.utf8))) }

@Test func subscribeAssignmentsHasTheDocumentedShape() throws {
    let request = SubscribeAssignments(
        group: "indexers", memberID: "indexer-7", weight: 2, partitions: .count(64), graceMs: 30_000,
        revokeAfterMs: 30_000, heartbeatIntervalMs: 5_000)
    let json = #"{"$type":"coordd://api/v1/subscribe_assignments","content":{"group":"indexers","member_id":"indexer-7","weight":2,"partitions":64,"grace_ms":30000,"revoke_after_ms":30000,"heartbeat_interval_ms":5000}}"#
    #expect(String(decoding: request.enveloped(), as: UTF8.self) == json)
    #expect(try Envelope.decode(SubscribeAssignments.self, from: Array(json.utf8)) == request)

    let byWorker = SubscribeAssignments(
        group: "g", workerID: WireUUID("7d5e43a4-0c6b-4a8e-9d0a-3f1c2b4e5a6d"), partitions: .names(["a", "b"]))
    let workerJSON = #"{"group":"g","worker_id":"7d5e43a4-0c6b-4a8e-9d0a-3f1c2b4e5a6d","partition_names":["a","b"]}"#
    #expect(text(byWorker) == workerJSON)
    #expect(try SubscribeAssignments(fields: fields(workerJSON)) == byWorker)
    #expect(try SubscribeAssignments(fields: fields(#"{"group":"g"}"#)) == SubscribeAssignments(group: "g"))
}

@Test func aRequestDeclaringBothCountAndNamesIsRefused() throws {
    #expect(throws: StreamsError.self) {
        try SubscribeAssignments(fields: fields(#"{"group":"g","partitions":2,"partition_names":["a"]}"#))
    }
}

@Test(arguments: [
    (AssignmentCommand.released(["12", "13"]), #"{"op":"released","partitions":["12","13"]}"#),
    (.renew, #"{"op":"renew"}"#),
    (.leave, #"{"op":"leave"}"#),
    (.updateGroup(partitions: .count(128), graceMs: nil, revokeAfterMs: 5_000),
     #"{"op":"update_group","partitions":128,"revoke_after_ms":5000}"#),
    (.updateGroup(partitions: .names(["x"]), graceMs: 0, revokeAfterMs: nil),
     #"{"op":"update_group","partition_names":["x"],"grace_ms":0}"#),
])
func assignmentCommandsHaveTheDocumentedShape(_ command: AssignmentCommand, _ json: String) throws {
    #expect(text(command) == json)
    #expect(try AssignmentCommand(fields: fields(json)) == command)
}

@Test(arguments: [#"{"op":"steal"}"#, #"{"op":"released","partitions":[1]}"#, #"{}"#])
func malformedAssignmentCommandsAreRefused(_ json: String) throws {
    let parsed = try fields(json)
    #expect(throws: StreamsError.self) { try AssignmentCommand(fields: parsed) }
}

@Test func assignmentUpdatesHaveTheDocumentedShape() throws {
    let update = AssignmentUpdate(
        group: "indexers", memberID: "indexer-7", revision: 3, partitionCount: 64, members: 5,
        owned: [
            AssignedPartition(partition: "3", fence: 1042, key: "$assign/indexers/3"),
            AssignedPartition(partition: "8", fence: 1043, key: "$assign/indexers/8"),
        ],
        releasing: [AssignedPartition(partition: "12", fence: 998, key: "$assign/indexers/12", releaseBy: 1_767_225_630_000)])
    let json = #"{"group":"indexers","member_id":"indexer-7","revision":3,"partition_count":64,"members":5,"owned":[{"partition":"3","fence":1042,"key":"$assign/indexers/3"},{"partition":"8","fence":1043,"key":"$assign/indexers/8"}],"releasing":[{"partition":"12","fence":998,"key":"$assign/indexers/12","release_by":1767225630000}]}"#
    #expect(text(update) == json)
    #expect(try AssignmentUpdate(fields: fields(json)) == update)
    #expect(update.owned[0].produceFence == Fence(key: "$assign/indexers/3", token: 1042))
}

@Test func assignmentListHasTheDocumentedShape() throws {
    let request = AssignmentList(group: "indexers")
    let json = #"{"$type":"coordd://api/v1/assignment_list","content":{"group":"indexers"}}"#
    #expect(String(decoding: request.enveloped(), as: UTF8.self) == json)
    #expect(try Envelope.decode(AssignmentList.self, from: Array(json.utf8)) == request)
    #expect(text(AssignmentList(limit: 10)) == #"{"group":"","limit":10}"#)

    let info = AssignmentGroupInfo(
        group: "indexers", partitionCount: 4, graceMs: 30_000, revokeAfterMs: 30_000,
        members: [
            .init(memberID: "indexer-1", weight: 1, present: true, holding: 2, target: 2),
            .init(memberID: "indexer-2", weight: 1, present: false, returnsBy: 1_767_225_660_000, holding: 1, target: 1),
            .init(memberID: "indexer-3", weight: 1, present: true, holding: 0, target: 1),
        ],
        partitions: [
            .init(partition: "0", state: .owned, owner: "indexer-1", fence: 41),
            .init(partition: "1", state: .reserved, owner: "indexer-2", returnsBy: 1_767_225_660_000),
            .init(partition: "2", state: .releasing, owner: "indexer-1", fence: 40, releaseBy: 1_767_225_640_000,
                  target: "indexer-3"),
            .init(partition: "3", state: .unowned),
            .init(partition: "old", state: .releasing, owner: "indexer-1", fence: 12, releaseBy: 1_767_225_640_000,
                  removed: true),
        ])
    let infoJSON = #"{"group":"indexers","partition_count":4,"grace_ms":30000,"revoke_after_ms":30000,"members":[{"member_id":"indexer-1","weight":1,"present":true,"holding":2,"target":2},{"member_id":"indexer-2","weight":1,"present":false,"returns_by":1767225660000,"holding":1,"target":1},{"member_id":"indexer-3","weight":1,"present":true,"holding":0,"target":1}],"partitions":[{"partition":"0","state":"owned","owner":"indexer-1","fence":41},{"partition":"1","state":"reserved","owner":"indexer-2","returns_by":1767225660000},{"partition":"2","state":"releasing","owner":"indexer-1","fence":40,"release_by":1767225640000,"target":"indexer-3"},{"partition":"3","state":"unowned"},{"partition":"old","state":"releasing","owner":"indexer-1","fence":12,"release_by":1767225640000,"removed":true}]}"#
    #expect(text(info) == infoJSON)
    #expect(try AssignmentGroupInfo(fields: fields(infoJSON)) == info)
    #expect(throws: StreamsError.self) {
        try AssignmentGroupInfo(fields: fields(#"{"group":"g","partitions":[{"partition":"0","state":"lost"}]}"#))
    }
}
