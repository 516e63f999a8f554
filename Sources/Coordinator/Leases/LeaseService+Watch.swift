import LeaseEngine
import StreamCore
import Transport

extension LeaseService {
    /// coordd's `lease_watch`: the key's current state, then every change of holder, latest wins, until
    /// the client closes the stream or the node closes.
    func watch(_ request: LeaseWatch, on stream: any BidiStream) async throws(StreamsError) {
        let mailbox = try engine.withLock { engine throws(StreamsError) -> LeaseWatchMailbox in
            let now = monotonicClock.nowMs()
            return try watches.watch(key: request.key, current: engine.lease(for: request.key, now: now), event: watchEvent)
        }
        defer { watches.unwatch(mailbox) }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // The client ends the watch by closing the stream; it sends nothing else.
                    while try await stream.receive() != nil {
                        throw StreamsError.invalidRequest("a lease watch stream carries no messages after its request")
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        if let event = mailbox.take() { try await stream.send(event) }
                        await mailbox.wakeup.wait()
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        } catch let error as StreamsError {
            if error != .cancelled { throw error }
        } catch {
            throw .internalError("lease watch ended: \(error)")
        }
    }

    /// Tells watchers about `events`, which the engine has just applied. Called under the engine's lock.
    func publishToWatchers(_ events: [LeaseEvent], _ engine: LeaseEngine) {
        let now = monotonicClock.nowMs()
        watches.publish(events, current: { engine.lease(for: $0, now: now) }, event: watchEvent)
    }

    /// The wire form of a change; deadlines are shown on the server's wall clock.
    private func watchEvent(_ change: LeaseWatchChange) -> LeaseWatchEvent {
        func held(_ grant: LeaseGrant, _ cause: LeaseWatchEvent.Cause) -> LeaseWatchEvent {
            LeaseWatchEvent(key: grant.key, held: true, cause: cause, holder: grant.holder, fence: grant.token,
                            expiresAt: grant.deadline.map { wallClock.nowMs() + ($0 - monotonicClock.nowMs()) },
                            ttlMs: grant.ttlMs)
        }
        switch change {
        case .current(let key, let lease):
            return lease.map { held($0, .current) } ?? LeaseWatchEvent(key: key, held: false, cause: .current)
        case .granted(let grant):
            return held(grant, .granted)
        case let .released(key, holder, token):
            return LeaseWatchEvent(key: key, held: false, cause: .released, holder: holder, fence: token)
        case let .expired(key, token):
            return LeaseWatchEvent(key: key, held: false, cause: .expired, fence: token)
        }
    }
}
