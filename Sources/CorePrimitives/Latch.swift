import Synchronization

/// A one-way signal: closed until ``open()``, then open for good, and every ``wait()`` returns. The
/// one "wait until closed" (or "until drained") used by streams and by the daemon's lifecycle.
///
/// `Synchronization` ships with the toolchain's standard library (no Foundation, no Glibc), so this
/// leaf stays standard-library-only with it. Waiting is cancellable: a cancelled waiter returns at once,
/// which lets a caller race the signal against a deadline in a task group.
public final class Latch: Sendable {
    private struct State {
        var isOpen = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    /// A closed latch.
    public init() {}

    /// True once ``open()`` was called.
    public var isOpen: Bool { state.withLock { $0.isOpen } }

    /// Opens the latch and wakes every waiter; true for the call that opened it, false afterwards.
    @discardableResult
    public func open() -> Bool {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>]? in
            guard !s.isOpen else { return nil }
            s.isOpen = true
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        guard let waiters else { return false }
        for waiter in waiters { waiter.resume() }
        return true
    }

    /// Suspends until the latch is open, or until the calling task is cancelled.
    public func wait() async {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        await suspendCancellably(park: { continuation in
            state.withLock { s -> Void? in
                if s.isOpen || Task.isCancelled { return () }
                s.waiters[id] = continuation
                return nil
            }
        }, unpark: { self.state.withLock { $0.waiters.removeValue(forKey: id) } }, cancelled: ())
    }

    /// Waits until the latch is open or `deadline` passes on `clock`; true when it opened.
    public func wait<C: Clock>(until deadline: C.Instant, clock: C) async -> Bool where C.Duration == Duration {
        if isOpen { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { [self] in
                await wait()
                return isOpen
            }
            group.addTask {
                try? await clock.sleep(until: deadline, tolerance: nil)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first || isOpen
        }
    }
}
