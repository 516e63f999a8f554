import Synchronization

/// Bounds how many tasks do something at once (connects during a storm), first come first served.
final class AsyncSemaphore: Sendable {
    private struct State {
        var available: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    init(_ permits: Int) { state = Mutex(State(available: permits)) }

    func acquire() async {
        await withCheckedContinuation { continuation in
            let granted = state.withLock { s -> Bool in
                if s.available > 0 {
                    s.available -= 1
                    return true
                }
                s.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.available += 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}

/// The newest marker each observer has seen, and how the parent task learns that all of them have
/// seen a given one.
final class ProgressBoard: Sendable {
    private let latest: Mutex<[UInt64]>
    private let readyCount = Atomic<Int>(0)
    private let failure = Mutex<String?>(nil)

    init(observers: Int) { latest = Mutex(Array(repeating: 0, count: observers)) }

    func update(_ observer: Int, marker: UInt64) { latest.withLock { $0[observer] = max($0[observer], marker) } }
    func ready() { readyCount.add(1, ordering: .relaxed) }
    var readyObservers: Int { readyCount.load(ordering: .relaxed) }
    func fail(_ message: String) { failure.withLock { if $0 == nil { $0 = message } } }
    var failed: String? { failure.withLock { $0 } }

    /// Observers that have not yet seen `marker`.
    func behind(_ marker: UInt64) -> Int { latest.withLock { $0.reduce(0) { $0 + ($1 < marker ? 1 : 0) } } }
}

/// Close actions of connections opened in child tasks, run by the parent when a workload ends.
final class Closers: Sendable {
    private let actions = Mutex<[@Sendable () -> Void]>([])

    func add(_ action: @escaping @Sendable () -> Void) { actions.withLock { $0.append(action) } }

    func closeAll() {
        let all = actions.withLock { list -> [@Sendable () -> Void] in
            defer { list = [] }
            return list
        }
        for action in all { action() }
    }
}
