import CLinux
import Glibc
import StreamCore

/// Everything an ``EventLoop`` owns that only its thread touches. Deliberately not `Sendable`.
final class LoopState {
    /// A registered descriptor: its handler, current interest, and the generation that tells its
    /// events from those of an earlier descriptor with the same number.
    struct Registration {
        var generation: UInt32
        var interest: IOInterest
        var handler: any IOReadinessHandler
    }

    /// Where the loop is in its life.
    enum Phase {
        case running
        /// Registered objects were asked to finish; the loop stops when none remain.
        case draining
        /// Everything is being closed; no new registrations.
        case stopping
    }

    var registrations: [Int32: Registration] = [:]
    var nextGeneration: UInt32 = 0
    var timers = TimerHeap<() -> Void>()
    /// Work to run after this turn's events, timers and submitted tasks (connection flushes).
    var deferred: [() -> Void] = []
    /// Work put off with `ThreadTurn.atEnd` during this turn (a durable log's wake-up): run after the
    /// turn's events, timers and submitted tasks, and again after the deferred work.
    let turnEnd = ThreadTurnEnd()
    var phase = Phase.running
    /// Set when the loop submitted work to itself this turn (no wake-up was written for it).
    var hasLocalSubmissions = false
    /// The spare half of the double-buffered task FIFO, kept to reuse its capacity.
    var spareTasks: [@Sendable () -> Void] = []
    /// The loop's one read buffer: every read on this loop goes here, and the handler sees the bytes
    /// only during its `didRead` call.
    let readBuffer: UnsafeMutableRawBufferPointer

    init(limits: RuntimeLimits) {
        readBuffer = .allocate(byteCount: limits.readBufferBytes, alignment: 16)
    }

    deinit {
        readBuffer.deallocate()
    }

    var isFinished: Bool {
        switch phase {
        case .running: return false
        case .draining: return registrations.isEmpty && deferred.isEmpty && !turnEnd.hasWork
        case .stopping: return true
        }
    }
}

extension EventLoop {
    /// The loop proper: wait, dispatch readiness, fire due timers, run submitted tasks, run deferred
    /// work; until shut down.
    func runUntilStopped() {
        let capacity = limits.maxEventsPerWait
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        while !confined.isFinished {
            let count = waitForEvents(events, capacity: capacity, timeoutMs: nextTimeoutMs())
            for index in 0..<count { dispatch(events[index]) }
            runDueTimers()
            runSubmittedTasks(closing: false)
            confined.turnEnd.run()
            runDeferred()
            confined.turnEnd.run()
        }
    }

    /// Closes what is still registered, refuses further submissions, and runs the work that was
    /// accepted before that, so every accepted task runs exactly once.
    func finish() {
        confined.phase = .stopping
        closeRegistrations(graceful: false)
        runSubmittedTasks(closing: true)
        confined.turnEnd.run()
        runDeferred()
        confined.turnEnd.run()
        confined.deferred.removeAll()
        confined.timers.removeAll()
    }

    /// Begins a shutdown requested through ``requestShutdown(graceMs:)``.
    func beginShutdown(graceMs: Int) {
        switch confined.phase {
        case .stopping:
            return
        case .draining:
            // A second, impatient request cuts the grace period short.
            if graceMs == 0 { confined.phase = .stopping }
        case .running:
            guard graceMs > 0 else {
                confined.phase = .stopping
                return
            }
            confined.phase = .draining
            scheduleTimer(afterMs: graceMs) { [self] in confined.phase = .stopping }
            closeRegistrations(graceful: true)
        }
    }

    /// Tells every registered handler the loop is shutting down. Non-graceful: anything that stays
    /// registered is dropped without a system call (closing the epoll descriptor, next, removes it
    /// from the kernel's set; the descriptor itself belongs to its handler, so the loop leaves it).
    private func closeRegistrations(graceful: Bool) {
        let handlers = confined.registrations.values.map(\.handler)
        for handler in handlers { handler.loopShuttingDown(graceful: graceful) }
        if !graceful { confined.registrations.removeAll() }
    }

    private func nextTimeoutMs() -> Int32 {
        if !confined.deferred.isEmpty || confined.hasLocalSubmissions { return 0 }
        guard let ms = confined.timers.millisecondsUntilNext(now: .now) else { return -1 }
        return Int32(clamping: ms)
    }

    private func waitForEvents(_ events: UnsafeMutablePointer<epoll_event>, capacity: Int, timeoutMs: Int32) -> Int {
        do {
            return Int(try Posix.call("epoll_wait") { epoll_wait(epollFD, events, Int32(capacity), timeoutMs) })
        } catch {
            // epoll_wait fails (other than EINTR, which Posix retries) only for a bad descriptor,
            // buffer or count: programming errors.
            preconditionFailure("epoll_wait failed: \(error)")
        }
    }

    private func dispatch(_ event: epoll_event) {
        let token = event.data.u64
        if token == Self.wakeToken {
            drainWakeUp()
            return
        }
        let fd = Int32(truncatingIfNeeded: token & 0xFFFF_FFFF)
        let generation = UInt32(truncatingIfNeeded: token >> 32)
        // An earlier event in this batch may have closed the descriptor, and its number may already
        // belong to a new registration: the generation tells them apart.
        guard let registration = confined.registrations[fd], registration.generation == generation else { return }
        registration.handler.ioReady(IOEvents(epollEvents: event.events))
    }

    private func runDueTimers() {
        let now = ContinuousClock.now
        while let callback = confined.timers.popDue(now: now) { callback() }
    }

    private func runSubmittedTasks(closing: Bool) {
        var batch = confined.spareTasks
        confined.spareTasks = []
        takeSubmittedTasks(into: &batch, closing: closing)
        for task in batch { task() }
        batch.removeAll(keepingCapacity: true)
        confined.spareTasks = batch
    }

    /// Runs deferred work; work deferred by that work runs in the same turn, up to a few rounds,
    /// after which the loop polls instead of sleeping so the rest runs next turn.
    private func runDeferred() {
        var rounds = 0
        while !confined.deferred.isEmpty && rounds < 4 {
            rounds += 1
            let batch = confined.deferred
            confined.deferred = []
            for work in batch { work() }
        }
    }
}
