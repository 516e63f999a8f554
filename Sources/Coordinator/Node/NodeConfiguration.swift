import LeaseEngine
import StreamCore

/// Named limits of the daemon's core, with where each value comes from.
public struct CoordinatorLimits: Sendable {
    /// Distinct segments a segment subscriber may have queued before it is dropped:
    /// streamkit's `defaultSubscriptionSendQueueSize` (streamkit v1 §2.2).
    public var subscriptionQueueSegments = 1_024
    /// Smallest and largest subscription heartbeat period in seconds (streamkit v1 §2.2, §4.2).
    public var minHeartbeatSeconds: Int64 = 1
    public var maxHeartbeatSeconds: Int64 = 300
    /// Leases one LeaseList answer may hold.
    public var maxLeaseList = 10_000
    /// Requests of one lease stream (`lease_renewals`, `lease_ops`) whose answers are not yet sent: past it
    /// the stream ends with `limit_exceeded`, so a client that sends without reading holds a bounded queue.
    /// coordd's choice: 64 times the most that coordbench's pipelined clients keep in flight.
    public var maxLeaseOperationsInFlight = 1_024
    /// Stores open at once, the default store included (`--max-open-stores`). streamkit has no bound, so
    /// one client allowed every store could open stores until the daemon ran out of descriptors. An open
    /// file store costs a log writer thread, a descriptor per log file (a new file every 64 MiB) and its
    /// index (measured: one thread, one descriptor and about 55 KB for a new store): 1,024 of them stay well
    /// inside the thread limit and take a small share of the descriptors a daemon runs with (coordd raises
    /// its soft limit to the hard one at start, 524,288 under systemd's defaults), leaving the rest to
    /// connections.
    public var maxOpenStores = 1_024
    /// A store that served no stream for this long is closed, giving back what it costs
    /// (`--store-idle-close`; 0 = never). Ten minutes: reopening replays the store's log, a cost worth
    /// paying only for stores that are rarely used.
    public var storeIdleCloseMs: Int64 = 600_000
    /// How often open stores are checked for idleness and for stopped writes: a store closes at most this long after its idle
    /// time has passed. coordd's choice, streamkit's presence sweep interval.
    public var storeIdleCheckMs: Int64 = 5_000
    /// Times a new stream waits for its store to finish closing (so it can be opened again) before it is
    /// refused; a store is closed again that soon only under heavy churn of the open stores limit.
    public var maxStoreReopenWaits = 3

    /// The default limits.
    public init() {}
}

/// Everything a node needs besides its store.
public struct NodeConfiguration: Sendable {
    /// Core limits.
    public var limits = CoordinatorLimits()
    /// Worker inventory limits, including the presence TTL floor (a daemon setting).
    public var inventory = InventoryServiceLimits()
    /// Lease limits (maximum TTL, key and holder sizes, expiries per tick).
    public var leases = LeaseLimits()
    /// Partition assignment limits (groups, members, partitions, renewal intervals).
    public var assignments = AssignmentServiceLimits()
    /// Server timestamps (inventory, statuses).
    public var wallClock: any WallClock = SystemWallClock()
    /// Deadlines (presence TTL, leases).
    public var monotonicClock: any MonotonicClock = SystemMonotonicClock()
    /// Where streams, errors, produced entries and inventory deliveries are counted.
    public var metrics: any NodeMetrics = NoNodeMetrics()
    /// Where stores opening, closing and being refused are logged (nowhere by default).
    public var logger = Logger(sink: { _ in })
    /// Whether a stream for a store that does not exist creates it (streamkit's behaviour, so its
    /// clients work unchanged). When false, only `store_create` creates stores and a stream for an
    /// unknown store ends with `store_not_found`.
    public var autoCreateStores = true

    /// The default configuration.
    public init() {}
}
