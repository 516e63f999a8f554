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
    /// Server timestamps (inventory, statuses).
    public var wallClock: any WallClock = SystemWallClock()
    /// Deadlines (presence TTL, leases).
    public var monotonicClock: any MonotonicClock = SystemMonotonicClock()
    /// Where streams, errors, produced entries and inventory deliveries are counted.
    public var metrics: any NodeMetrics = NoNodeMetrics()

    /// The default configuration.
    public init() {}
}
