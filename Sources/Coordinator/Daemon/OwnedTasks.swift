import CorePrimitives
import Synchronization

/// Long-lived tasks owned by one part of the daemon, so stopping it cancels and awaits all of them and
/// none is left running after a stop.
public final class OwnedTasks: Sendable {
    private struct State {
        var tasks: [UInt64: Task<Void, Never>] = [:]
        var nextID: UInt64 = 0
        var closed = false
    }

    private let state = Mutex(State())
    /// Opened once no new task is taken and the last one has ended.
    private let ended = Latch()

    /// No tasks yet.
    public init() {}

    /// Tasks running now.
    public var count: Int { state.withLock { $0.tasks.count } }

    /// Runs `body` in a new task owned here; false (and nothing runs) once ``cancelAndWait()`` began.
    @discardableResult
    public func spawn(_ body: @escaping @Sendable () async -> Void) -> Bool {
        state.withLock { s -> Bool in
            guard !s.closed else { return false }
            s.nextID += 1
            let id = s.nextID
            // Registered under the lock before it can finish, so its removal always finds it.
            s.tasks[id] = Task { [self] in
                await body()
                let last = state.withLock { s -> Bool in
                    s.tasks.removeValue(forKey: id)
                    return s.closed && s.tasks.isEmpty
                }
                if last { ended.open() }
            }
            return true
        }
    }

    /// Waits for every task owned now to end, without cancelling them.
    public func waitAll() async {
        for task in state.withLock({ Array($0.tasks.values) }) { await task.value }
    }

    /// Refuses new tasks, cancels those running and waits for them to end.
    public func cancelAndWait() async {
        for task in cancelAll() { await task.value }
    }

    /// Refuses new tasks, cancels those running and waits for them to end, or for `limit` to pass;
    /// returns how many tasks were still running then (a task that ignores cancellation).
    public func cancelAndWait(upTo limit: Duration) async -> Int {
        _ = cancelAll()
        let clock = ContinuousClock()
        guard await !ended.wait(until: clock.now + limit, clock: clock) else { return 0 }
        return count
    }

    private func cancelAll() -> [Task<Void, Never>] {
        let tasks = state.withLock { s -> [Task<Void, Never>] in
            s.closed = true
            return Array(s.tasks.values)
        }
        if tasks.isEmpty { ended.open() }
        for task in tasks { task.cancel() }
        return tasks
    }
}
