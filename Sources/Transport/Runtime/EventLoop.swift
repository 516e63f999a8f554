import CLinux
import Glibc
import StreamCore
import Synchronization

/// One thread that owns an epoll instance and everything registered with it: sockets, timers, and
/// the work other threads hand it.
///
/// Loop-confined methods (registration, timers, and everything on ``TCPConnection``) must be called
/// on the loop's thread and check that they are; ``execute(_:)`` is how any other thread gets there.
/// Hand-off is a lock-protected FIFO plus an `eventfd`. Wake-ups are coalesced: only the first
/// submission after the loop last emptied the FIFO writes the `eventfd` (an atomic flag says whether
/// a wake-up is already on its way), so a burst of submissions costs one system call, and the lock
/// covers nothing but an array append.
public final class EventLoop: @unchecked Sendable {
    // Why `@unchecked Sendable` is sound: `limits`, `events`, `epollFD` and `wakeFD` are immutable; `inbox`
    // locks itself; `joinHandle` is a Mutex; `wakeUpPending` and `threadIdentity` are Atomics;
    // `confined` (and through it every registration, timer and deferred closure) is touched only on
    // the loop's own thread, which each loop-confined method checks with `preconditionInEventLoop()`.

    /// The limits every loop-confined object on this loop obeys.
    public let limits: RuntimeLimits
    /// Where this loop's listeners and connections report what they do on their own.
    public let events: RuntimeEvents

    let epollFD: Int32
    private let wakeFD: Int32
    private let inbox = TaskInbox()
    /// True from the first submission after the loop last took the FIFO until it takes it again:
    /// a wake-up is already written (or about to be), so later submitters need not write one.
    private let wakeUpPending = Atomic<Bool>(false)
    private let threadIdentity = Atomic<UInt>(0)
    private let joinHandle = Mutex<pthread_t?>(nil)
    let confined: LoopState

    /// The `epoll_event.data` value that marks the wake-up `eventfd` (registrations encode a
    /// generation in the upper half, which never reaches all ones).
    static let wakeToken = UInt64.max

    /// Creates the epoll instance and the wake-up `eventfd`, and starts the loop's thread. What the
    /// loop's objects do on their own is reported to `events`.
    public init(limits: RuntimeLimits = RuntimeLimits(), events: RuntimeEvents = .ignored) throws(IOError) {
        limits.validate()
        self.limits = limits
        self.events = events
        let epollFD = try Posix.call("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        let wakeFD: Int32
        do {
            wakeFD = try Posix.call("eventfd") { eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC)) }
        } catch {
            try? Posix.close(epollFD)
            throw error
        }
        self.epollFD = epollFD
        self.wakeFD = wakeFD
        self.confined = LoopState(limits: limits)
        // From here on a throw runs deinit, which closes the eventfd; only the epoll descriptor
        // (otherwise closed by the loop's thread) must be closed on the way out.
        do {
            var event = epoll_event()
            event.events = EPOLLIN.rawValue
            event.data.u64 = Self.wakeToken
            _ = try Posix.call("epoll_ctl(ADD eventfd)") { epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event) }
            try startThread()
        } catch {
            try? Posix.close(epollFD)
            throw error
        }
    }

    deinit {
        // Closed here, not when the thread exits: a submitter holding this object may still write
        // a wake-up after the loop stopped, which must reach this eventfd and not a reused number.
        try? Posix.close(wakeFD)
    }

    /// True when called on this loop's thread.
    public var inEventLoop: Bool {
        threadIdentity.load(ordering: .relaxed) == pthread_self()
    }

    /// Traps unless called on this loop's thread: loop-confined state touched from elsewhere is a
    /// programming error.
    public func preconditionInEventLoop(file: StaticString = #fileID, line: UInt = #line) {
        precondition(inEventLoop, "loop-confined call made off its event loop", file: file, line: line)
    }

    /// Runs `work` on the loop's thread, after the work submitted before it (first in, first out).
    ///
    /// Callable from any thread, including the loop's own (the work then runs in a later turn, never
    /// inside the caller). Returns false, and drops `work`, when the loop has already stopped.
    @discardableResult
    public func execute(_ work: @escaping @Sendable () -> Void) -> Bool {
        guard inbox.append(work) else { return false }
        if inEventLoop {
            // The loop's own submissions need no wake-up: it polls instead of sleeping next turn.
            confined.hasLocalSubmissions = true
        } else if !wakeUpPending.exchange(true, ordering: .sequentiallyConsistent) {
            // The loop clears the flag before it takes the FIFO, so either it has not taken it yet
            // (and will see this task) or this write wakes it. Outside the lock, so submitters never
            // queue behind a system call; the eventfd stays open as long as this object exists.
            wake()
        }
        return true
    }

    /// Runs `body` on the loop and returns its result; throws the loop-shut-down error when the
    /// loop stopped before it could run.
    @discardableResult
    public func perform<T: Sendable>(_ body: @escaping @Sendable () throws(IOError) -> T) async throws(IOError) -> T {
        let result: Result<T, IOError> = await withCheckedContinuation { continuation in
            let accepted = execute { continuation.resume(returning: Result(catching: body)) }
            if !accepted { continuation.resume(returning: .failure(.loopShutDown)) }
        }
        return try result.get()
    }

    /// Stops the loop and waits for its thread to exit.
    ///
    /// With `graceMs` > 0, every registered object is first asked to finish (connections flush and
    /// close, listeners stop) and the loop runs until all have deregistered or the grace time is up.
    /// Then whatever remains is closed at once, work already submitted runs, and the epoll and
    /// eventfd descriptors are closed. Must not be called on the loop itself (it joins the thread).
    public func shutdown(graceMs: Int = 0) {
        requestShutdown(graceMs: graceMs)
        waitForThreadExit()
    }

    /// Asks the loop to begin shutting down without waiting for it.
    func requestShutdown(graceMs: Int) {
        execute { [self] in beginShutdown(graceMs: graceMs) }
    }

    /// Joins the loop's thread (once; later calls return at once).
    func waitForThreadExit() {
        precondition(!inEventLoop, "an event loop cannot wait for its own thread to exit")
        guard let handle = joinHandle.withLock({ handle -> pthread_t? in
            defer { handle = nil }
            return handle
        }) else { return }
        let rc = pthread_join(handle, nil)
        // pthread_join fails only for a thread that is not joinable or is the caller: programming errors.
        precondition(rc == 0, "pthread_join failed with \(rc)")
    }

    /// Takes every submitted task, for one turn of the loop or the final drain.
    func takeSubmittedTasks(into batch: inout [@Sendable () -> Void], closing: Bool) {
        confined.hasLocalSubmissions = false
        wakeUpPending.store(false, ordering: .sequentiallyConsistent)
        inbox.take(into: &batch, closing: closing)
    }

    /// Consumes the eventfd's counter after a wake-up.
    func drainWakeUp() {
        var counter: UInt64 = 0
        _ = try? Posix.nonBlocking("read(eventfd)") { read(wakeFD, &counter, MemoryLayout<UInt64>.size) }
    }

    private func wake() {
        var one: UInt64 = 1
        do {
            _ = try Posix.nonBlocking("write(eventfd)") { write(wakeFD, &one, MemoryLayout<UInt64>.size) }
        } catch {
            // An eventfd write fails only with EINVAL for a buffer that is not 8 bytes.
            preconditionFailure("eventfd wake-up failed: \(error)")
        }
    }

    // MARK: Thread

    private func startThread() throws(IOError) {
        let context = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { context in
            // `context` is the retained loop passed to pthread_create just below; it is never nil.
            let loop = Unmanaged<EventLoop>.fromOpaque(context!).takeRetainedValue()
            loop.runThread()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<EventLoop>.fromOpaque(context).release()
            throw IOError.threadCreate(rc)
        }
        joinHandle.withLock { $0 = handle }
    }

    private func runThread() {
        threadIdentity.store(pthread_self(), ordering: .relaxed)
        ThreadTurn.mark(confined.turnEnd)
        runUntilStopped()
        finish()
        try? Posix.close(epollFD)
        // A later thread may be given the same pthread_t; it must not pass for this loop's thread.
        threadIdentity.store(0, ordering: .relaxed)
    }
}
