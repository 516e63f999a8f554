import StreamCore
import Transport

extension CoordClient {
    /// Joins `group` as a member and yields what it acquires (with the fence to write with) and what it must
    /// give up: `for try await change in client.assignments(group: "indexers", partitions: 64)`.
    ///
    /// The first member's `partitions` (a count) create the group; later members may pass nil. Give a stable
    /// `member` id so that a restarted process gets its partitions back within the group's grace period. A
    /// member in a `zone` receives the partitions pinned to that zone (see ``AssignmentMembership``).
    public func assignments(
        group: String, partitions: Int? = nil, member: String = WireUUID.random().description, weight: Int64 = 1,
        zone: String? = nil
    ) -> AssignmentChanges {
        assignments(group: group, membership: AssignmentMembership(
            member: member, weight: weight, partitions: partitions.map { .count(Int64($0)) }, zone: zone))
    }

    /// ``assignments(group:partitions:member:weight:zone:)`` with every setting of the membership.
    public func assignments(group: String, membership: AssignmentMembership) -> AssignmentChanges {
        AssignmentChanges(client: self, group: group, membership: membership)
    }

    /// Runs `body` for every partition this member owns, each in its own task, until the calling task is
    /// cancelled or the membership ends. A body is cancelled when its partition is revoked and awaited before
    /// the server is told it was released, so no two members work on a partition at once; its fence refuses
    /// the writes of a body that goes on regardless.
    ///
    /// Throws what ended the membership (`presence_expired`, `member_replaced`, a lost connection …), or
    /// `CancellationError` when the calling task was cancelled. A body's own error ends only that body.
    public func withAssignment(
        group: String, membership: AssignmentMembership,
        body: @escaping @Sendable (AssignedPartition) async throws -> Void
    ) async throws {
        let changes = assignments(group: group, membership: membership)
        var running: [String: Task<Void, Never>] = [:]
        func stop(_ partition: String) async {
            guard let task = running.removeValue(forKey: partition) else { return }
            task.cancel()
            await task.value
        }
        do {
            for try await change in changes {
                switch change {
                case .acquired(let partition):
                    await stop(partition.partition)
                    running[partition.partition] = Task { try? await body(partition) }
                case .revoked(let partition):
                    await stop(partition)
                }
            }
        } catch {
            for partition in running.keys.sorted() { await stop(partition) }
            if Task.isCancelled || error == .cancelled { throw CancellationError() }
            throw error
        }
        for partition in running.keys.sorted() { await stop(partition) }
        if Task.isCancelled { throw CancellationError() }
    }

    /// ``withAssignment(group:membership:body:)`` for a member with a count of partitions.
    public func withAssignment(
        group: String, partitions: Int? = nil, member: String = WireUUID.random().description, weight: Int64 = 1,
        zone: String? = nil, body: @escaping @Sendable (AssignedPartition) async throws -> Void
    ) async throws {
        try await withAssignment(
            group: group,
            membership: AssignmentMembership(
                member: member, weight: weight, partitions: partitions.map { .count(Int64($0)) }, zone: zone),
            body: body)
    }

    /// Every assignment group of the store with its members, partitions, owners and fences (or the one named).
    public func assignmentGroups(named group: String = "", limit: UInt64 = 0) async throws(StreamsError) -> [AssignmentGroupInfo] {
        try await sequence(AssignmentList(group: group, limit: limit), of: AssignmentGroupInfo.self).collectAll()
    }
}
