import CorePrimitives
import StreamCore
import Synchronization

/// Backpressure for the frames streams send on one connection.
///
/// A sender takes credit for its frame's bytes before handing the frame to the connection's loop, and
/// the loop returns the credit once the frame is in the socket's write queue. Credit is given while
/// the socket's queue is under its high watermark (the runtime's `writabilityChanged`) and the bytes
/// in flight to the loop stay under ``MuxLimits/outboundInFlightBytes``; otherwise senders wait in
/// arrival order. So the queue never grows without bound however many streams send, and a sender
/// that waits holds only its own encoded frame.
final class MuxOutboundGate: Sendable {
    private struct Waiter {
        var id: UInt64
        var bytes: Int
        var continuation: CheckedContinuation<Result<Void, StreamsError>, Never>
    }

    private struct State {
        var writable = true
        var inFlight = 0
        var waiters = RingBuffer<Waiter>()
        var failure: StreamsError?
        var nextID: UInt64 = 0

        /// A frame of `bytes` may go now. One frame may always go when nothing is in flight, so a frame
        /// larger than the limit is not stuck forever.
        func admits(_ bytes: Int, limit: Int) -> Bool {
            writable && (inFlight == 0 || inFlight + bytes <= limit)
        }
    }

    private let state = Mutex(State())
    private let limit: Int

    init(limit: Int) {
        precondition(limit > 0, "the outbound in-flight limit must be positive")
        self.limit = limit
    }

    /// Takes credit for `bytes` when it is there now and nobody waits ahead; false otherwise (also once
    /// the connection is closed).
    func tryAcquire(_ bytes: Int) -> Bool {
        let limit = self.limit
        return state.withLock { s in
            guard s.failure == nil, s.waiters.isEmpty, s.admits(bytes, limit: limit) else { return false }
            s.inFlight += bytes
            return true
        }
    }

    /// Waits for credit for `bytes`; fails with the connection's error once it is closed, or with
    /// `cancelled` when the waiting task is cancelled.
    func acquire(_ bytes: Int) async throws(StreamsError) {
        let limit = self.limit
        // Credit is usually there: take it without suspending.
        let ready = state.withLock { s -> Result<Void, StreamsError>? in
            if let failure = s.failure { return .failure(failure) }
            guard s.waiters.isEmpty && s.admits(bytes, limit: limit) else { return nil }
            s.inFlight += bytes
            return .success(())
        }
        if let ready { return try ready.get() }
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, StreamsError>, Never>) in
                let outcome: Result<Void, StreamsError>? = state.withLock { s in
                    if let failure = s.failure { return .failure(failure) }
                    if Task.isCancelled { return .failure(.cancelled) }
                    if s.waiters.isEmpty && s.admits(bytes, limit: limit) {
                        s.inFlight += bytes
                        return .success(())
                    }
                    s.waiters.append(Waiter(id: id, bytes: bytes, continuation: continuation))
                    return nil
                }
                if let outcome { continuation.resume(returning: outcome) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> Waiter? in
                var found: Waiter?
                s.waiters.removeAll { waiter in
                    guard waiter.id == id else { return false }
                    found = waiter
                    return true
                }
                return found
            }
            waiter?.continuation.resume(returning: .failure(.cancelled))
            // A waiter that left may have been the one holding the others back.
            self.admitWaiting()
        }
        try result.get()
    }

    /// Senders waiting for credit now (lets a test see backpressure hold a sender rather than guess
    /// from its progress).
    var waitingSenders: Int { state.withLock { $0.waiters.count } }

    /// Returns credit for `bytes` that reached the socket's queue (or were dropped).
    func release(_ bytes: Int) {
        state.withLock { $0.inFlight = max(0, $0.inFlight - bytes) }
        admitWaiting()
    }

    /// The socket's queue passed its high watermark (false) or drained below its low one (true).
    func setWritable(_ writable: Bool) {
        state.withLock { $0.writable = writable }
        if writable { admitWaiting() }
    }

    /// The connection is gone: every waiting and later sender fails with `error`. The first call wins.
    func fail(_ error: StreamsError) {
        let waiting = state.withLock { s -> [Waiter] in
            guard s.failure == nil else { return [] }
            s.failure = error
            var all: [Waiter] = []
            while let waiter = s.waiters.popFirst() { all.append(waiter) }
            return all
        }
        for waiter in waiting { waiter.continuation.resume(returning: .failure(error)) }
    }

    private func admitWaiting() {
        let limit = self.limit
        let admitted = state.withLock { s -> [Waiter] in
            var admitted: [Waiter] = []
            while let first = s.waiters.first, s.admits(first.bytes, limit: limit) {
                _ = s.waiters.popFirst()
                s.inFlight += first.bytes
                admitted.append(first)
            }
            return admitted
        }
        for waiter in admitted { waiter.continuation.resume(returning: .success(())) }
    }
}
