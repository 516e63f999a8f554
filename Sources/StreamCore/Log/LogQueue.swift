import CorePrimitives
import Synchronization

/// The hand-off between `append` callers and the log's writer: a bounded FIFO of groups under a
/// `Mutex`, and whether the writer is scheduled on the writer pool.
///
/// The writer is scheduled at most once at a time: `enqueue` schedules it only when it is not already
/// waiting in the pool or running, and it unschedules itself, under the same lock, only when it finds
/// nothing to do. So a log is written by one pool thread at a time and no wake-up is lost.
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
        /// The group goes at the start of a fresh file (the first group of a checkpoint).
        var startsFile = false
    }

    /// What the queue holds, in log order.
    enum Item: Sendable {
        /// Records to write.
        case group(Group)
        /// The end of a checkpoint: once every one of these groups is durable, the file the first one
        /// went into becomes the log's first file.
        case completeCheckpoint([LogTicket])
    }

    /// What the writer does next.
    enum Step {
        /// Write these groups as one batch.
        case write([Group])
        /// The log can no longer write: fail these groups with the error.
        case fail([Group], StreamsError)
        /// Make the checkpoint of these groups the log's start, if they all became durable.
        case completeCheckpoint([LogTicket])
        /// Nothing to do (or held by a test): the writer is no longer scheduled.
        case sleep
        /// Closing and nothing left: stop.
        case exit
    }

    private struct State {
        var pending: [Item] = []
        /// Groups in `pending` (checkpoint completions are not appends and do not count).
        var pendingGroups = 0
        var scheduled = false
        var closing = false
        /// Held by a test: the writer takes no step until released.
        var held = false
        /// Set once a flush failed; from then on every append fails with it.
        var failure: StreamsError?

        /// Marks the writer scheduled when it has work and is neither scheduled nor held; true when
        /// it was (the caller hands it to the pool).
        mutating func takeSchedule() -> Bool {
            guard !scheduled, !held, !pending.isEmpty || closing else { return false }
            scheduled = true
            return true
        }
    }

    private let state = Mutex(State())
    private let maxPending: Int

    init(maxPending: Int) {
        self.maxPending = maxPending
    }

    /// Queues `items` together (all or none), or returns why they cannot be (closed, failed, full).
    /// `schedule` is true when the caller must hand the writer to the pool.
    func enqueue(_ items: [Item]) -> (rejection: StreamsError?, schedule: Bool) {
        let groups = items.reduce(0) { count, item in
            if case .group = item { return count + 1 }
            return count
        }
        return state.withLock { s -> (StreamsError?, Bool) in
            if s.closing { return (.shuttingDown.with(message: "log is closed"), false) }
            if let failure = s.failure { return (failure, false) }
            if s.pendingGroups + groups > maxPending {
                return (.storage("log append queue is full: \(maxPending) appends are waiting (maxPendingAppends)"), false)
            }
            s.pending += items
            s.pendingGroups += groups
            return (nil, s.takeSchedule())
        }
    }

    /// Takes the writer's next step. `budget(first)` gives the batch's byte budget once the first
    /// group's size is known; further groups join while they fit in it, always in queue order, and a
    /// batch ends before a checkpoint's completion or a group that starts a file.
    func nextStep(budget: (Int) -> Int) -> Step {
        state.withLock { s -> Step in
            if s.held || (s.pending.isEmpty && !s.closing) {
                s.scheduled = false
                return .sleep
            }
            if s.pending.isEmpty { return .exit }
            if let failure = s.failure {
                let groups = s.pending.compactMap { item -> Group? in
                    if case .group(let group) = item { return group }
                    return nil
                }
                s.pending = []
                s.pendingGroups = 0
                return .fail(groups, failure)
            }
            guard case .group(let first) = s.pending[0] else {
                guard case .completeCheckpoint(let tickets) = s.pending.removeFirst() else {
                    preconditionFailure("LogQueue: the first item is neither a group nor a checkpoint completion")
                }
                return .completeCheckpoint(tickets)
            }
            let limit = budget(first.frames.count)
            var batch = [first]
            var total = first.frames.count
            while batch.count < s.pending.count, case .group(let next) = s.pending[batch.count], !next.startsFile,
                  total + next.frames.count <= limit {
                total += next.frames.count
                batch.append(next)
            }
            s.pending.removeFirst(batch.count)
            s.pendingGroups -= batch.count
            return .write(batch)
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
    var pendingCount: Int { state.withLock { $0.pendingGroups } }

    /// Refuses new appends and lets the writer finish what is queued, then stop. `first` is false if
    /// the log was already closing; `schedule` as for ``enqueue(_:)``.
    func beginClosing() -> (first: Bool, schedule: Bool) {
        state.withLock { s -> (Bool, Bool) in
            if s.closing { return (false, false) }
            s.closing = true
            return (true, s.takeSchedule())
        }
    }

    /// Holds the writer before its next step (tests pile appends up this way).
    func hold() {
        state.withLock { $0.held = true }
    }

    /// Lets a held writer go on; `true` when the caller must hand it to the pool.
    func release() -> Bool {
        state.withLock { s -> Bool in
            s.held = false
            return s.takeSchedule()
        }
    }
}

/// The outcome of one queued group: completed once by the writer (or at once on rejection), awaited by
/// the appender. Queueing and waiting are separate steps so a caller can take its place in the log
/// order while holding a lock, and wait after releasing it. The writer completes groups in log order.
final class LogTicket: Sendable {
    typealias Outcome = Result<LogQueue.Placement, StreamsError>

    private let result = OneShot<Outcome>()
    /// Offset of each record's frame from the group's first frame.
    private let recordOffsets: [UInt64]

    init(recordOffsets: [UInt64] = []) {
        self.recordOffsets = recordOffsets
    }

    /// Completes the ticket (once: the writer completes every group it took exactly once).
    func resume(returning outcome: Outcome) {
        result.complete(outcome)
    }

    /// The outcome if the writer has given it.
    var outcome: Outcome? { result.current }

    /// The positions of the group's records once placed.
    func positions(_ outcome: Outcome) -> Result<[LogPosition], StreamsError> {
        outcome.map { placement in
            recordOffsets.map { LogPosition(file: placement.file, offset: placement.offset + $0) }
        }
    }

    /// Waits for the outcome.
    func value() async -> Outcome {
        await result.value()
    }

    /// Calls `handler` with the outcome, on the writer's thread once it gives it (at once if it has).
    func onSettled(_ handler: @escaping @Sendable (Outcome) -> Void) {
        result.onComplete(handler)
    }
}
