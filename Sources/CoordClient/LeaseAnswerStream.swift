import CorePrimitives
import StreamCore
import Synchronization
import Transport

/// The client's side of a stream of lease requests answered in order (`lease_renewals`, `lease_ops`):
/// each ``submit(_:)`` sends its messages and gets their answers, with no stream opened per request and as
/// many in flight as callers want. ``LeaseRenewalStream`` and ``LeaseOperationStream`` are its faces.
///
/// Once the stream fails (the connection is lost, the server goes away), every request waiting and every
/// later one throws that error. A request whose task is cancelled throws `cancelled` at once; if it was
/// sent already, the server still carries it out, and its answer is dropped when it comes.
final class LeaseAnswerStream: Sendable {
    private struct State {
        /// One entry per message sent, in the order they went: the server answers in that order.
        var waiters = RingBuffer<AnswerWaiter>()
        /// Messages waiting for the sender, while the connection had no room for them at once.
        var outbox = RingBuffer<(message: [UInt8], waiter: AnswerWaiter)>()
        /// A caller is sending the outbox.
        var sending = false
        var failure: StreamsError?
        var closed = false
        /// The server answered a request on this stream.
        var answered = false
    }

    private let stream: any BidiStream
    /// The stream's name in error texts ("the lease renewals stream").
    private let name: String
    private let state = Mutex(State())
    /// Opened once the stream has ended and every request waiting was answered or failed.
    private let ended = Latch()

    /// The loop the answers arrive on; nil in process.
    var eventLoop: EventLoop? { stream.eventLoop }

    init(_ stream: any BidiStream, name: String) {
        self.stream = stream
        self.name = name
        // On a network stream the answers are taken on the connection's loop as they arrive, so no task
        // stands between the connection and the callers; in process, a task reads them.
        if let loop = stream.eventLoop,
           loop.execute({ [self] in if !stream.receiveDirectly({ self.take($0) }) { startReader() } }) {
            return
        }
        startReader()
    }

    /// Sends `messages` together, without waiting between them, and returns their answers in order. A
    /// validation failure among them throws `invalid_request`, as a request on a stream of its own does.
    func submit(_ messages: [[UInt8]]) async throws(StreamsError) -> [LeaseResult] {
        guard !messages.isEmpty else { return [] }
        let waiter = AnswerWaiter(count: messages.count)
        let results = await withTaskCancellationHandler {
            // A request cancelled before it went is not sent; one cancelled after has its answer dropped.
            if waiter.outcome.current == nil { submit(messages, waiter) }
            return await waiter.outcome.value()
        } onCancel: {
            waiter.fail(.cancelled)
        }
        return try results.get().map { result throws(StreamsError) in try CoordClient.valid(result) }
    }

    /// The error the stream ended with; nil while it serves requests.
    var failure: StreamsError? { state.withLock { $0.failure } }

    /// True once the server answered a request on this stream.
    var hasAnswered: Bool { state.withLock { $0.answered } }

    /// Half-closes the stream: the server answers what was sent, then ends it. Returns once it has.
    func close() async {
        state.withLock { $0.closed = true }
        stream.closeSend(error: nil)
        await ended.wait()
    }

    /// Sends at once what the connection takes now when nothing is queued (the common case), as one batch;
    /// queues the rest, and the caller that finds no sender running sends the queue in order.
    private func submit(_ messages: [[UInt8]], _ waiter: AnswerWaiter) {
        let step = state.withLock { s -> Result<Bool, StreamsError> in
            if let failure = s.failure { return .failure(failure) }
            if s.closed { return .failure(.streamClosed("\(name) was closed")) }
            // Under the lock, so the order of the waiters is the order the messages went in.
            let sent = !s.sending && s.outbox.isEmpty ? stream.offer(contentsOf: messages) : 0
            for _ in 0..<sent { s.waiters.append(waiter) }
            for message in messages[sent...] { s.outbox.append((message, waiter)) }
            guard !s.outbox.isEmpty && !s.sending else { return .success(false) }
            s.sending = true
            return .success(true)
        }
        switch step {
        case .failure(let error): waiter.fail(error)
        case .success(true): Task { await sendOutbox() }
        case .success(false): break
        }
    }

    /// Sends the queued messages in order, waiting for room, until the queue is empty.
    private func sendOutbox() async {
        while true {
            let next = state.withLock { s -> [UInt8]? in
                guard let (message, waiter) = s.outbox.popFirst() else {
                    s.sending = false
                    return nil
                }
                s.waiters.append(waiter)
                return message
            }
            guard let next else { return }
            do throws(StreamsError) {
                try await stream.send(next)
            } catch {
                fail(error)
                return
            }
        }
    }

    /// Reads the answers in a task, for a stream that cannot hand them over on its loop.
    private func startReader() {
        Task {
            do throws(StreamsError) {
                while let answer = try await stream.receive() { try answered(answer) }
                finish(.streamClosed("the server ended \(name)"))
            } catch {
                finish(error)
            }
        }
    }

    /// Takes one answer on the connection's loop; nil when nothing more will arrive. False once the
    /// stream is done with.
    private func take(_ answer: [UInt8]?) -> Bool {
        guard let answer else {
            // How the stream ended is what its reader sees now: nothing is left to read before it.
            Task {
                do throws(StreamsError) {
                    _ = try await stream.receive()
                    finish(.streamClosed("the server ended \(name)"))
                } catch {
                    finish(error)
                }
            }
            return false
        }
        do throws(StreamsError) {
            try answered(answer)
            return true
        } catch {
            finish(error)
            return false
        }
    }

    /// Hands `answer` to the oldest request waiting.
    private func answered(_ answer: [UInt8]) throws(StreamsError) {
        let result = try LeaseResult(decoding: answer)
        let waiter = state.withLock { s -> AnswerWaiter? in
            s.answered = true
            return s.waiters.popFirst()
        }
        guard let waiter else { throw .malformed("an answer to no request on \(name)") }
        waiter.add(result)
    }

    /// Fails what is still waiting with `error`, closes the stream and lets ``close()`` return.
    private func finish(_ error: StreamsError) {
        fail(error)
        stream.close(error: nil)
        ended.open()
    }

    /// Fails every request waiting or queued, and every later one, with `error` (the first failure wins).
    private func fail(_ error: StreamsError) {
        let (waiters, failure) = state.withLock { s -> ([AnswerWaiter], StreamsError) in
            if s.failure == nil { s.failure = error }
            var waiters: [AnswerWaiter] = []
            while let waiter = s.waiters.popFirst() { waiters.append(waiter) }
            while let queued = s.outbox.popFirst() { waiters.append(queued.waiter) }
            return (waiters, s.failure!)
        }
        for waiter in waiters { waiter.fail(failure) }
    }
}

/// The caller of one ``LeaseAnswerStream/submit(_:)``: resumed once, with every answer, the stream's
/// failure, or its cancellation, whichever comes first.
private final class AnswerWaiter: Sendable {
    private let count: Int
    private let results = Mutex<[LeaseResult]>([])
    /// Every answer, or why there will not be.
    let outcome = OneShot<Result<[LeaseResult], StreamsError>>()

    init(count: Int) {
        self.count = count
    }

    /// The next answer; the last one resumes the caller (if nothing else did).
    func add(_ result: LeaseResult) {
        let all = results.withLock { results -> [LeaseResult]? in
            results.append(result)
            return results.count == count ? results : nil
        }
        if let all { outcome.completeFirst(.success(all)) }
    }

    /// Resumes the caller with `error`, unless it was resumed already.
    func fail(_ error: StreamsError) {
        outcome.completeFirst(.failure(error))
    }
}
