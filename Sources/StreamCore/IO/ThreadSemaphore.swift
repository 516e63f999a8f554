#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A counting semaphore for threads that may block (the log's writer threads, a blocking close): the C
/// library's `sem_t`. Never wait on it from a task: that holds a thread of the concurrency pool.
public final class ThreadSemaphore: @unchecked Sendable {
    // sem_t must not move once initialised, so it lives in memory of its own; the C library makes
    // every operation on it thread-safe.
    private let handle: UnsafeMutablePointer<sem_t>

    /// A semaphore whose count starts at `value`.
    public init(value: UInt32 = 0) {
        handle = .allocate(capacity: 1)
        sem_init(handle, 0, value)
    }

    deinit {
        sem_destroy(handle)
        handle.deallocate()
    }

    /// Adds one to the count, waking one waiter if any.
    public func signal() {
        sem_post(handle)
    }

    /// Blocks the calling thread until the count is above zero, then takes one.
    public func wait() {
        // A signal handler interrupting the wait is not a signal of this semaphore.
        while sem_wait(handle) != 0 && errno == EINTR {}
    }
}
