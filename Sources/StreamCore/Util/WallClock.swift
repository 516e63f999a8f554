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
///
/// Every timer of the shells sleeps through it, so a test that injects a manual clock decides when time
/// passes and no timer depends on the machine's load.
public protocol MonotonicClock: Sendable {
    /// Milliseconds since an arbitrary fixed point.
    func nowMs() -> Int64

    /// Returns once ``nowMs()`` has reached `deadlineMs` (at once if it has), or throws
    /// `CancellationError` as soon as the calling task is cancelled.
    func sleep(untilMs deadlineMs: Int64) async throws(CancellationError)
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

    public func sleep(untilMs deadlineMs: Int64) async throws(CancellationError) {
        // `Task.sleep` measures on another clock: checking this one again after each sleep keeps "never
        // returns before the deadline" true whatever the two clocks' rounding, and each round sleeps at
        // least 1 ms, so the loop ends.
        while true {
            let remaining = deadlineMs - nowMs()
            guard remaining > 0 else { return }
            do {
                try await Task.sleep(for: .milliseconds(remaining))
            } catch {
                throw CancellationError()
            }
        }
    }
}
