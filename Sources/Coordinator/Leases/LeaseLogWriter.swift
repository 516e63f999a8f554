import LeaseEngine
import StreamCore
import Synchronization

/// Appends lease events to the store's lease log in the order the engine produced them, with one append
/// in flight: the events of requests that arrive while an append waits for its fsync go together in the
/// next append (group commit at the shell).
///
/// The store lets one chunk per segment be in flight, and every lease event goes to the one lease
/// segment; appending each event on its own would make every acquire and release wait for an fsync of
/// its own, behind all the others.
final class LeaseLogWriter: Sendable {
    private struct State {
        /// Events of the batch not yet handed to the store.
        var pending: [LeaseEvent] = []
        /// The number `pending` will be appended as.
        var pendingBatch: UInt64 = 1
        /// Enqueues into `pending`: each is followed by one ``waitDurable(_:)`` for its batch.
        var pendingWaiters = 0
        /// Every batch up to this one has been appended (durably, or failed).
        var finishedThrough: UInt64 = 0
        /// Batches whose append failed: the error each waiter of theirs throws, and how many have not
        /// read it yet (the entry goes with the last, so a store that keeps failing grows nothing).
        var failures: [UInt64: (error: StreamsError, unread: Int)] = [:]
        var writing = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private enum Step {
        case finished(StreamsError?)
        case write(batch: UInt64, events: [LeaseEvent], waiters: Int)
        case wait
    }

    private let state = Mutex(State())
    private let append: @Sendable ([LeaseEvent]) async throws(StreamsError) -> Void

    /// Creates a writer that makes a batch durable with `append`.
    init(append: @escaping @Sendable ([LeaseEvent]) async throws(StreamsError) -> Void) {
        self.append = append
    }

    /// Adds `events` to the next batch and returns its number for ``waitDurable(_:)``. Called under the
    /// engine's lock, so the log holds events in the engine's order.
    func enqueue(_ events: [LeaseEvent]) -> UInt64 {
        precondition(!events.isEmpty, "LeaseLogWriter.enqueue: no events")
        return state.withLock { s in
            s.pending += events
            s.pendingWaiters += 1
            return s.pendingBatch
        }
    }

    /// Returns once batch `batch` is durable; throws the store's error when its append failed. The first
    /// waiter to find no append in flight appends the pending batch for everyone in it.
    func waitDurable(_ batch: UInt64) async throws(StreamsError) {
        while true {
            let step = state.withLock { s -> Step in
                if s.finishedThrough >= batch { return .finished(Self.takeFailure(of: batch, from: &s)) }
                guard !s.writing else { return .wait }
                s.writing = true
                defer {
                    s.pending = []
                    s.pendingBatch += 1
                    s.pendingWaiters = 0
                }
                return .write(batch: s.pendingBatch, events: s.pending, waiters: s.pendingWaiters)
            }
            switch step {
            case .finished(let failure):
                if let failure { throw failure }
                return
            case .write(let written, let events, let waiters):
                var failure: StreamsError?
                do {
                    try await append(events)
                } catch {
                    failure = error
                }
                let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
                    s.finishedThrough = written
                    if let failure { s.failures[written] = (failure, waiters) }
                    s.writing = false
                    defer { s.waiters = [] }
                    return s.waiters
                }
                for waiter in waiters { waiter.resume() }
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ready = state.withLock { s -> Bool in
                        // The append may have finished between the check above and here.
                        if s.finishedThrough >= batch || !s.writing { return true }
                        s.waiters.append(continuation)
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
        }
    }

    /// Batches whose failure some waiter has not read yet (for tests).
    var unreadFailures: Int { state.withLock { $0.failures.count } }

    /// The error of `batch` if its append failed, counting this waiter as having read it.
    private static func takeFailure(of batch: UInt64, from s: inout State) -> StreamsError? {
        guard var entry = s.failures[batch] else { return nil }
        entry.unread -= 1
        s.failures[batch] = entry.unread > 0 ? entry : nil
        return entry.error
    }
}
