import Synchronization

/// An async mutual exclusion per key: tasks holding different keys run at once, tasks wanting the same
/// key take turns in arrival order. Keys with no holder take no memory.
public final class AsyncKeyedLock<Key: Hashable & Sendable>: Sendable {
    private struct Slot {
        var waiters = RingBuffer<CheckedContinuation<Void, Never>>()
    }

    private let slots = Mutex<[Key: Slot]>([:])

    /// Creates the lock.
    public init() {}

    /// Waits until `key` is free and takes it.
    public func lock(_ key: Key) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let free = slots.withLock { slots -> Bool in
                if slots[key] == nil {
                    slots[key] = Slot()
                    return true
                }
                slots[key]?.waiters.append(continuation)
                return false
            }
            if free { continuation.resume() }
        }
    }

    /// Passes `key` to the next waiter, or frees it.
    public func unlock(_ key: Key) {
        let next = slots.withLock { slots -> CheckedContinuation<Void, Never>? in
            if let waiter = slots[key]?.waiters.popFirst() { return waiter }
            slots[key] = nil
            return nil
        }
        next?.resume()
    }

    /// Runs `body` holding `key`.
    public func withLock<T>(_ key: Key, _ body: () async throws(StreamsError) -> T) async throws(StreamsError) -> T {
        await lock(key)
        defer { unlock(key) }
        return try await body()
    }
}
