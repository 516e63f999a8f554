#if canImport(Glibc)
import Glibc
#endif

/// The end of what the current thread is doing now (an event loop's turn), for work that is cheaper
/// done once per turn than once per call.
///
/// A durable log's writer is woken by the first append it finds idle. An event loop reads many
/// requests in one turn, and each durable lease operation appends on it: woken by the first, the
/// writer flushed that append nearly alone while the rest of the turn's waited for the next flush.
/// Put off to the end of the turn, the wake-up finds every append of the turn queued, so one
/// `fdatasync` covers them all, as a single-threaded server's one flush per turn does.
///
/// A thread marks its turns with ``mark(_:)``; ``atEnd(_:)`` on any other thread runs its work at once.
public enum ThreadTurn {
    /// Runs `body` when the calling thread's turn ends, or now on a thread that marks no turns.
    public static func atEnd(_ body: @escaping () -> Void) {
        guard let pointer = pthread_getspecific(key) else { return body() }
        Unmanaged<ThreadTurnEnd>.fromOpaque(pointer).takeUnretainedValue().pending.append(body)
    }

    /// Marks the calling thread's turns: from now on ``atEnd(_:)`` on it collects work in `end` until
    /// `end.run()`, which the thread must call at the end of every turn and before it waits or exits.
    public static func mark(_ end: ThreadTurnEnd) {
        precondition(pthread_getspecific(key) == nil, "ThreadTurn.mark called twice on one thread")
        // Held for the thread's life; the key's destructor lets go of it when the thread exits.
        pthread_setspecific(key, Unmanaged.passRetained(end).toOpaque())
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { end in
            if let end { Unmanaged<ThreadTurnEnd>.fromOpaque(end).release() }
        }
        precondition(status == 0, "pthread_key_create failed: \(status)")
        return key
    }()
}

/// The work a thread put off to the end of its current turn (``ThreadTurn``). Touched only by that
/// thread.
public final class ThreadTurnEnd {
    fileprivate var pending: [() -> Void] = []

    /// An empty one.
    public init() {}

    /// Whether work waits for the end of the turn.
    public var hasWork: Bool { !pending.isEmpty }

    /// Runs the work put off so far, in order, including work that work puts off.
    public func run() {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            for work in batch { work() }
        }
    }
}
