import CorePrimitives
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

/// A monotonic clock that moves only when a test moves it. Tasks sleeping on it (``sleep(untilMs:)``)
/// wake when an ``advance(byMs:)`` reaches their deadline, in deadline order, and a test can wait until
/// the tasks it drives are parked again (``waitForSleepers(_:)``): time passes without a real sleep.
public final class ManualMonotonicClock: MonotonicClock {
    private struct Sleeper {
        var deadlineMs: Int64
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct ParkWaiter {
        var count: Int
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var nowMs: Int64
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
        var parkWaiters: [UInt64: ParkWaiter] = [:]

        /// Takes the park waiters whose count of sleepers is reached.
        mutating func satisfiedParkWaiters() -> [CheckedContinuation<Void, Never>] {
            let ready = parkWaiters.filter { $0.value.count <= sleepers.count }
            for id in ready.keys { parkWaiters[id] = nil }
            return ready.values.map(\.continuation)
        }
    }

    private let state: Mutex<State>

    /// Creates a clock reading `startMs`.
    public init(startMs: Int64 = 0) {
        state = Mutex(State(nowMs: startMs))
    }

    public func nowMs() -> Int64 { state.withLock { $0.nowMs } }

    /// Moves the clock forward by `ms` and wakes every sleeper due by then, earliest deadline first
    /// (ties in the order they went to sleep).
    public func advance(byMs ms: Int64) {
        precondition(ms >= 0, "a monotonic clock never goes back")
        let due = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            s.nowMs += ms
            let now = s.nowMs
            let due = s.sleepers.filter { $0.value.deadlineMs <= now }
                .sorted { ($0.value.deadlineMs, $0.key) < ($1.value.deadlineMs, $1.key) }
            for (id, _) in due { s.sleepers[id] = nil }
            return due.map(\.value.continuation)
        }
        for continuation in due { continuation.resume() }
    }

    /// Tasks asleep on this clock now.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// Returns once at least `count` tasks are asleep on this clock (or the calling task is cancelled):
    /// after an ``advance(byMs:)``, the tasks it woke have done their work when they are parked again.
    /// Bound it in time with `withDeadline`.
    public func waitForSleepers(_ count: Int) async {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        await suspendCancellably(park: { continuation in
            state.withLock { s -> Void? in
                if s.sleepers.count >= count || Task.isCancelled { return () }
                s.parkWaiters[id] = ParkWaiter(count: count, continuation: continuation)
                return nil
            }
        }, unpark: { self.state.withLock { $0.parkWaiters.removeValue(forKey: id) }?.continuation }, cancelled: ())
    }

    public func sleep(untilMs deadlineMs: Int64) async throws(CancellationError) {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        do {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let (outcome, parked) = state.withLock { s -> (Result<Void, CancellationError>?, [CheckedContinuation<Void, Never>]) in
                        if Task.isCancelled { return (.failure(CancellationError()), []) }
                        if deadlineMs <= s.nowMs { return (.success(()), []) }
                        s.sleepers[id] = Sleeper(deadlineMs: deadlineMs, continuation: continuation)
                        return (nil, s.satisfiedParkWaiters())
                    }
                    for waiter in parked { waiter.resume() }
                    if let outcome { continuation.resume(with: outcome) }
                }
            } onCancel: {
                state.withLock { $0.sleepers.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
            }
        } catch {
            throw CancellationError()
        }
    }
}
