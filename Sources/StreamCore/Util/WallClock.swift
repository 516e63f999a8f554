#if canImport(Glibc)
import Glibc
#endif

/// Where server timestamps come from. Injected so tests can set the clock, including backwards.
public protocol WallClock: Sendable {
    /// Wall-clock time, Unix epoch milliseconds.
    func nowMs() -> Int64
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    /// Creates the system clock.
    public init() {}

    public func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// A monotonic clock for deadlines (TTL, leases): never jumps when the wall clock is set.
public protocol MonotonicClock: Sendable {
    /// Milliseconds since an arbitrary fixed point.
    func nowMs() -> Int64
}

/// `CLOCK_MONOTONIC`.
public struct SystemMonotonicClock: MonotonicClock {
    /// Creates the system monotonic clock.
    public init() {}

    public func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
