import Foundation
import Synchronization

/// The hand-off between `append` callers and the writer thread: a bounded FIFO of groups under a
/// `Mutex`, and a semaphore that wakes the writer when it sleeps.
final class LogQueue: Sendable {
    /// Where a group landed: its file, and the offset of its first frame.
    typealias Placement = (file: UInt32, offset: UInt64)
    /// Completed by the writer once the group is durable, or with the reason it is not.
    typealias Waiter = LogTicket

    /// One `append` call: its records already framed, and its waiting caller.
    struct Group: Sendable {
        var frames: [UInt8]
        var recordCount: Int
        var waiter: Waiter
    }

    /// What the writer does next.
    enum Step {
        /// Write these groups as one batch.
        case write([Group])
        /// The log can no longer write: fail these groups with the error.
        case fail([Group], StreamsError)
        /// Nothing to do: wait on ``wakeup``.
        case sleep
        /// Closing and nothing left: stop.
        case exit
    }

    private struct State {
        var pending: [Group] = []
        var writerAsleep = false
        var closing = false
        /// Set once a flush failed; from then on every append fails with it.
        var failure: StreamsError?
    }

    private let state = Mutex(State())
    /// Signalled once per transition of the writer from asleep to needed, so no wake-up is lost.
    let wakeup = DispatchSemaphore(value: 0)
    private let maxPending: Int

    init(maxPending: Int) {
        self.maxPending = maxPending
    }

    /// Queues `group`, or returns why it cannot be (closed, failed, full) without queueing it.
    func enqueue(_ group: Group) -> StreamsError? {
        let (rejection, wake) = state.withLock { s -> (StreamsError?, Bool) in
            if s.closing { return (.shuttingDown.with(message: "log is closed"), false) }
            if let failure = s.failure { return (failure, false) }
            if s.pending.count >= maxPending {
                return (.storage("log append queue is full: \(maxPending) appends are waiting (maxPendingAppends)"), false)
            }
            s.pending.append(group)
            let wake = s.writerAsleep
            s.writerAsleep = false
            return (nil, wake)
        }
        if wake { wakeup.signal() }
        return rejection
    }

    /// Takes the writer's next step. `budget(first)` gives the batch's byte budget once the first
    /// group's size is known; further groups join while they fit in it, always in queue order.
    func nextStep(budget: (Int) -> Int) -> Step {
        state.withLock { s -> Step in
            if s.pending.isEmpty {
                if s.closing { return .exit }
                s.writerAsleep = true
                return .sleep
            }
            if let failure = s.failure {
                defer { s.pending.removeAll() }
                return .fail(s.pending, failure)
            }
            let limit = budget(s.pending[0].frames.count)
            var total = s.pending[0].frames.count
            var count = 1
            while count < s.pending.count, total + s.pending[count].frames.count <= limit {
                total += s.pending[count].frames.count
                count += 1
            }
            if count == s.pending.count {
                defer { s.pending = [] }
                return .write(s.pending)
            }
            defer { s.pending.removeFirst(count) }
            return .write(Array(s.pending[0..<count]))
        }
    }

    /// Puts the log into the failed-write state: every later append fails with `error`.
    func fail(with error: StreamsError) {
        state.withLock { s in
            if s.failure == nil { s.failure = error }
        }
    }

    /// The error every append gets since a flush failed, if one did.
    var failure: StreamsError? { state.withLock { $0.failure } }

    /// Groups waiting for the writer (not counting a batch being written).
    var pendingCount: Int { state.withLock { $0.pending.count } }

    /// Refuses new appends and lets the writer finish what is queued, then stop. Returns false if the
    /// log was already closing.
    func beginClosing() -> Bool {
        let (first, wake) = state.withLock { s -> (Bool, Bool) in
            if s.closing { return (false, false) }
            s.closing = true
            let wake = s.writerAsleep
            s.writerAsleep = false
            return (true, wake)
        }
        if wake { wakeup.signal() }
        return first
    }
}

/// The outcome of one queued group: completed once by the writer (or at once on rejection), awaited by
/// the appender. Queueing and waiting are separate steps so a caller can take its place in the log
/// order while holding a lock, and wait after releasing it.
final class LogTicket: Sendable {
    typealias Outcome = Result<LogQueue.Placement, StreamsError>

    private struct State {
        var outcome: Outcome?
        var waiter: CheckedContinuation<Outcome, Never>?
    }

    private let state = Mutex(State())

    /// Completes the ticket; only the first completion counts.
    func resume(returning outcome: Outcome) {
        let waiter = state.withLock { s -> CheckedContinuation<Outcome, Never>? in
            guard s.outcome == nil else { return nil }
            s.outcome = outcome
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: outcome)
    }

    /// Waits for the outcome.
    func value() async -> Outcome {
        await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
            let ready = state.withLock { s -> Outcome? in
                if let outcome = s.outcome { return outcome }
                s.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
