import StreamCore
import Synchronization
import Transport

extension Node {
    /// Serves a `lease_renewals` stream at once: its renewals are decided and answered on the
    /// connection's thread as they arrive (``BidiStream/receiveDirectly(_:)``), with no task at all while
    /// each can be answered without waiting. The first renewal that must wait (one that is logged, or an
    /// answer the connection cannot take now) hands the stream to a task, which serves it to its end in
    /// order (``renewals(on:first:)``).
    func serveRenewals(_ request: any EnvelopedMessage, on stream: any BidiStream, _ context: AtOnceContext) {
        let key = ObjectIdentifier(stream)
        guard track(stream, key) else { return context.ended() }
        let name = Self.operationName(of: request)
        let direct = stream.receiveDirectly { [self] message in
            guard let message else {
                // The client finished (or the stream ended): every renewal before was answered.
                configuration.metrics.streamStarted(operation: name)
                stream.close(error: nil)
                untrack(key)
                context.ended()
                return false
            }
            let pending: Renewal
            do throws(StreamsError) {
                pending = try renewal(message)
            } catch {
                pending = .failed(error)
            }
            if case .answer(let answer) = pending, stream.offer(answer) { return true }
            continueInTask(request, on: stream, key: key, first: pending, context)
            return false
        }
        if !direct { continueInTask(request, on: stream, key: key, first: nil, context) }
    }

    /// One renewal of a `lease_renewals` stream, decided.
    enum Renewal: Sendable {
        /// The answer, known now.
        case answer([UInt8])
        /// A renewal that lengthens the TTL: its answer once its event is durable (a write in flight).
        case afterCommit(Result<LogCommit, StreamsError>, answer: @Sendable () -> [UInt8])
        /// A message that is no renewal: the stream ends with this.
        case failed(StreamsError)
    }

    /// Decodes and decides one renewal; a logged one is counted as a write in flight until answered.
    func renewal(_ message: [UInt8]) throws(StreamsError) -> Renewal {
        let request = try LeaseRenew(decoding: message)
        if let refusal = AssignmentKeys.refusal(request.terms.key) { throw refusal }
        beginWrite()
        let decision = leases.decide(request)
        guard let commit = decision.commit else {
            endWrite()
            return .answer(leases.answer(decision.action).encoded())
        }
        return .afterCommit(commit, answer: { self.leases.answer(decision.action).encoded() })
    }

    /// Serves the rest of a `lease_renewals` stream in a task, `first` (already decided) first.
    private func continueInTask(_ request: any EnvelopedMessage, on stream: any BidiStream, key: ObjectIdentifier,
                                first: Renewal?, _ context: AtOnceContext) {
        context.run({
            await self.serve(request, on: stream, started: .now, by: { stream throws(StreamsError) in
                try await self.renewals(on: stream, first: first)
            }, endingWrite: false)
            self.untrack(key)
        }, ending: stream)
    }

    /// Serves a `lease_renewals` stream in order until the client half-closes: each message a bare
    /// renewal, each answered with a bare ``LeaseResult``, a logged one once it is durable.
    func renewals(on stream: any BidiStream, first: Renewal? = nil) async throws(StreamsError) {
        if let first { try await answer(first, on: stream) }
        while let message = try await stream.receive() {
            try await answer(try renewal(message), on: stream)
        }
    }

    private func answer(_ renewal: Renewal, on stream: any BidiStream) async throws(StreamsError) {
        switch renewal {
        case .answer(let answer):
            try await stream.send(answer)
        case .afterCommit(let commit, let answer):
            defer { endWrite() }
            try await leases.waitDurable(commit, operation: "renew")
            try await stream.send(answer())
        case .failed(let error):
            throw error
        }
    }
}
