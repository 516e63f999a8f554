import Synchronization

/// The threads that write every log of the process: a fixed few, shared, instead of one per log.
///
/// A log with work is put in a FIFO of ready writers; a pool thread takes the first, runs one step of
/// it (one batch: one `pwrite`, one `fdatasync`) and puts it back at the end if it has more, so busy
/// logs take turns and a log is never written by two threads at once. The threads run outside the
/// Swift concurrency pool, where a blocking `fdatasync` would stall unrelated tasks, and they live as
/// long as the process. A stalled disk holds only the threads flushing to it.
final class LogWriterPool: Sendable {
    /// The pool every log uses unless a test gives it another.
    static let shared = LogWriterPool(threads: LogWriterPoolLimits.threads)

    /// Starts a thread running its body; throws when the system refuses.
    typealias ThreadStarter = @Sendable (String, @escaping @Sendable () -> Void) throws(IOError) -> Void

    private struct State {
        var ready = RingBuffer<LogWriter>()
        /// Threads waiting on `wakeup` for a writer.
        var sleeping = 0
    }

    /// The threads wanted.
    let size: Int
    private let state = Mutex(State())
    private let wakeup = ThreadSemaphore()
    private let startThread: ThreadStarter
    /// Threads started so far; starting is serialized by `starting`.
    private let running = Atomic<Int>(0)
    private let starting = Mutex<IOError?>(nil)

    /// A pool of `threads` threads, started by `startThread` when first needed.
    init(threads: Int, startThread: @escaping ThreadStarter = { name, body throws(IOError) in
        try Posix.startDetachedThread(name: name, body)
    }) {
        precondition(threads > 0, "LogWriterPool needs at least one thread, got \(threads)")
        size = threads
        self.startThread = startThread
    }

    /// Threads running now.
    var threadCount: Int { running.load(ordering: .acquiring) }

    /// Starts the threads not running yet. Fails (transient) only when not a single one runs, naming
    /// the system's reason; with some running the pool works, and later calls try the rest again.
    func ensureRunning() throws(StreamsError) {
        if running.load(ordering: .acquiring) >= size { return }
        let failure = starting.withLock { lastFailure -> IOError? in
            while running.load(ordering: .acquiring) < size {
                let number = running.load(ordering: .acquiring) + 1
                do throws(IOError) {
                    try startThread("coordd-logw-\(number)") { [self] in run() }
                } catch {
                    lastFailure = error
                    break
                }
                running.add(1, ordering: .releasing)
            }
            return running.load(ordering: .acquiring) == 0 ? lastFailure : nil
        }
        if let failure { throw .storage("no log writer thread could be started: \(failure)", cause: failure) }
    }

    /// Hands `writer` to the pool; called only by whoever marked it scheduled in its queue.
    func schedule(_ writer: LogWriter) {
        let wake = state.withLock { s -> Bool in
            s.ready.append(writer)
            guard s.sleeping > 0 else { return false }
            s.sleeping -= 1
            return true
        }
        if wake { wakeup.signal() }
    }

    private func run() {
        while true {
            let next = state.withLock { s -> LogWriter? in
                if let writer = s.ready.popFirst() { return writer }
                s.sleeping += 1
                return nil
            }
            guard let writer = next else {
                wakeup.wait()
                continue
            }
            if writer.step() { requeue(writer) }
        }
    }

    /// Puts a writer with more to do back at the end of the queue. This thread takes the queue's first
    /// writer next, so another is woken only for a second writer waiting: waking one for this writer
    /// alone moved every log to another thread after each batch, a futex wake-up and a thread's
    /// wake-up delay on the path of every group commit.
    private func requeue(_ writer: LogWriter) {
        let wake = state.withLock { s -> Bool in
            s.ready.append(writer)
            guard s.ready.count > 1, s.sleeping > 0 else { return false }
            s.sleeping -= 1
            return true
        }
        if wake { wakeup.signal() }
    }
}

/// The writer pool's size, with where it comes from.
enum LogWriterPoolLimits {
    /// Threads shared by every log of the process. Each spends its time waiting in `fdatasync`, so
    /// they cost no CPU; four keep a few disks (or one deep NVMe queue) busy and let the other logs go
    /// on while one stalls, where a thread per log cost 2,000 threads for 2,000 stores.
    static let threads = 4
}
