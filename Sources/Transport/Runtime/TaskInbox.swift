import Glibc

/// The FIFO through which other threads hand work to an ``EventLoop``.
///
/// Guarded by a plain pthread mutex rather than Synchronization's `Mutex`: on Linux `Mutex` is a
/// priority-inheritance futex that enters the kernel whenever it is contended, and with eight
/// threads appending to one queue it measured about ten times slower per append (1.6 µs against
/// 0.16 µs on a 2-core machine). Hand-off to a loop is the daemon's hottest cross-thread path.
final class TaskInbox: @unchecked Sendable {
    // Why `@unchecked Sendable` is sound: `tasks` and `isClosed` are read and written only between
    // `pthread_mutex_lock` and `pthread_mutex_unlock` of `mutex`, which is allocated once (so its
    // address never changes, as a pthread mutex requires) and freed only in deinit.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var tasks: [@Sendable () -> Void] = []
    private var isClosed = false

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        // With default attributes pthread_mutex_init cannot fail on Linux.
        let rc = pthread_mutex_init(mutex, nil)
        precondition(rc == 0, "pthread_mutex_init failed with \(rc)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Appends `task`; false (and `task` dropped) once the inbox is closed.
    func append(_ task: @escaping @Sendable () -> Void) -> Bool {
        lock()
        defer { unlock() }
        guard !isClosed else { return false }
        tasks.append(task)
        return true
    }

    /// Swaps the queued tasks into `batch` (which should be empty, to reuse its capacity); with
    /// `closing`, refuses every later append.
    func take(into batch: inout [@Sendable () -> Void], closing: Bool) {
        lock()
        defer { unlock() }
        swap(&tasks, &batch)
        if closing { isClosed = true }
    }

    private func lock() {
        let rc = pthread_mutex_lock(mutex)
        // A default mutex fails only when misused (uninitialised, or relocked by its owner).
        precondition(rc == 0, "pthread_mutex_lock failed with \(rc)")
    }

    private func unlock() {
        let rc = pthread_mutex_unlock(mutex)
        precondition(rc == 0, "pthread_mutex_unlock failed with \(rc)")
    }
}
