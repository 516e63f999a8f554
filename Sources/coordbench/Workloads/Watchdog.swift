import Synchronization

/// Bounds a workload in time: when its limit passes before ``stop()``, every connection registered
/// with it is closed, which ends whatever request was waiting on one (a server that stopped answering
/// cannot hang the run). The limit can be moved as the workload moves from set-up to measuring.
final class Watchdog: Sendable {
    /// Close actions of the workload's connections.
    let closers = Closers()
    private let limit: Mutex<ContinuousClock.Instant>
    private let fired = Atomic<Bool>(false)
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Starts watching; the connections are closed at `limit` unless it is moved or ``stop()`` is called.
    init(limit: ContinuousClock.Instant) {
        self.limit = Mutex(limit)
        let watcher = Task { [weak self] in
            while !Task.isCancelled {
                guard let current = self?.limit.withLock({ $0 }) else { return }
                try? await Task.sleep(until: current)
                guard !Task.isCancelled, let self else { return }
                if ContinuousClock.now >= self.limit.withLock({ $0 }) {
                    self.fired.store(true, ordering: .releasing)
                    self.closers.closeAll()
                    return
                }
            }
        }
        task.withLock { $0 = watcher }
    }

    /// Moves the limit.
    func extend(to newLimit: ContinuousClock.Instant) { limit.withLock { $0 = newLimit } }

    /// True once the limit passed and the connections were closed.
    var expired: Bool { fired.load(ordering: .acquiring) }

    /// Stops watching (the workload ended in time).
    func stop() { task.withLock { $0?.cancel() } }
}
