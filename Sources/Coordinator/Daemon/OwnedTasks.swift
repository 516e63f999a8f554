import CorePrimitives
import Synchronization

/// Long-lived tasks owned by one part of the daemon, so stopping it cancels and awaits all of them and
/// none is left running after a stop.
public final class OwnedTasks: Sendable {
    private struct State {
        var tasks: [UInt64: Task<Void, Never>] = [:]
        /// Tasks started but not yet registered in `tasks`.
        var starting = 0
        /// Tasks that ended before they were registered (their registration then drops them).
        var endedEarly: Set<UInt64> = []
        var nextID: UInt64 = 0
        var closed = false

        /// Nothing runs or is about to, and nothing new will.
        var isDone: Bool { closed && tasks.isEmpty && starting == 0 }
    }

    private let state = Mutex(State())
    /// Opened once no new task is taken and the last one has ended.
    private let ended = Latch()

    /// No tasks yet.
    public init() {}

    /// Tasks running now.
    public var count: Int { state.withLock { $0.tasks.count + $0.starting } }

    /// Runs `body` in a new task owned here; false (and nothing runs) once ``cancelAndWait()`` began.
    ///
    /// The task is created outside the lock: creating it enqueues it and may wake a thread, and with the
    /// lock held that made every thread spawning or ending a stream's task spin on it.
    @discardableResult
    public func spawn(_ body: @escaping @Sendable () async -> Void) -> Bool {
        let id = state.withLock { s -> UInt64? in
            guard !s.closed else { return nil }
            s.nextID += 1
            s.starting += 1
            return s.nextID
        }
        guard let id else { return false }
        let task = Task { [self] in
            await body()
            finished(id)
        }
        let (cancel, done) = state.withLock { s -> (Bool, Bool) in
            s.starting -= 1
            if s.endedEarly.remove(id) == nil { s.tasks[id] = task }
            // A stop that began meanwhile did not see this task: it is cancelled as the stop's were.
            return (s.closed, s.isDone)
        }
        if cancel { task.cancel() }
        if done { ended.open() }
        return true
    }

    private func finished(_ id: UInt64) {
        let done = state.withLock { s -> Bool in
            if s.tasks.removeValue(forKey: id) == nil { s.endedEarly.insert(id) }
            return s.isDone
        }
        if done { ended.open() }
    }

    /// Refuses new tasks, cancels those running and waits for them (and any still being started) to end.
    public func cancelAndWait() async {
        cancelAll()
        await ended.wait()
    }

    /// Refuses new tasks, cancels those running and waits for them to end, or for `limit` to pass;
    /// returns how many tasks were still running then (a task that ignores cancellation).
    public func cancelAndWait(upTo limit: Duration) async -> Int {
        cancelAll()
        let clock = ContinuousClock()
        guard await !ended.wait(until: clock.now + limit, clock: clock) else { return 0 }
        return count
    }

    /// Refuses new tasks and cancels those running (a task still being started is cancelled by its spawn).
    private func cancelAll() {
        let (tasks, done) = state.withLock { s -> ([Task<Void, Never>], Bool) in
            s.closed = true
            return (Array(s.tasks.values), s.isDone)
        }
        if done { ended.open() }
        for task in tasks { task.cancel() }
    }
}
