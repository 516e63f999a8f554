/// Every bound the lease engine enforces, in one place, with where each value comes from.
public struct LeaseLimits: Sendable, Hashable {
    /// The longest TTL a lease may be granted or renewed with, in milliseconds.
    ///
    /// streamkit v1 §5.1: `maxLeaseTTL` = 24 h, reported to clients as `ttl_seconds exceeds maximum of 86400`.
    public var maxTTLMs: Int64

    /// The most leases one `tick(now:)` call expires, so a mass expiry (a partition healing, a clock jump)
    /// cannot stall the serialized engine; the shell calls again at once when `TickResult.more` is set.
    public var maxExpiriesPerTick: Int

    /// The longest lease key accepted, in UTF-8 bytes. Keys name partitions and similar resources; 1 KiB is
    /// ample for that and keeps every logged event small.
    public var maxKeyBytes: Int

    /// The longest holder accepted, in UTF-8 bytes. streamkit clients send a UUID string (36 bytes,
    /// streamkit v1 §5.2); 256 leaves room for readable holder names.
    public var maxHolderBytes: Int

    /// How many superseded entries the expiry heap may carry beyond twice the number of leases before it is
    /// rebuilt. Renewals leave their old deadline in the heap (lazy invalidation); this bounds the memory a
    /// client renewing in a tight loop can pin, while keeping rebuilds rare (amortized O(1) per renewal).
    public var expiryHeapSlack: Int

    /// Creates limits; every argument defaults to the value documented on its property.
    public init(
        maxTTLMs: Int64 = 86_400_000,
        maxExpiriesPerTick: Int = 1_024,
        maxKeyBytes: Int = 1_024,
        maxHolderBytes: Int = 256,
        expiryHeapSlack: Int = 1_024
    ) {
        self.maxTTLMs = maxTTLMs
        self.maxExpiriesPerTick = maxExpiriesPerTick
        self.maxKeyBytes = maxKeyBytes
        self.maxHolderBytes = maxHolderBytes
        self.expiryHeapSlack = expiryHeapSlack
    }
}
