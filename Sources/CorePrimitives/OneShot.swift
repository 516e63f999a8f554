import Synchronization

/// A value given once and awaited by one waiter: how a queued write hands its outcome to the caller
/// that queued it. Queueing and waiting are separate steps, so a caller takes its place in a queue
/// while holding a lock and waits after releasing it. Waiting is not cancellable: the answer must say
/// what happened to the write (a caller that may give up completes it with its own outcome first,
/// ``completeFirst(_:)``).
///
/// Inlinable so that callers in other modules get it specialised for their `Value`: unspecialised, every
/// call looked up the generic metadata of its state (5 % of the daemon's CPU at durable lease
/// acquires, on the log writer's thread, which answers every operation of a group commit).
public final class OneShot<Value: Sendable>: Sendable {
    @usableFromInline
    struct State {
        @usableFromInline var value: Value?
        @usableFromInline var waiter: CheckedContinuation<Value, Never>?
        @usableFromInline var handler: (@Sendable (Value) -> Void)?

        @inlinable
        init() {}
    }

    @usableFromInline
    let state = Mutex(State())

    /// An empty one.
    @inlinable
    public init() {}

    /// Gives the value (exactly once) and wakes the waiter, or calls the handler on this thread.
    @inlinable
    public func complete(_ value: Value) {
        precondition(completeFirst(value), "a one-shot value was given twice")
    }

    /// Gives the value unless one was given already, as ``complete(_:)`` does; false when one was. For an
    /// outcome several parties may decide, the first of them winning (an answer, a failure, a cancellation).
    @inlinable @discardableResult
    public func completeFirst(_ value: Value) -> Bool {
        let taken = state.withLock { s -> (CheckedContinuation<Value, Never>?, (@Sendable (Value) -> Void)?)? in
            guard s.value == nil else { return nil }
            s.value = value
            defer { (s.waiter, s.handler) = (nil, nil) }
            return (s.waiter, s.handler)
        }
        guard let (waiter, handler) = taken else { return false }
        waiter?.resume(returning: value)
        handler?(value)
        return true
    }

    /// Calls `handler` with the value once it is given: at once (on this thread) if it was, else on the
    /// thread that gives it, which it must not hold up. The one waiter, instead of ``value()``.
    @inlinable
    public func onComplete(_ handler: @escaping @Sendable (Value) -> Void) {
        let ready = state.withLock { s -> Value? in
            if let value = s.value { return value }
            s.handler = handler
            return nil
        }
        if let ready { handler(ready) }
    }

    /// The value if it was given, without waiting.
    @inlinable
    public var current: Value? { state.withLock { $0.value } }

    /// Waits for the value.
    @inlinable
    public func value() async -> Value {
        await withCheckedContinuation { (continuation: CheckedContinuation<Value, Never>) in
            let ready = state.withLock { s -> Value? in
                if let value = s.value { return value }
                s.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
