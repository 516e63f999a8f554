/// Suspends the current task until someone resumes it, or until it is cancelled.
///
/// `park` runs once with the continuation: it either answers at once (returns a value) or keeps the
/// continuation under its owner's lock for whoever resumes it later (returns nil). If the task is
/// cancelled while parked, `unpark` takes the kept continuation back (nil if it was already resumed) and
/// it is resumed with `cancelled`. When cancellation comes before parking, `park` sees
/// `Task.isCancelled` already set and should answer at once; so neither order loses a wake-up.
public func suspendCancellably<T: Sendable>(
    park: (CheckedContinuation<T, Never>) -> T?,
    unpark: @escaping @Sendable () -> CheckedContinuation<T, Never>?,
    cancelled: T
) async -> T {
    await withTaskCancellationHandler {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            if let ready = park(continuation) { continuation.resume(returning: ready) }
        }
    } onCancel: {
        unpark()?.resume(returning: cancelled)
    }
}

/// The one continuation a ``suspendCancellably(park:unpark:cancelled:)`` call keeps under its owner's
/// lock (a stream's waiting receive), with the id of the wait that parked it, so that a cancelled wait
/// takes back only its own continuation and never a later one.
public struct ParkedContinuation<T: Sendable>: Sendable {
    private var parked: (id: UInt64, continuation: CheckedContinuation<T, Never>)?

    /// Nothing parked.
    public init() {}

    /// True while a continuation is parked.
    public var isParked: Bool { parked != nil }

    /// Parks `continuation` for wait `id`. One at a time: a second would be a caller's bug.
    public mutating func park(_ continuation: CheckedContinuation<T, Never>, id: UInt64) {
        precondition(parked == nil, "two concurrent waits on one ParkedContinuation")
        parked = (id, continuation)
    }

    /// The parked continuation, now no longer parked (to resume it).
    public mutating func take() -> CheckedContinuation<T, Never>? {
        defer { parked = nil }
        return parked?.continuation
    }

    /// The continuation of wait `id` if it is still the one parked (the `unpark` of a cancelled wait).
    public mutating func take(id: UInt64) -> CheckedContinuation<T, Never>? {
        guard parked?.id == id else { return nil }
        return take()
    }
}
