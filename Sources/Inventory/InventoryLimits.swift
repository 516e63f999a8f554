/// Every interval, TTL and size the inventory engine enforces, with where each value comes from.
///
/// Protocol constants (the interval rules of streamkit v1 §4.2 and coordd's millisecond extension)
/// are `static`: a client must be able to rely on them. Values a deployment may tune are stored
/// properties with the documented defaults.
public struct InventoryLimits: Hashable, Sendable {
    // MARK: Protocol constants

    /// Renew interval used when a worker asks for none: streamkit v1 §4.2
    /// `DefaultWorkerPresenceRenewIntervalSeconds` (30 s).
    public static let defaultRenewIntervalMs: Int64 = 30_000
    /// Smallest `heartbeat_interval_seconds` honoured: streamkit v1 §4.2
    /// `MinWorkerPresenceHeartbeatIntervalSeconds`.
    public static let minIntervalSeconds: Int64 = 1
    /// Largest `heartbeat_interval_seconds` honoured: streamkit v1 §4.2
    /// `MaxWorkerPresenceHeartbeatIntervalSeconds`.
    public static let maxIntervalSeconds: Int64 = 300
    /// TTL as a multiple of the renew interval: streamkit v1 §4.2 `workerPresenceTTLGraceMultiplier`.
    public static let graceMultiplier: Int64 = 3
    /// Smallest `heartbeat_interval_ms` honoured (coordd extension). Below 100 ms the heartbeats and
    /// renewals of many workers would cost more than the failure detection they buy.
    public static let minIntervalMs: Int64 = 100
    /// Largest `heartbeat_interval_ms` honoured: the same ceiling as the seconds field (300 s).
    public static let maxIntervalMs: Int64 = maxIntervalSeconds * 1_000
    /// Default TTL floor: streamkit v1 §4.2 `minWorkerPresenceTTLSeconds` (30 s).
    public static let defaultTTLFloorMs: Int64 = 30_000

    // MARK: Daemon settings

    /// Shortest TTL any worker gets. streamkit fixes it at 30 s (§4.2); coordd makes it a setting so a
    /// deployment can detect failed workers faster (together with `heartbeat_interval_ms`).
    public var ttlFloorMs: Int64
    /// Most workers one registry holds; registration beyond it is rejected. Bounds memory and the
    /// size of one snapshot (about 100 bytes of JSON per worker without metadata).
    public var maxWorkers: Int
    /// Most metadata entries one worker may register. streamkit has no limit; 64 is ample for labels.
    public var maxMetadataEntries: Int
    /// Most metadata bytes (sum of the UTF-8 bytes of every key and value) one worker may register;
    /// metadata is repeated in every snapshot, so it is kept small.
    public var maxMetadataBytes: Int
    /// Deltas retained for `deltas(since:)`. A subscriber that resumes from an older revision gets a
    /// snapshot instead, so this bounds memory, not correctness.
    public var historyLimit: Int
    /// streamkit's eviction sweep period (§4.2, `workerPresenceSweeperInterval`). coordd arms its timer
    /// at `WorkerRegistry.nextDeadlineMs` instead; a shell may still sweep at this period as a safety
    /// net, since a sweep with nothing due costs O(1).
    public var sweepIntervalMs: Int64
    /// Default `maxBacklog` for a subscriber mailbox in delta mode: deltas queued for one slow
    /// subscriber before they are replaced by one snapshot. Matches `historyLimit`, so a resume and a
    /// slow reader fall back to a snapshot at the same distance.
    public var maxSubscriberBacklog: Int

    /// Creates limits; every argument defaults to the value documented on its property.
    public init(
        ttlFloorMs: Int64 = InventoryLimits.defaultTTLFloorMs,
        maxWorkers: Int = 100_000,
        maxMetadataEntries: Int = 64,
        maxMetadataBytes: Int = 16 * 1_024,
        historyLimit: Int = 1_024,
        sweepIntervalMs: Int64 = 5_000,
        maxSubscriberBacklog: Int = 1_024
    ) {
        precondition(ttlFloorMs > 0, "InventoryLimits: ttlFloorMs must be positive, got \(ttlFloorMs)")
        precondition(maxWorkers >= 0, "InventoryLimits: maxWorkers must not be negative, got \(maxWorkers)")
        precondition(maxMetadataEntries >= 0, "InventoryLimits: maxMetadataEntries must not be negative")
        precondition(maxMetadataBytes >= 0, "InventoryLimits: maxMetadataBytes must not be negative")
        precondition(historyLimit >= 0, "InventoryLimits: historyLimit must not be negative, got \(historyLimit)")
        precondition(sweepIntervalMs > 0, "InventoryLimits: sweepIntervalMs must be positive")
        precondition(maxSubscriberBacklog >= 0, "InventoryLimits: maxSubscriberBacklog must not be negative")
        self.ttlFloorMs = ttlFloorMs
        self.maxWorkers = maxWorkers
        self.maxMetadataEntries = maxMetadataEntries
        self.maxMetadataBytes = maxMetadataBytes
        self.historyLimit = historyLimit
        self.sweepIntervalMs = sweepIntervalMs
        self.maxSubscriberBacklog = maxSubscriberBacklog
    }

    /// The TTL for a worker renewing every `renewIntervalMs`, with this deployment's floor.
    public func ttlMs(renewIntervalMs: Int64) -> Int64 {
        Self.ttlMs(renewIntervalMs: renewIntervalMs, floorMs: ttlFloorMs)
    }
}

// MARK: - Interval rules (streamkit v1 §4.2, plus `heartbeat_interval_ms`)

extension InventoryLimits {
    /// streamkit's Clamp: a value ≤ 0 means "none" and stays 0; anything else is clamped to [1, 300].
    public static func clampSeconds(_ seconds: Int64) -> Int64 {
        guard seconds > 0 else { return 0 }
        return min(max(seconds, minIntervalSeconds), maxIntervalSeconds)
    }

    /// The heartbeat period H in milliseconds; 0 means "send no heartbeats".
    ///
    /// `heartbeat_interval_ms`, when present and positive, wins and is clamped to
    /// [`minIntervalMs`, `maxIntervalMs`]; otherwise H is `clampSeconds(heartbeat_interval_seconds)`.
    public static func heartbeatPeriodMs(intervalSeconds: Int64, intervalMs: Int64? = nil) -> Int64 {
        if let intervalMs, intervalMs > 0 {
            return min(max(intervalMs, minIntervalMs), maxIntervalMs)
        }
        return clampSeconds(intervalSeconds) * 1_000
    }

    /// The renew interval R: H when the worker asked for heartbeats, else the 30 s default.
    public static func renewIntervalMs(heartbeatPeriodMs: Int64) -> Int64 {
        heartbeatPeriodMs > 0 ? heartbeatPeriodMs : defaultRenewIntervalMs
    }

    /// TTL = max(`graceMultiplier` × R, floor).
    public static func ttlMs(renewIntervalMs: Int64, floorMs: Int64) -> Int64 {
        max(graceMultiplier * renewIntervalMs, floorMs)
    }
}
