import StreamCore
import Transport

extension Node {
    /// Serves a `lease_ops` stream on the connection's thread: each operation is decided as it arrives
    /// (``BidiStream/receiveDirectly(_:)``) and answered at once when it logged nothing, or by the log's
    /// writer thread once it is durable, so an operation costs no task and no stream of its own. The
    /// answers go in the order the operations came (``LeaseAnswerQueue``). A stream that cannot be read
    /// on its loop (in process) is served by a task, one operation after the other.
    func serveLeaseOperations(_ request: any EnvelopedMessage, on stream: any BidiStream, _ context: AtOnceContext) {
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
                switch try leaseOperation(message) {
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
                try await self.inOrder(on: stream, decide: self.leaseOperation)
            }, endingWrite: false, countedStart: true)
            self.untrack(key)
        }, ending: stream)
    }

    /// Decodes and decides one message of a `lease_ops` stream.
    func leaseOperation(_ message: [UInt8]) throws(StreamsError) -> AtOnce {
        try leaseWrite(LeaseOperation(decoding: message))
    }
}
