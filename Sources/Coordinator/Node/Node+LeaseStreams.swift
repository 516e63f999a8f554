import StreamCore
import Transport

extension Node {
    /// How one message of a lease stream is decided.
    typealias LeaseMessageDecision = @Sendable ([UInt8]) throws(StreamsError) -> AtOnce

    /// True for the requests of a stream of many lease requests (`lease_renewals`, `lease_ops`).
    static func isLeaseStream(_ request: any EnvelopedMessage) -> Bool {
        request is LeaseRenewals || request is LeaseOperations
    }

    /// How the messages of a lease stream are decided: a `lease_renewals` stream carries bare renewals, a
    /// `lease_ops` stream operations naming their `op`. Nil for any other request.
    func leaseStreamMessages(of request: any EnvelopedMessage) -> LeaseMessageDecision? {
        switch request {
        case is LeaseRenewals: { [self] message throws(StreamsError) in try leaseWrite(.renew(LeaseRenew(decoding: message))) }
        case is LeaseOperations: { [self] message throws(StreamsError) in try leaseWrite(LeaseOperation(decoding: message)) }
        default: nil
        }
    }

    /// Serves a lease stream (`lease_renewals`, `lease_ops`) on the connection's thread: each message is
    /// decided by `decide` as it arrives (``BidiStream/receiveDirectly(_:)``) and answered at once when it
    /// logged nothing, or by the log's writer thread once it is durable, so a lease request costs no task
    /// and no stream of its own. The answers go in the order the requests came (``LeaseAnswerQueue``). A
    /// stream that cannot be read on its loop (in process) is served by a task, one message after the other.
    func serveLeaseStream(_ request: any EnvelopedMessage, on stream: any BidiStream, decide: @escaping LeaseMessageDecision,
                          _ context: AtOnceContext) {
        let key = ObjectIdentifier(stream)
        guard track(stream, key) else { return context.ended() }
        let name = Self.operationName(of: request)
        let started = ContinuousClock.now
        // Counted as it starts, as a stream served by a task is: it may stay open for hours.
        configuration.metrics.streamStarted(operation: name)
        let answers = LeaseAnswerQueue(stream: stream, limit: configuration.limits.maxLeaseOperationsInFlight,
                                       spawn: context.spawn) { [self] error in
            end(request, named: name, on: stream, with: error, started: started)
            untrack(key)
            context.ended()
        }
        let direct = stream.receiveDirectly { [self] message in
            guard let message else {
                answers.finish()
                return false
            }
            guard let ticket = answers.ticket() else { return false }
            do throws(StreamsError) {
                switch try decide(message) {
                case .answer(let answer):
                    answers.settle(ticket, .success(answer))
                case .afterCommit(let commit, let operation, let answer):
                    leases.whenDurable(commit, operation: operation) { [self] error in
                        answers.settle(ticket, error.map { .failure($0) } ?? .success(answer()))
                        endWrite()
                    }
                }
                return true
            } catch {
                // Ends the stream with the error once the answers before it went.
                answers.settle(ticket, .failure(error))
                return false
            }
        }
        guard !direct else { return }
        context.run({
            await self.serve(request, on: stream, started: started, by: { stream throws(StreamsError) in
                try await self.inOrder(on: stream, decide: decide)
            }, endingWrite: false, countedStart: true)
            self.untrack(key)
        }, ending: stream)
    }

    /// Decides one request of a lease stream: refused (thrown) on a key that partition assignment owns,
    /// and counted as a write in flight until answered when it is logged.
    func leaseWrite(_ operation: LeaseOperation) throws(StreamsError) -> AtOnce {
        if let refusal = AssignmentKeys.refusal(operation.key) { throw refusal }
        beginWrite()
        let outcome = decide(operation)
        if case .answer = outcome { endWrite() }
        return outcome
    }

    /// Serves a lease stream in a task, in order, until the client half-closes: each message decided by
    /// `decide`, each answered with a bare ``LeaseResult``, a logged one once it is durable.
    func inOrder(on stream: any BidiStream, decide: LeaseMessageDecision) async throws(StreamsError) {
        while let message = try await stream.receive() {
            switch try decide(message) {
            case .answer(let answer):
                try await stream.send(answer)
            case .afterCommit(let commit, let operation, let answer):
                defer { endWrite() }
                try await leases.waitDurable(commit, operation: operation)
                try await stream.send(answer())
            }
        }
    }
}
