import StreamCore
import Synchronization

/// One direction of a stream: a bounded FIFO of messages between one writer side and one reader side.
///
/// The writer suspends while the buffer is full (backpressure, never unbounded memory); the reader
/// suspends while it is empty. The writer ends the direction with ``finish(_:)`` (a clean end or an
/// error the reader sees after draining); the reader abandons it with ``abandon(_:)`` (buffered
/// messages are dropped and writers fail).
final class MessageChannel: Sendable {
    private struct Waiter {
        var id: UInt64
        var message: [UInt8]
        var continuation: CheckedContinuation<Result<Void, StreamsError>, Never>
    }

    private struct State {
        var buffer = RingBuffer<[UInt8]>()
        var receiver = ParkedContinuation<Result<[UInt8]?, StreamsError>>()
        var senders = RingBuffer<Waiter>()
        /// Set by the writer: nil error = clean end.
        var finished: StreamsError??
        /// Set by the reader: why writes now fail.
        var abandoned: StreamsError?
        var nextID: UInt64 = 0
        /// Messages the writer handed over, buffered or parked with it: see ``arrivals``.
        var arrivals: UInt64 = 0
    }

    private let state = Mutex(State())
    /// How many messages may wait in the buffer.
    let capacity: Int

    init(capacity: Int) {
        precondition(capacity > 0, "a channel needs room for at least one message")
        self.capacity = capacity
    }

    func send(_ message: [UInt8]) async throws(StreamsError) {
        let id = state.withLock { s -> UInt64 in s.nextID += 1; return s.nextID }
        let result = await suspendCancellably(park: { continuation in
            state.withLock { s -> Result<Void, StreamsError>? in
                if let abandoned = s.abandoned { return .failure(abandoned) }
                if s.finished != nil { return .failure(.streamClosed("send after the stream was closed")) }
                if Task.isCancelled { return .failure(.cancelled) }
                s.arrivals &+= 1
                if let receiver = s.receiver.take() {
                    receiver.resume(returning: .success(message))
                    return .success(())
                }
                if s.buffer.count < capacity && s.senders.isEmpty {
                    s.buffer.append(message)
                    return .success(())
                }
                s.senders.append(Waiter(id: id, message: message, continuation: continuation))
                return nil
            }
        }, unpark: { [self] in
            state.withLock { s in
                var found: Waiter?
                s.senders.removeAll { w in
                    if w.id == id { found = w; return true }
                    return false
                }
                return found?.continuation
            }
        }, cancelled: .failure(.cancelled))
        try result.get()
    }

    /// Queues `message` (or hands it to a waiting receiver) when that needs no wait; false otherwise.
    func offer(_ message: [UInt8]) -> Bool {
        let outcome = state.withLock { s -> (accepted: Bool, receiver: CheckedContinuation<Result<[UInt8]?, StreamsError>, Never>?) in
            guard s.abandoned == nil, s.finished == nil else { return (false, nil) }
            if let receiver = s.receiver.take() {
                s.arrivals &+= 1
                return (true, receiver)
            }
            guard s.buffer.count < capacity && s.senders.isEmpty else { return (false, nil) }
            s.arrivals &+= 1
            s.buffer.append(message)
            return (true, nil)
        }
        outcome.receiver?.resume(returning: .success(message))
        return outcome.accepted
    }

    func receive() async throws(StreamsError) -> [UInt8]? {
        let id = state.withLock { s -> UInt64 in s.nextID += 1; return s.nextID }
        let result = await suspendCancellably(park: { continuation in
            state.withLock { s -> Result<[UInt8]?, StreamsError>? in
                if let abandoned = s.abandoned { return .failure(abandoned) }
                // A cancelled reader stops even when messages are waiting, as over the network: a
                // sender that keeps the buffer full would otherwise keep it reading forever.
                if Task.isCancelled { return .failure(.cancelled) }
                if let message = s.buffer.popFirst() {
                    // Room freed: move the first waiting sender's message in and let it go on.
                    if let waiter = s.senders.popFirst() {
                        s.buffer.append(waiter.message)
                        waiter.continuation.resume(returning: .success(()))
                    }
                    return .success(message)
                }
                if let waiter = s.senders.popFirst() {
                    waiter.continuation.resume(returning: .success(()))
                    return .success(waiter.message)
                }
                if let finished = s.finished {
                    if let error = finished { return .failure(error) }
                    return .success(nil)
                }
                s.receiver.park(continuation, id: id)
                return nil
            }
        }, unpark: { [self] in
            state.withLock { $0.receiver.take(id: id) }
        }, cancelled: .failure(.cancelled))
        return try result.get()
    }

    /// How many messages the writer has sent into the channel (a sender waiting for room counts: it is
    /// alive, the reader is slow).
    var arrivals: UInt64 { state.withLock { $0.arrivals } }

    /// The writer is done: the reader drains the buffer, then sees nil (clean) or `error`.
    /// The first call wins; later ones change nothing.
    func finish(_ error: StreamsError?) {
        let receiver = state.withLock { s -> CheckedContinuation<Result<[UInt8]?, StreamsError>, Never>? in
            guard s.finished == nil, s.abandoned == nil else { return nil }
            s.finished = .some(error)
            guard s.buffer.isEmpty, s.senders.isEmpty else { return nil }
            return s.receiver.take()
        }
        receiver?.resume(returning: error.map { .failure($0) } ?? .success(nil))
    }

    /// The reader is gone: drop what is buffered, fail waiting and later writers and any pending receive.
    func abandon(_ error: StreamsError) {
        let (senders, receiver) = state.withLock { s in
            guard s.abandoned == nil else {
                return ([Waiter](), CheckedContinuation<Result<[UInt8]?, StreamsError>, Never>?.none)
            }
            s.abandoned = error
            s.buffer.removeAll()
            var waiting: [Waiter] = []
            while let w = s.senders.popFirst() { waiting.append(w) }
            return (waiting, s.receiver.take())
        }
        for waiter in senders { waiter.continuation.resume(returning: .failure(error)) }
        receiver?.resume(returning: .failure(error))
    }

    /// Messages waiting in the buffer (for tests and metrics).
    var bufferedCount: Int { state.withLock { $0.buffer.count + $0.senders.count } }
}
