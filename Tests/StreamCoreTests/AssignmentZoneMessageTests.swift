import CoordTestKit
import StreamCore
import Testing

private func text(_ message: some WireMessage) -> String { String(decoding: message.encoded(), as: UTF8.self) }

private func fields(_ text: String) throws -> JSONFields { try JSONFields(JSONValue.parse(Array(text.utf8))) }

@Test func subscribeAssignmentsCarriesTheMembersZoneAndTheGroupsPins() throws {
    let request = SubscribeAssignments(
        group: "g", memberID: "m", partitions: .count(4), zone: "eu-1a", partitionZones: ["1": "eu-1b", "0": "eu-1a"])
    let json = #"{"group":"g","member_id":"m","zone":"eu-1a","partitions":4,"partition_zones":{"0":"eu-1a","1":"eu-1b"}}"#
    #expect(text(request) == json)
    #expect(try SubscribeAssignments(fields: fields(json)) == request)
    // An empty map is a declaration of no pins, unlike an absent one.
    #expect(try SubscribeAssignments(fields: fields(#"{"group":"g","partition_zones":{}}"#)).partitionZones == [:])
    #expect(try SubscribeAssignments(fields: fields(#"{"group":"g"}"#)).partitionZones == nil)
    #expect(throws: StreamsError.self) { try SubscribeAssignments(fields: fields(#"{"group":"g","partition_zones":{"0":1}}"#)) }
}

@Test func updateGroupMayChangeThePins() throws {
    let command = AssignmentCommand.updateGroup(partitions: nil, graceMs: nil, revokeAfterMs: nil, partitionZones: ["0": "a"])
    let json = #"{"op":"update_group","partition_zones":{"0":"a"}}"#
    #expect(text(command) == json)
    #expect(try AssignmentCommand(fields: fields(json)) == command)
}

@Test func theListingShowsZonesAndWhyAPartitionIsUnplaceable() throws {
    let info = AssignmentGroupInfo.zonedExample
    let json = #"{"group":"g","partition_count":3,"grace_ms":30000,"revoke_after_ms":30000,"members":[{"member_id":"m","weight":1,"present":true,"holding":2,"target":2,"zone":"a"}],"partitions":[{"partition":"0","state":"owned","owner":"m","fence":7,"zone":"a"},{"partition":"1","state":"unowned","zone":"b","unplaceable":"no member in zone b"},{"partition":"2","state":"owned","owner":"m","fence":8}]}"#
    #expect(text(info) == json)
    #expect(try AssignmentGroupInfo(fields: fields(json)) == info)
}
