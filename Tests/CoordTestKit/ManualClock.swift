import StreamCore
import Synchronization

/// A wall clock that moves only when a test moves it (also backwards).
public final class ManualWallClock: WallClock {
    private let now: Mutex<Int64>

    /// Creates a clock reading `startMs`.
    public init(startMs: Int64 = 1_767_225_600_000) {
        now = Mutex(startMs)
    }

    public func nowMs() -> Int64 { now.withLock { $0 } }

    /// Moves the clock by `ms` (negative to go back).
    public func advance(byMs ms: Int64) { now.withLock { $0 += ms } }

    /// Sets the clock.
    public func set(_ ms: Int64) { now.withLock { $0 = ms } }
}

/// A monotonic clock that moves only when a test moves it.
public final class ManualMonotonicClock: MonotonicClock {
    private let now: Mutex<Int64>

    /// Creates a clock reading `startMs`.
    public init(startMs: Int64 = 0) {
        now = Mutex(startMs)
    }

    public func nowMs() -> Int64 { now.withLock { $0 } }

    /// Moves the clock forward by `ms`.
    public func advance(byMs ms: Int64) {
        precondition(ms >= 0, "a monotonic clock never goes back")
        now.withLock { $0 += ms }
    }
}
