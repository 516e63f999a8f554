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
        try leaseWrite(.renew(LeaseRenew(decoding: message)))
    }

    /// Decides one operation of a lease stream: refused (thrown) on a key that partition assignment
    /// owns, and counted as a write in flight until answered when it is logged.
    func leaseWrite(_ operation: LeaseOperation) throws(StreamsError) -> AtOnce {
        if let refusal = AssignmentKeys.refusal(operation.key) { throw refusal }
        beginWrite()
        let outcome = decide(operation)
        if case .answer = outcome { endWrite() }
        return outcome
    }

    /// Serves the rest of a `lease_renewals` stream in a task, `first` (already decided) first.
    private func continueInTask(_ request: any EnvelopedMessage, on stream: any BidiStream, key: ObjectIdentifier,
                                first: Result<AtOnce, StreamsError>?, _ context: AtOnceContext) {
        context.run({
            await self.serve(request, on: stream, started: .now, by: { stream throws(StreamsError) in
                try await self.inOrder(on: stream, first: first, decide: self.renewal)
            }, endingWrite: false, countedStart: true)
            self.untrack(key)
        }, ending: stream)
    }

    /// Serves a lease stream (`lease_renewals`, `lease_ops`) in order until the client half-closes:
    /// each message decided by `decide`, each answered with a bare ``LeaseResult``, a logged one once
    /// it is durable.
    func inOrder(on stream: any BidiStream, first: Result<AtOnce, StreamsError>? = nil,
                 decide: ([UInt8]) throws(StreamsError) -> AtOnce) async throws(StreamsError) {
        if let first { try await answer(try first.get(), on: stream) }
        while let message = try await stream.receive() {
            try await answer(try decide(message), on: stream)
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
