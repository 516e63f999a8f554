import StreamCore
import Synchronization
import Transport

/// The answers of one lease stream (`lease_renewals`, `lease_ops`), sent in the order their requests came
/// although some are known at once (on the connection's loop) and others only once durable (on the log's
/// writer thread).
///
/// Each operation takes a ticket, in order, before it is decided; its outcome is settled under that
/// ticket from whichever thread learns it. One sender at a time sends the outcomes due, in ticket order:
/// whoever settles the next one due becomes the sender when nobody is, and offers what the connection
/// takes at once. An answer the connection cannot take now is sent by a task, which waits for room and
/// then goes on as the sender. A failed outcome ends the stream with its error once every answer before
/// it went. The stream ends cleanly once the client has half-closed and every answer went.
final class LeaseAnswerQueue: Sendable {
    private struct State {
        /// Tickets given; the next operation's ticket.
        var issued: UInt64 = 0
        /// Outcomes sent; the ticket due next.
        var sent: UInt64 = 0
        /// Outcomes settled but not yet due.
        var settled: [UInt64: Result<[UInt8], StreamsError>] = [:]
        var sending = false
        /// The client half-closed: no more operations come.
        var finishing = false
        var ended = false

        /// Takes the outcome due next, as its sender: an answer to send, or the error that ends the stream.
        mutating func take(_ outcome: Result<[UInt8], StreamsError>) -> Step {
            switch outcome {
            case .success(let answer):
                sent += 1
                return .send(answer)
            case .failure(let error):
                ended = true
                return .end(error)
            }
        }
    }

    /// What the sender does next.
    private enum Step {
        case send([UInt8])
        case end(StreamsError?)
        case stop
    }

    private let state = Mutex(State())
    private let stream: any BidiStream
    private let limit: Int
    private let spawn: @Sendable (@escaping @Sendable () async -> Void) -> Bool
    private let ended: @Sendable (StreamsError?) -> Void

    /// A queue for `stream`, at most `limit` answers outstanding; `spawn` starts the task that waits for
    /// room, and `ended` is called once, when the stream is done (nil: cleanly, after every answer).
    init(stream: any BidiStream, limit: Int, spawn: @escaping @Sendable (@escaping @Sendable () async -> Void) -> Bool,
         ended: @escaping @Sendable (StreamsError?) -> Void) {
        self.stream = stream
        self.limit = limit
        self.spawn = spawn
        self.ended = ended
    }

    /// The next operation's place in the order; nil once the stream is ending. Past `limit` outcomes
    /// outstanding, the ticket's outcome is already settled as `limit_exceeded`, which ends the stream
    /// after the answers before it.
    func ticket() -> UInt64? {
        let (ticket, overLimit) = state.withLock { s -> (UInt64?, Bool) in
            guard !s.ended, !s.finishing else { return (nil, false) }
            s.issued += 1
            return (s.issued - 1, s.issued - s.sent > UInt64(limit))
        }
        if let ticket, overLimit {
            settle(ticket, .failure(.limitExceeded(
                "more than \(limit) lease operations wait for their answers on one stream: read the answers")))
        }
        return overLimit ? nil : ticket
    }

    /// Settles a ticket's outcome: its answer, or the error that ends the stream in its place.
    func settle(_ ticket: UInt64, _ outcome: Result<[UInt8], StreamsError>) {
        let first = state.withLock { s -> Step in
            guard !s.ended else { return .stop }
            guard !s.sending, ticket == s.sent else {
                s.settled[ticket] = outcome
                return .stop
            }
            // Due now and nobody sends: this caller becomes the sender, with its own outcome first.
            s.sending = true
            return s.take(outcome)
        }
        send(from: first)
    }

    /// The client half-closed: the stream ends once every answer went.
    func finish() {
        let end = state.withLock { s -> Bool in
            s.finishing = true
            guard !s.ended, !s.sending, s.sent == s.issued else { return false }
            s.ended = true
            return true
        }
        if end { ended(nil) }
    }

    /// Ends the stream with `error` at once (its connection failed, or the node closes it).
    func fail(_ error: StreamsError) {
        let first = state.withLock { s -> Bool in
            guard !s.ended else { return false }
            s.ended = true
            s.settled = [:]
            return true
        }
        if first { ended(error) }
    }

    /// As the sender: carries out `step`, then offers the outcomes due after it, in order, while the
    /// connection takes them.
    private func send(from step: Step) {
        var step = step
        while true {
            switch step {
            case .stop:
                return
            case .end(let error):
                ended(error)
                return
            case .send(let answer):
                guard stream.offer(answer) else {
                    // Still the sender: the task sends this one when there is room, then goes on.
                    guard spawn({ await self.sendWaiting(answer) }) else { return fail(.shuttingDown) }
                    return
                }
            }
            step = nextStep()
        }
    }

    private func sendWaiting(_ answer: [UInt8]) async {
        do throws(StreamsError) {
            try await stream.send(answer)
        } catch {
            return fail(error)
        }
        send(from: nextStep())
    }

    private func nextStep() -> Step {
        state.withLock { s -> Step in
            guard !s.ended else {
                s.sending = false
                return .stop
            }
            if let outcome = s.settled.removeValue(forKey: s.sent) { return s.take(outcome) }
            s.sending = false
            guard s.finishing && s.sent == s.issued else { return .stop }
            s.ended = true
            return .end(nil)
        }
    }
}
