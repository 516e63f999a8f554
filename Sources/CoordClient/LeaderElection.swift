import StreamCore

/// Leader election on one lease key, as etcd's `concurrency.Election` and Kubernetes' leaderelection:
/// candidates campaign, one at a time leads with a fencing token that grows with every new leader, and
/// anyone can observe who leads.
///
/// Campaigning waits on the server (``CoordClient/acquire(key:holder:ttl:workerID:waitingUpTo:)``), so a
/// leader's resignation, expiry or lost session elects the next candidate within a round trip, without
/// polling. Every waiting candidate tries when the office falls vacant and one wins. The leader writes with
/// ``Leadership/fence`` so that a deposed leader's late writes are refused by the store.
public struct LeaderElection: Sendable {
    /// The client the election runs on.
    public let client: CoordClient
    /// The lease key that is the office.
    public let key: String

    /// An election on `key`.
    public init(client: CoordClient, key: String) {
        self.client = client
        self.key = key
    }

    /// Waits until `candidate` is elected (or `timeout` passes: ``CoordError/waitTimedOut(key:holder:fence:)``),
    /// runs `body` as leader, and resigns when `body` returns. Leadership is a lease on ``key``: kept by
    /// renewals every ttl/3, or by `session` (bound to it, no renewals). When it is lost, `body` is
    /// cancelled and the call throws ``CoordError/leaseLost(key:message:)``.
    public func campaign<T: Sendable>(
        candidate: String = WireUUID.random().description, ttl: Duration = .seconds(15), session: CoordSession? = nil,
        timeout: Duration? = nil, body: @escaping @Sendable (Leadership) async throws -> T
    ) async throws -> T {
        let key = self.key
        return try await client.withLease(
            key: key, ttl: ttl, holder: candidate, session: session, wait: timeout ?? ElectionLimits.campaignForever
        ) { lease in
            try await body(Leadership(key: key, leader: lease.holder, fence: lease.fence))
        }
    }

    /// The leader now, or nil while the office is vacant.
    public func leader() async throws -> Leader? {
        let client = self.client
        let key = self.key
        return try await coordErrors {
            let stream = try await client.open(LeaseWatch(key: key))
            defer { stream.close(error: nil) }
            guard let current = try await stream.receive(LeaseWatchEvent.self) else {
                throw StreamsError.streamClosed("the server ended the lease watch")
            }
            return Leader(current)
        }
    }

    /// Leaders as they change: the current one (nil when vacant) first, then one value per change, as the
    /// server reports them. Fences only grow; a consumer that falls behind skips to the newest leader.
    public func observe() -> LeaderUpdates {
        LeaderUpdates(events: client.watchLease(key: key))
    }
}

/// The leadership a campaign's body holds.
public struct Leadership: Sendable, Hashable {
    /// The office.
    public var key: String
    /// This leader's name (the candidate).
    public var leader: String
    /// The fencing token: attach ``produceFence`` to writes made as leader.
    public var fence: UInt64

    /// The `fence` of a produce made as leader.
    public var produceFence: Fence { Fence(key: key, token: fence) }
}

/// Who leads, as observers see it.
public struct Leader: Sendable, Hashable {
    /// The leader's name (the candidate that won).
    public var name: String
    /// Its fencing token.
    public var fence: UInt64
    /// When its lease expires unless renewed (server wall-clock Unix ms); nil for a session-bound lease.
    public var expiresAt: Int64?

    /// The leader an event shows, nil when the office is vacant.
    init?(_ event: LeaseWatchEvent) {
        guard event.held, let holder = event.holder, let fence = event.fence else { return nil }
        name = holder
        self.fence = fence
        expiresAt = event.expiresAt
    }
}

/// The leaders of an election as they change (nil: vacant).
public struct LeaderUpdates: AsyncSequence, Sendable {
    public typealias Element = Leader?
    public typealias Failure = StreamsError

    let events: MessageSequence<LeaseWatchEvent>

    public func makeAsyncIterator() -> Iterator { Iterator(events: events.makeAsyncIterator()) }

    /// Yields the leader after each change.
    public struct Iterator: AsyncIteratorProtocol {
        var events: MessageSequence<LeaseWatchEvent>.Iterator

        public mutating func next() async throws(StreamsError) -> Leader?? {
            guard let event = try await events.next() else { return nil }
            return .some(Leader(event))
        }
    }
}

/// Named limits of elections.
enum ElectionLimits {
    /// A campaign without a timeout waits this long: 68 years, i.e. until it is elected or cancelled.
    static let campaignForever: Duration = .seconds(Int64(Int32.max))
}
