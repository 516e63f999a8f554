import CorePrimitives
import StreamCore
import Synchronization
import Transport

extension CoordClient {
    /// Opens a `lease_renewals` stream (a coordd extension): renewals of any leases of this store, many
    /// in flight at once on one stream. A streamkit server refuses it (`invalid_request`).
    public func leaseRenewals() async throws(StreamsError) -> LeaseRenewalStream {
        LeaseRenewalStream(try await open(LeaseRenewals()))
    }
}

/// Renewals over one `lease_renewals` stream: each ``renew(key:holder:ttl:)`` sends one message and gets
/// its answer, in order, with no stream opened per renewal and as many in flight as callers want;
/// ``renew(keys:holder:ttl:)`` sends a batch at once (a service renewing all its leases). It is cheaper for
/// client and server than ``CoordClient/renew(key:holder:ttl:)`` for a client that renews often or holds
/// many leases.
///
/// Once the stream fails (the connection is lost, the server goes away), every renewal waiting and every
/// later one throws that error: open a new stream. A renewal whose task is cancelled throws `cancelled` at
/// once; if it was sent already, the server still renews, and its answer is dropped when it comes.
public final class LeaseRenewalStream: Sendable {
    private struct State {
        /// One entry per renewal sent, in the order they went: the server answers in that order.
        var waiters = RingBuffer<RenewalWaiter>()
        /// Renewals waiting for the sender, while the connection had no room for them at once.
        var outbox = RingBuffer<(message: [UInt8], waiter: RenewalWaiter)>()
        /// A caller is sending the outbox.
        var sending = false
        var failure: StreamsError?
        var closed = false
        /// The server answered a renewal on this stream.
        var answered = false
    }

    private let stream: any BidiStream
    private let state = Mutex(State())
    /// Opened once the stream has ended and every renewal waiting was answered or failed.
    private let ended = Latch()

    init(_ stream: any BidiStream) {
        self.stream = stream
        // On a network stream the answers are taken on the connection's loop as they arrive, so no task
        // stands between the connection and the callers; in process, a task reads them.
        if let loop = stream.eventLoop,
           loop.execute({ [self] in if !stream.receiveDirectly({ self.take($0) }) { startReader() } }) {
            return
        }
        startReader()
    }

    /// Renews `holder`'s live lease on `key` for another `ttl`, as ``CoordClient/renew(key:holder:ttl:)``
    /// does: a refusal is returned, an invalid request throws `invalid_request`.
    public func renew(key: String, holder: String, ttl: Duration) async throws(StreamsError) -> LeaseResult {
        try await renew(keys: [key], holder: holder, ttl: ttl)[0]
    }

    /// Renews `holder`'s leases on `keys`, each for another `ttl`, sent together without waiting between
    /// them; the results in the order of `keys`. Any one invalid request throws `invalid_request`.
    public func renew(keys: [String], holder: String, ttl: Duration) async throws(StreamsError) -> [LeaseResult] {
        guard !keys.isEmpty else { return [] }
        let messages = keys.map { LeaseRenew(terms: CoordClient.terms($0, holder, ttl)).encoded() }
        let waiter = RenewalWaiter(count: messages.count)
        let results = await withTaskCancellationHandler {
            // A renewal cancelled before it went is not sent; one cancelled after has its answer dropped.
            if waiter.outcome.current == nil { submit(messages, waiter) }
            return await waiter.outcome.value()
        } onCancel: {
            waiter.fail(.cancelled)
        }
        return try results.get().map { result throws(StreamsError) in try CoordClient.valid(result) }
    }

    /// The error the stream ended with; nil while it serves renewals.
    var failure: StreamsError? { state.withLock { $0.failure } }

    /// True once the server answered a renewal on this stream.
    var hasAnswered: Bool { state.withLock { $0.answered } }

    /// Half-closes the stream: the server answers what was sent, then ends it. Returns once it has.
    public func close() async {
        state.withLock { $0.closed = true }
        stream.closeSend(error: nil)
        await ended.wait()
    }

    /// Sends at once what the connection takes now when nothing is queued (the common case), as one batch;
    /// queues the rest, and the caller that finds no sender running sends the queue in order.
    private func submit(_ messages: [[UInt8]], _ waiter: RenewalWaiter) {
        let step = state.withLock { s -> Result<Bool, StreamsError> in
            if let failure = s.failure { return .failure(failure) }
            if s.closed { return .failure(.streamClosed("the lease renewals stream was closed")) }
            // Under the lock, so the order of the waiters is the order the renewals went in.
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

    /// Sends the queued renewals in order, waiting for room, until the queue is empty.
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
                finish(.streamClosed("the server ended the lease renewals stream"))
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
                    finish(.streamClosed("the server ended the lease renewals stream"))
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

    /// Hands `answer` to the oldest renewal waiting.
    private func answered(_ answer: [UInt8]) throws(StreamsError) {
        let result = try LeaseResult(decoding: answer)
        let waiter = state.withLock { s -> RenewalWaiter? in
            s.answered = true
            return s.waiters.popFirst()
        }
        guard let waiter else { throw .malformed("an answer to no renewal on the lease renewals stream") }
        waiter.add(result)
    }

    /// Fails what is still waiting with `error`, closes the stream and lets ``close()`` return.
    private func finish(_ error: StreamsError) {
        fail(error)
        stream.close(error: nil)
        ended.open()
    }

    /// Fails every renewal waiting or queued, and every later one, with `error` (the first failure wins).
    private func fail(_ error: StreamsError) {
        let (waiters, failure) = state.withLock { s -> ([RenewalWaiter], StreamsError) in
            if s.failure == nil { s.failure = error }
            var waiters: [RenewalWaiter] = []
            while let waiter = s.waiters.popFirst() { waiters.append(waiter) }
            while let queued = s.outbox.popFirst() { waiters.append(queued.waiter) }
            return (waiters, s.failure!)
        }
        for waiter in waiters { waiter.fail(failure) }
    }
}

/// The caller of one ``LeaseRenewalStream/renew(keys:holder:ttl:)``: resumed once, with every answer, the
/// stream's failure, or its cancellation, whichever comes first.
private final class RenewalWaiter: Sendable {
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
