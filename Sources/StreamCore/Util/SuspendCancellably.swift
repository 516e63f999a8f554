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
