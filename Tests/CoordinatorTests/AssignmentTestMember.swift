import CoordClient
import CoordTestKit
import StreamCore
import Transport

/// One member's subscribe stream in a test: its request, and reads of its assignment with a deadline.
struct TestMember: Sendable {
    let id: String
    let stream: any BidiStream

    /// Subscribes `id` to `group` on `client`.
    static func join(
        _ id: String, group: String = "g", partitions: PartitionDeclaration? = .count(4), weight: Int64? = nil,
        graceMs: Int64? = nil, revokeAfterMs: Int64? = nil, heartbeatIntervalMs: Int64? = nil, zone: String? = nil,
        partitionZones: [String: String]? = nil, client: CoordClient
    ) async throws -> TestMember {
        let request = SubscribeAssignments(
            group: group, memberID: id, weight: weight, partitions: partitions, graceMs: graceMs,
            revokeAfterMs: revokeAfterMs, heartbeatIntervalMs: heartbeatIntervalMs, zone: zone,
            partitionZones: partitionZones)
        return TestMember(id: id, stream: try await client.open(request))
    }

    /// The next assignment message (nil when the stream ended cleanly), within `seconds`.
    func next(seconds: Double = 10) async throws -> AssignmentUpdate? {
        let stream = stream
        return try await withDeadline(seconds: seconds) { () async throws -> AssignmentUpdate?? in
            .some(try await stream.receive(AssignmentUpdate.self))
        } ?? nil
    }

    /// Reads messages until one satisfies `condition`; fails after `seconds` or when the stream ends.
    func until(seconds: Double = 10, _ condition: @escaping @Sendable (AssignmentUpdate) -> Bool) async throws -> AssignmentUpdate {
        let stream = stream
        let id = id
        return try await withDeadline(seconds: seconds) {
            while let update = try await stream.receive(AssignmentUpdate.self) {
                if condition(update) { return update }
            }
            throw StreamsError.streamClosed("member \(id)'s stream ended before the expected assignment")
        }
    }

    /// Sends a command.
    func send(_ command: AssignmentCommand) async throws { try await stream.send(command) }

    /// Closes the stream without leaving (a disconnect).
    func drop() { stream.close(error: nil) }
}

extension AssignmentUpdate {
    /// The owned partitions' names.
    var ownedNames: [String] { owned.map(\.partition) }
    /// The names of the partitions to release.
    var releasingNames: [String] { releasing.map(\.partition) }
}

extension CoordClient {
    /// The listing of one group, or nil when it does not exist.
    func assignmentGroup(_ group: String) async throws -> AssignmentGroupInfo? {
        try await sequence(AssignmentList(group: group), of: AssignmentGroupInfo.self).collect().first
    }
}
