import Synchronization

/// Makes the log's next write or flush fail or stall, and reports the writer's steps, so tests can
/// drive the fault paths without a full disk and stop at every step of a checkpoint.
///
/// Internal on purpose: tests reach it through `@testable import`; nothing else can arm it.
final class LogFaultInjector: Sendable {
    /// Which operation a fault hits.
    enum Operation: Sendable, Hashable {
        /// The `pwrite` of a batch or of a new file's header. An armed write fault first writes half
        /// the buffer, as a disk that fills up mid-write does, then fails.
        case write
        /// The `fdatasync` after a write.
        case sync
    }

    /// A point the writer has just passed, with everything before it on disk.
    enum Step: Sendable, Hashable {
        /// A new file was created and its header made durable.
        case fileStarted
        /// A batch was written and flushed.
        case batchDurable
        /// A checkpoint's base marker was written.
        case baseMarked
        /// A file before a checkpoint's base was removed.
        case fileRemoved
    }

    private let armed = Mutex<[Operation: Int32]>([:])
    private let observer = Mutex<(@Sendable (Step) -> Void)?>(nil)
    /// Whether flushes stall, and how many writers wait in one.
    private let stall = Mutex<(stalled: Bool, waiting: Int)>((false, 0))
    private let stallEnded = ThreadSemaphore()

    /// Makes the next `operation` fail with `errno`.
    func arm(_ operation: Operation, errno: Int32) {
        armed.withLock { $0[operation] = errno }
    }

    /// Throws (once) the fault armed for `operation`, if any; a flush first waits while flushes stall.
    func check(_ operation: Operation) throws(IOError) {
        if operation == .sync { waitWhileStalled() }
        if let errno = take(operation) {
            throw IOError(errno: errno, call: operation == .write ? "pwrite" : "fdatasync")
        }
    }

    /// Removes and returns the errno armed for `operation`.
    func take(_ operation: Operation) -> Int32? {
        armed.withLock { $0.removeValue(forKey: operation) }
    }

    /// Makes every flush block its writer thread until ``resumeSyncs()``, as a disk that stops
    /// answering does.
    func stallSyncs() {
        stall.withLock { $0.stalled = true }
    }

    /// Lets stalled flushes go on.
    func resumeSyncs() {
        let waiting = stall.withLock { s -> Int in
            defer { s = (false, 0) }
            return s.waiting
        }
        for _ in 0..<waiting { stallEnded.signal() }
    }

    /// Flushes blocked by ``stallSyncs()`` now.
    var stalledSyncs: Int { stall.withLock { $0.waiting } }

    private func waitWhileStalled() {
        let wait = stall.withLock { s -> Bool in
            if s.stalled { s.waiting += 1 }
            return s.stalled
        }
        if wait { stallEnded.wait() }
    }

    /// Calls `body` on the writer's thread at every ``Step`` from now on (nil stops it).
    func observe(_ body: (@Sendable (Step) -> Void)?) {
        observer.withLock { $0 = body }
    }

    /// Reports `step` to the observer, if there is one.
    func reached(_ step: Step) {
        observer.withLock { $0 }?(step)
    }
}
