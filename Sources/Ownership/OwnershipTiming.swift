/// How an owner keeps a store's ownership alive: the TTL PostgreSQL gives each take-over and renewal,
/// and the owner's own, shorter, view of it. Milliseconds throughout; pure (standard library only).
public struct OwnershipTiming: Sendable, Equatable {
    /// Shortest TTL `--ownership-ttl` accepts: with the margin's floor below, an owner still renews
    /// several times per TTL.
    public static let minTTLMs: Int64 = 1_000
    /// Longest TTL: ten minutes. A store whose owner died is served by no one for up to this long.
    public static let maxTTLMs: Int64 = 600_000
    /// The default TTL (`--ownership-ttl`): fail-over within seconds, and a renewal every 3.3 s.
    public static let defaultTTLMs: Int64 = 10_000
    /// The smallest margin: the time between an owner deciding to step down and its streams having
    /// ended (closing a node is a few lock-protected steps), with room for a scheduling delay.
    public static let minMarginMs: Int64 = 100

    /// How long a take-over or renewal makes the ownership last on PostgreSQL's clock.
    public let ttlMs: Int64
    /// How much earlier than PostgreSQL's expiry the owner stops: a tenth of the TTL, at least
    /// ``minMarginMs``. It covers the difference in rate between the owner's monotonic clock and
    /// PostgreSQL's (parts per million), and the time stepping down takes.
    public let marginMs: Int64
    /// How often the owner renews: three renewals per TTL, so two may fail before the third must land.
    public let renewIntervalMs: Int64
    /// How soon a renewal that failed (PostgreSQL unreachable, a timeout) is tried again.
    public let retryIntervalMs: Int64

    /// The timing for `ttlMs` (clamped to ``minTTLMs`` … ``maxTTLMs``).
    public init(ttlMs: Int64 = OwnershipTiming.defaultTTLMs) {
        let ttl = min(max(ttlMs, Self.minTTLMs), Self.maxTTLMs)
        self.ttlMs = ttl
        marginMs = max(ttl / 10, Self.minMarginMs)
        renewIntervalMs = ttl / 3
        retryIntervalMs = max(ttl / 20, Self.minMarginMs)
    }

    /// The owner's safe deadline for a take-over or renewal that it started at `startedAtMs` (read on its
    /// monotonic clock before the statement was sent) and that committed. PostgreSQL set the expiry to
    /// its own clock at the statement plus the TTL, which is later in real time than `startedAtMs` + TTL,
    /// so an owner that stops at this deadline always stops before anyone else may take over.
    public func safeDeadline(startedAtMs: Int64) -> Int64 {
        startedAtMs + ttlMs - marginMs
    }
}
