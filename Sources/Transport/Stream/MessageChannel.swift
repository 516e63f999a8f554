import CorePrimitives
import StreamCore
import Synchronization

/// One end of an in-process stream as its reader sees it: a bounded FIFO of the messages the peer sent,
/// and the end's ``StreamEndState``.
///
/// The peer's sends suspend while the buffer is full (backpressure, never unbounded memory); the
/// reader suspends while it is empty. How the end ends is the state machine's call, exactly as for a
/// mux stream; this class only carries out its effects.
final class MessageChannel: Sendable {
    private struct Waiter {
        var id: UInt64
        var message: [UInt8]
        var continuation: CheckedContinuation<Result<Void, StreamsError>, Never>
    }

    private typealias Receiver = CheckedContinuation<Result<[UInt8]?, StreamsError>, Never>

    private struct State {
        var end = StreamEndState()
        var buffer = RingBuffer<[UInt8]>()
        var receiver = ParkedContinuation<Result<[UInt8]?, StreamsError>>()
        /// The peer's sends waiting for room, oldest first.
        var senders = RingBuffer<Waiter>()
        var nextID: UInt64 = 0
        /// Messages the writer handed over, buffered or parked with it: see ``arrivals``.
        var arrivals: UInt64 = 0

        var bufferEmpty: Bool { buffer.isEmpty && senders.isEmpty }
    }

    private let state = Mutex(State())
    /// Opened when this end has ended.
    let closed = Latch()
    /// How many messages may wait in the buffer (``InProcessLimits/bufferedMessages``).
    let capacity: Int

    init(capacity: Int) {
        precondition(capacity > 0, "a channel needs room for at least one message")
        self.capacity = capacity
    }

    // MARK: The peer's side

    /// Hands `message` to this end's reader, waiting while the buffer is full.
    func deliver(_ message: [UInt8]) async throws(StreamsError) {
        let id = state.withLock { s -> UInt64 in s.nextID += 1; return s.nextID }
        let result = await suspendCancellably(park: { continuation in
            state.withLock { s -> Result<Void, StreamsError>? in
                if let refusal = s.end.deliveryRefusal { return .failure(refusal) }
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

    /// Queues `message` (or hands it to a waiting receive) when that needs no wait; false otherwise.
    func offer(_ message: [UInt8]) -> Bool {
        let outcome = state.withLock { s -> (accepted: Bool, receiver: Receiver?) in
            guard s.end.acceptsMessages else { return (false, nil) }
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

    /// The peer ended its side (see ``StreamEndState/peerEnded(_:gaveUp:bufferEmpty:)``).
    func peerEnded(_ error: StreamsError?, gaveUp: Bool) {
        apply { s in s.end.peerEnded(error, gaveUp: gaveUp, bufferEmpty: s.bufferEmpty) }
    }

    // MARK: This end's side

    /// Why this end's sends fail, nil while it may send.
    var sendFailure: StreamsError? { state.withLock { $0.end.sendFailure } }

    /// The next message, or the end once the buffer is drained.
    func receive() async throws(StreamsError) -> [UInt8]? {
        let id = state.withLock { s -> UInt64 in s.nextID += 1; return s.nextID }
        let result = await suspendCancellably(park: { continuation in
            state.withLock { s -> Result<[UInt8]?, StreamsError>? in
                if let error = s.end.tornError { return .failure(error) }
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
                if let end = s.end.endOfMessages { return end }
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

    /// This end half-closes; returns what the peer must be told (nil: nothing, it was told already).
    func closeSend(_ error: StreamsError?) -> StreamsError?? {
        apply { s in s.end.closeSend(error) }.announce
    }

    /// This end tears down; returns the transition's effects (for what the peer must be told).
    @discardableResult
    func close(_ error: StreamsError?) -> StreamEndState.Effects {
        apply { s in s.end.close(error) }
    }

    /// True while this end's reader is parked waiting for a message (lets a test act on a receive that
    /// is provably waiting rather than one that may not have started).
    var hasParkedReceiver: Bool { state.withLock { $0.receiver.isParked } }

    /// The peer's sends waiting for room in the full buffer.
    var waitingSenders: Int { state.withLock { $0.senders.count } }

    /// Messages waiting in the buffer (for tests and metrics).
    var bufferedCount: Int { state.withLock { $0.buffer.count + $0.senders.count } }

    /// Runs one transition under the lock and carries out its local effects after it.
    @discardableResult
    private func apply(_ transition: (inout State) -> StreamEndState.Effects) -> StreamEndState.Effects {
        let (effects, receiver, dropped) = state.withLock { s -> (StreamEndState.Effects, Receiver?, [Waiter]) in
            let effects = transition(&s)
            var dropped: [Waiter] = []
            if effects.dropBuffered {
                s.buffer.removeAll()
                while let waiter = s.senders.popFirst() { dropped.append(waiter) }
            }
            return (effects, effects.endReceiver == nil ? nil : s.receiver.take(), dropped)
        }
        for waiter in dropped { waiter.continuation.resume(returning: .failure(StreamEndState.closedLocally)) }
        if let end = effects.endReceiver { receiver?.resume(returning: end.map { .failure($0) } ?? .success(nil)) }
        if effects.closedNow { closed.open() }
        return effects
    }
}
