import StreamCore
import Synchronization
import Transport

/// A change of what this member owns in an assignment group.
public enum AssignmentChange: Sendable, Hashable {
    /// The partition is now this member's, under `fence` (write with `partition.produceFence`).
    case acquired(AssignedPartition)
    /// The partition is no longer this member's: stop working on it before asking for the next change (the
    /// server is then told it was released), or it was revoked already.
    case revoked(partition: String)
}

/// How a member joins a group: its id, weight and zone, and the group's declaration.
public struct AssignmentMembership: Sendable, Hashable {
    /// The member's id (its leases' holder); a fresh one per process by default.
    public var member: String
    /// Its relative capacity, 1 … 1,000.
    public var weight: Int64
    /// The group's partitions; nil to join the group as it is.
    public var partitions: PartitionDeclaration?
    /// The member's zone: it receives the partitions pinned to this zone, and no other pinned ones. Nil: none.
    public var zone: String?
    /// The group's pins, partition name → zone; nil to join the group's as they are, empty for none.
    public var partitionZones: [String: String]?
    /// The group's grace period for a member that comes back; nil for the group's or the default (30 s).
    public var graceMs: Int64?
    /// How long the member may take to release a partition; nil for the group's or the default (30 s).
    public var revokeAfterMs: Int64?
    /// How often the member renews its presence (its TTL is three times this, at least the daemon's floor).
    public var heartbeatIntervalMs: Int64

    /// Creates a membership.
    public init(
        member: String = WireUUID.random().description, weight: Int64 = 1, partitions: PartitionDeclaration? = nil,
        graceMs: Int64? = nil, revokeAfterMs: Int64? = nil, heartbeatIntervalMs: Int64 = 5_000, zone: String? = nil,
        partitionZones: [String: String]? = nil
    ) {
        self.member = member
        self.weight = weight
        self.partitions = partitions
        self.zone = zone
        self.partitionZones = partitionZones
        self.graceMs = graceMs
        self.revokeAfterMs = revokeAfterMs
        self.heartbeatIntervalMs = heartbeatIntervalMs
    }
}

/// The changes of one member's assignment, as an `AsyncSequence`: the stream opens on the first `next()`
/// and closes (a disconnect: the group keeps the member's partitions for its grace period) when iteration
/// stops or its task is cancelled. A partition revoked with a request to release it is acknowledged when
/// the next change is asked for, so stop working on it first.
public struct AssignmentChanges: AsyncSequence, Sendable {
    public typealias Element = AssignmentChange
    public typealias Failure = StreamsError

    let client: CoordClient
    let group: String
    let membership: AssignmentMembership

    /// Iterates the changes.
    public func makeAsyncIterator() -> Iterator { Iterator(AssignmentSubscription(client: client, group: group, membership: membership)) }

    /// The iterator; dropping it closes the stream.
    public struct Iterator: AsyncIteratorProtocol {
        let subscription: AssignmentSubscription

        init(_ subscription: AssignmentSubscription) { self.subscription = subscription }

        public mutating func next() async throws(StreamsError) -> AssignmentChange? {
            try await subscription.next()
        }
    }
}

/// One subscribe stream on the client: its renewals, what the member owns, and changes not yet handed out.
final class AssignmentSubscription: Sendable {
    private struct State {
        var stream: (any BidiStream)?
        var renewer: Task<Void, Never>?
        /// The owned partitions as last told, by name.
        var owned: [String: AssignedPartition] = [:]
        /// Partitions the server asked to release that were handed out as revoked: acknowledged on the next call.
        var toAcknowledge: [String] = []
        var pending: [AssignmentChange] = []
        var finished = false
    }

    let client: CoordClient
    let group: String
    let membership: AssignmentMembership
    /// The clock the renewals wait on.
    let clock: any MonotonicClock = SystemMonotonicClock()
    private let state = Mutex(State())

    init(client: CoordClient, group: String, membership: AssignmentMembership) {
        self.client = client
        self.group = group
        self.membership = membership
    }

    deinit { close() }

    /// Ends the stream (and the renewals) without leaving.
    func close() {
        let (stream, renewer) = state.withLock { s in
            s.finished = true
            defer { s.stream = nil; s.renewer = nil }
            return (s.stream, s.renewer)
        }
        renewer?.cancel()
        stream?.close(error: nil)
    }

    /// Leaves the group (its partitions go to the others at once) and ends the stream.
    func leave() async {
        if let stream = state.withLock({ $0.stream }) { try? await stream.send(AssignmentCommand.leave) }
        close()
    }

    func next() async throws(StreamsError) -> AssignmentChange? {
        let stream = try await opened()
        guard let stream else { return nil }
        let acknowledge = state.withLock { s in
            defer { s.toAcknowledge = [] }
            return s.toAcknowledge
        }
        if !acknowledge.isEmpty { try await stream.send(AssignmentCommand.released(acknowledge)) }
        while true {
            if let change = state.withLock({ s -> AssignmentChange? in s.pending.isEmpty ? nil : s.pending.removeFirst() }) {
                return change
            }
            let update: AssignmentUpdate?
            do {
                update = try await stream.receive(AssignmentUpdate.self)
            } catch {
                close()
                throw error
            }
            guard let update else {
                close()
                return nil
            }
            let unseen = state.withLock { s in Self.apply(update, to: &s) }
            if !unseen.isEmpty { try await stream.send(AssignmentCommand.released(unseen)) }
        }
    }

    /// Turns a whole assignment into changes against what the member owned; returns the partitions asked
    /// back that the member never saw as owned (its messages were merged), which it can release at once.
    private static func apply(_ update: AssignmentUpdate, to s: inout State) -> [String] {
        let releasing = Set(update.releasing.map(\.partition))
        let now = Dictionary(update.owned.map { ($0.partition, $0) }, uniquingKeysWith: { first, _ in first })
        for name in s.owned.keys.sorted() where now[name]?.fence != s.owned[name]?.fence {
            s.pending.append(.revoked(partition: name))
            if releasing.contains(name) { s.toAcknowledge.append(name) }
        }
        for partition in update.owned where s.owned[partition.partition]?.fence != partition.fence {
            s.pending.append(.acquired(partition))
        }
        let previously = s.owned
        s.owned = now
        return update.releasing.map(\.partition).filter { previously[$0] == nil }
    }

    /// The stream, opened (with its renewals) on the first call; nil once finished.
    private func opened() async throws(StreamsError) -> (any BidiStream)? {
        let (existing, finished) = state.withLock { ($0.stream, $0.finished) }
        if finished { return nil }
        if let existing { return existing }
        let stream = try await client.open(SubscribeAssignments(
            group: group, memberID: membership.member, weight: membership.weight, partitions: membership.partitions,
            graceMs: membership.graceMs, revokeAfterMs: membership.revokeAfterMs,
            heartbeatIntervalMs: membership.heartbeatIntervalMs, zone: membership.zone,
            partitionZones: membership.partitionZones))
        let interval = membership.heartbeatIntervalMs
        let clock = clock
        let renewer = Task {
            while !Task.isCancelled {
                do { try await clock.sleep(untilMs: clock.nowMs() + interval) } catch { return }
                do { try await stream.send(AssignmentCommand.renew) } catch { return }
            }
        }
        state.withLock { s in
            s.stream = stream
            s.renewer = renewer
        }
        return stream
    }
}
