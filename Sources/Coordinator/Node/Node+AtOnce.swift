import StreamCore
import Transport

extension Node {
    /// What a request comes to when it is decided on the thread that read it.
    enum AtOnce {
        /// The stream's one answer, known now.
        case answer([UInt8])
        /// A lease write whose event is appended and must be durable before `answer` is sent.
        case afterCommit(Result<LogCommit, StreamsError>, operation: String, answer: @Sendable () -> [UInt8])
    }

    /// Where a stream served at once runs what must wait, and whom it tells when it is done with.
    struct AtOnceContext: Sendable {
        /// Starts a task the node's owner keeps track of; false when it is closing and starts none.
        let spawn: @Sendable (@escaping @Sendable () async -> Void) -> Bool
        /// Called once, when the node has finished with the stream.
        let ended: @Sendable () -> Void

        /// Runs `body` in a task, then ``ended``; when no task can start, ends `stream` as shutting down.
        func run(_ body: @escaping @Sendable () async -> Void, ending stream: any BidiStream) {
            guard !spawn({ await body(); ended() }) else { return }
            stream.close(error: .shuttingDown)
            ended()
        }
    }

    /// Serves a stream whose request the connection has just read, on the connection's own thread,
    /// so that a request needing no wait costs no task and no hand-over between threads: a lease
    /// renewal, a refused acquire or release, the renewals of a `lease_renewals` stream and the
    /// operations of a `lease_ops` stream. A lease write
    /// that must become durable first is decided here and answered by a task once its group commit is
    /// done; every other request is served by a task as ``handle(_:)`` serves it.
    ///
    /// Calls `context.ended` once the node has finished with the stream. Must not block: it takes the
    /// lease engine's lock and appends to the lease log's queue, nothing more.
    func serveAtOnce(_ bytes: [UInt8], on stream: any BidiStream, _ context: AtOnceContext) {
        let started = ContinuousClock.now
        let request: any EnvelopedMessage
        do throws(StreamsError) {
            request = try Envelope.decode(bytes)
        } catch {
            Self.refuseRequest(error, on: stream, metrics: configuration.metrics)
            return context.ended()
        }
        guard !closing.load(ordering: .acquiring) else {
            stream.close(error: closingError)
            return context.ended()
        }
        if let decide = leaseStreamMessages(of: request) { return serveLeaseStream(request, on: stream, decide: decide, context) }
        if let r = request as? SubscribeWorkers, r.presenceOnly { return servePresence(r, on: stream, context) }
        let writes = Self.mayWrite(request)
        // Counted before the engine decides, so a hand-off that starts now waits for the write.
        if writes { beginWrite() }
        switch decideAtOnce(request) {
        case nil:
            let operation = serving(request, createdStore: false)
            context.run({ await self.serveTracked(request, on: stream, started: started, by: operation, endingWrite: writes) },
                        ending: stream)
        case .afterCommit(let commit, let leaseOperation, let answer):
            // Answered by whoever learns of the commit (the log's writer thread), with no task waiting for it.
            leases.whenDurable(commit, operation: leaseOperation) { [self] error in
                if let error {
                    settle(request, on: stream, with: error, started: started, context)
                } else {
                    reply(answer(), to: request, on: stream, started: started, context)
                }
                if writes { endWrite() }
            }
        case .answer(let answer):
            if writes { endWrite() }
            reply(answer, to: request, on: stream, started: started, context)
        }
    }

    /// Serves a lease stream (`lease_renewals`, `lease_ops`) that reached a task, because its store had to
    /// be opened first, on its connection's loop from now on, as ``serveAtOnce(_:on:_:)`` serves one that
    /// came to an open store: otherwise every operation on it for the rest of its life would cost that
    /// task a wake-up or two. Returns once the stream is done with; false, doing nothing, for any other
    /// request or a stream with no loop.
    func serveOnLoop(_ request: any EnvelopedMessage, on stream: any BidiStream,
                     spawn: @escaping @Sendable (@escaping @Sendable () async -> Void) -> Bool) async -> Bool {
        guard let decide = leaseStreamMessages(of: request), let loop = stream.eventLoop else { return false }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let context = AtOnceContext(spawn: spawn, ended: { done.resume() })
            guard loop.execute({ self.serveLeaseStream(request, on: stream, decide: decide, context) }) else {
                stream.close(error: .shuttingDown)
                return done.resume()
            }
        }
        return true
    }

    /// The outcome of the requests that can be decided without waiting (lease requests, except on the keys
    /// that partition assignment owns); nil for the others.
    private func decideAtOnce(_ request: any EnvelopedMessage) -> AtOnce? {
        let operation: LeaseOperation
        switch request {
        case let r as LeaseRenew: operation = .renew(r)
        case let r as LeaseAcquire: operation = .acquire(r)
        case let r as LeaseRelease: operation = .release(r)
        default: return nil
        }
        guard AssignmentKeys.refusal(operation.key) == nil else { return nil }
        return decide(operation)
    }

    /// Decides a lease operation in the engine (logging it when it changes a lease) as an outcome.
    func decide(_ operation: LeaseOperation) -> AtOnce {
        switch operation {
        case .renew(let r): lease(leases.decide(r), "renew") { self.leases.answer($0) }
        case .acquire(let r): lease(leases.decide(r), "acquire") { self.leases.answer($0, to: r) }
        case .release(let r): lease(leases.decide(r), "release") { self.leases.answer($0) }
        }
    }

    /// A lease decision as an outcome: answered now when it logged nothing.
    func lease<Action: Sendable>(_ decision: LeaseDecision<Action>, _ operation: String,
                                         _ answer: @escaping @Sendable (Action) -> LeaseResult) -> AtOnce {
        guard let commit = decision.commit else { return .answer(answer(decision.action).encoded()) }
        return .afterCommit(commit, operation: operation, answer: { answer(decision.action).encoded() })
    }

    /// Sends an answer known now and ends the stream, counted and timed as ``serve(_:on:started:by:endingWrite:)``
    /// counts them. The answer goes without waiting when the connection takes it now (it nearly always
    /// does); when the connection is backed up, a task waits to send it, as a served stream would.
    private func reply(_ answer: [UInt8], to request: any EnvelopedMessage, on stream: any BidiStream,
                       started: ContinuousClock.Instant, _ context: AtOnceContext) {
        guard stream.offer(answer) else {
            return context.run({
                await self.serveTracked(request, on: stream, started: started, by: { stream throws(StreamsError) in
                    try await stream.send(answer)
                }, endingWrite: false)
            }, ending: stream)
        }
        settle(request, on: stream, with: nil, started: started, context)
    }

    /// Ends a stream served with no task, answered or failed with `error`, counted and timed as
    /// ``serve(_:on:started:by:endingWrite:)`` counts and times it.
    private func settle(_ request: any EnvelopedMessage, on stream: any BidiStream, with error: StreamsError?,
                        started: ContinuousClock.Instant, _ context: AtOnceContext) {
        let name = Self.operationName(of: request)
        configuration.metrics.streamStarted(operation: name)
        end(request, named: name, on: stream, with: error, started: started)
        context.ended()
    }

    /// ``serve(_:on:started:by:endingWrite:)`` for a stream not yet tracked, so that closing the node ends it.
    func serveTracked(_ request: any EnvelopedMessage, on stream: any BidiStream, started: ContinuousClock.Instant,
                              by operation: @escaping Operation, endingWrite: Bool) async {
        let key = ObjectIdentifier(stream)
        guard track(stream, key) else {
            if endingWrite { endWrite() }
            return
        }
        defer { untrack(key) }
        await serve(request, on: stream, started: started, by: operation, endingWrite: endingWrite)
    }
}
