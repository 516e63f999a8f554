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
        // Counted as it starts, as a stream served by a task is: it may stay open for hours.
        configuration.metrics.streamStarted(operation: Self.operationName(of: request))
        let direct = stream.receiveDirectly { [self] message in
            guard let message else {
                // The client finished (or the stream ended): every renewal before was answered.
                stream.close(error: nil)
                untrack(key)
                context.ended()
                return false
            }
            let pending = Result { () throws(StreamsError) -> AtOnce in try renewal(message) }
            if case .success(.answer(let answer)) = pending, stream.offer(answer) { return true }
            continueInTask(request, on: stream, key: key, first: pending, context)
            return false
        }
        if !direct { continueInTask(request, on: stream, key: key, first: nil, context) }
    }

    /// Decodes and decides one renewal (as a stream of its own would be decided); a logged one is counted
    /// as a write in flight until answered.
    func renewal(_ message: [UInt8]) throws(StreamsError) -> AtOnce {
        let request = try LeaseRenew(decoding: message)
        if let refusal = AssignmentKeys.refusal(request.terms.key) { throw refusal }
        beginWrite()
        let outcome = lease(leases.decide(request), "renew") { self.leases.answer($0) }
        if case .answer = outcome { endWrite() }
        return outcome
    }

    /// Serves the rest of a `lease_renewals` stream in a task, `first` (already decided) first.
    private func continueInTask(_ request: any EnvelopedMessage, on stream: any BidiStream, key: ObjectIdentifier,
                                first: Result<AtOnce, StreamsError>?, _ context: AtOnceContext) {
        context.run({
            await self.serve(request, on: stream, started: .now, by: { stream throws(StreamsError) in
                try await self.renewals(on: stream, first: first)
            }, endingWrite: false, countedStart: true)
            self.untrack(key)
        }, ending: stream)
    }

    /// Serves a `lease_renewals` stream in order until the client half-closes: each message a bare
    /// renewal, each answered with a bare ``LeaseResult``, a logged one once it is durable.
    func renewals(on stream: any BidiStream, first: Result<AtOnce, StreamsError>? = nil) async throws(StreamsError) {
        if let first { try await answer(try first.get(), on: stream) }
        while let message = try await stream.receive() {
            try await answer(try renewal(message), on: stream)
        }
    }

    private func answer(_ renewal: AtOnce, on stream: any BidiStream) async throws(StreamsError) {
        switch renewal {
        case .answer(let answer):
            try await stream.send(answer)
        case .afterCommit(let commit, let operation, let answer):
            defer { endWrite() }
            try await leases.waitDurable(commit, operation: operation)
            try await stream.send(answer())
        }
    }
}
