import StreamCore
import Synchronization

/// The one result of work done on an event loop (a dial, a probe), handed to the task awaiting it.
/// The first ``complete(_:)`` wins; later ones are ignored, so a failure after success cannot undo it.
final class LoopOutcome<Value: Sendable>: Sendable {
    private struct State {
        var result: Result<Value, StreamsError>?
        var waiter: CheckedContinuation<Result<Value, StreamsError>, Never>?
    }

    private let state = Mutex(State())

    /// Records the result and wakes the waiter, if this is the first.
    func complete(_ result: Result<Value, StreamsError>) {
        let waiter = state.withLock { s -> CheckedContinuation<Result<Value, StreamsError>, Never>? in
            guard s.result == nil else { return nil }
            s.result = result
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: result)
    }

    /// The result, once there is one.
    func value() async throws(StreamsError) -> Value {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, StreamsError>, Never>) in
            let ready = state.withLock { s -> Result<Value, StreamsError>? in
                if let result = s.result { return result }
                s.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
        return try result.get()
    }
}
