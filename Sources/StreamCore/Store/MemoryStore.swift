import Synchronization

/// The streaming store held in memory: for tests, and for deployments that need no durability.
///
/// Each chunk is validated and applied in one step under the index lock, so it is visible as soon as
/// `append` returns.
public final class MemoryStore: StreamStore {
    public let storageKind = "memory"
    private let index: StoreIndex
    private let clock: any WallClock
    private let closed = Atomic<Bool>(false)
    /// Set by a test to fail every later append, as a backend whose write failed does.
    private let writeFailure = Mutex<StreamsError?>(nil)

    public let leaseLog: any CompactingLog

    /// Creates an empty store.
    public init(limits: StoreLimits = StoreLimits(), leaseLogLimits: CompactingLogLimits = CompactingLogLimits(),
                clock: any WallClock = SystemWallClock()) {
        index = StoreIndex(limits: limits)
        leaseLog = MemoryCompactingLog(limits: leaseLogLimits)
        self.clock = clock
    }

    public var limits: StoreLimits { index.limits }

    public func append(_ request: AppendRequest) async throws(StreamsError) -> SegmentStatus {
        guard !closed.load(ordering: .acquiring) else { throw .shuttingDown.with(message: "store is closed") }
        if let failure = writeFailure.withLock({ $0 }) { throw failure }
        return try index.commit(request, nowMs: clock.nowMs()).status
    }

    public func peek(space: String, segment: String) throws(StreamsError) -> Entry? {
        index.peek(space: space, segment: segment)?.entry
    }

    public func status(space: String, segment: String) -> SegmentStatus? {
        index.status(space: space, segment: segment)
    }

    public func statuses(space: String) -> [SegmentStatus] {
        index.statuses(space: space)
    }

    public func readSegment(space: String, segment: String, range: SegmentRange, max: Int) throws(StreamsError) -> [Entry] {
        index.readSegment(space: space, segment: segment, range: range, max: max).map(\.entry)
    }

    public func readSpace(space: String, after: [UInt8], afterTimestamp: Int64, throughTimestamp: Int64, max: Int)
        throws(StreamsError) -> [Entry]
    {
        index.readSpace(space: space, after: after, afterTimestamp: afterTimestamp, throughTimestamp: throughTimestamp, max: max)
            .map(\.entry)
    }

    public func visibleBound(space: String) -> Int64 {
        index.visibleBound(space: space, nowMs: clock.nowMs())
    }

    public func spaces() -> [String] { index.spaces() }

    public func segments(space: String) -> [String] { index.segments(space: space) }

    public func stats() -> StoreStats { index.stats() }

    /// Fails every later append with `error` (a transient `storage_error`), as a durable backend does
    /// after a failed write: the store contract tests use it to check what a failure leaves.
    func failWrites(with error: StreamsError) {
        writeFailure.withLock { $0 = $0 ?? error }
    }

    public func close() async {
        closed.store(true, ordering: .releasing)
        await leaseLog.close()
    }
}
