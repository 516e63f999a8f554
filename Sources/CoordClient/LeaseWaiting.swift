import StreamCore
import Synchronization
import Transport

extension CoordClient {
    /// The lease on `key` as it changes (coordd's `lease_watch`): its current state first, then every
    /// change of holder — granted, released, expired — as the server decides it. A consumer that falls
    /// behind skips to the newest state, so fences never go backwards. Over a provider that reconnects, a
    /// lost connection is followed by the key's state after the reconnect.
    public func watchLease(key: String) -> MessageSequence<LeaseWatchEvent> {
        let client = self
        let request = LeaseWatch(key: key)
        let resume = StreamReopener(provider: provider).map { reopener in
            MessageSequence<LeaseWatchEvent>.Resume(reopener: reopener) { _ throws(StreamsError) in
                try await client.open(request)
            }
        }
        return MessageSequence(open: { () throws(StreamsError) in try await client.open(request) }, resume: resume)
    }

    /// Acquires `key`, waiting up to `timeout` while another holder has it.
    ///
    /// The wait is the server's: the client watches the key (`lease_watch`) before its first attempt, and
    /// tries again only when the server reports the key released or expired, so a release wakes it within
    /// a round trip and an idle wait sends nothing. Every waiter of a key is woken by a release and tries
    /// once; one wins and the others wait again (no queue: a waiter is not guaranteed to be served in
    /// order of arrival, and a release costs one acquire per waiter).
    ///
    /// Returns the grant. Throws ``CoordError/waitTimedOut(key:holder:fence:)`` when `timeout` passes
    /// first, ``CoordError/leaseNotAcquired(key:reason:holder:fence:expiresAt:)`` for a refusal that
    /// waiting cannot cure (`worker_not_registered`, `tokens_exhausted`), ``CoordError/invalidRequest(_:)``
    /// for an invalid request, and `CancellationError` when the task is cancelled.
    public func acquire(key: String, holder: String, ttl: Duration, workerID: WireUUID? = nil, waitingUpTo timeout: Duration)
        async throws -> LeaseResult
    {
        try await acquireOrWait(key: key, holder: holder, ttl: ttl, workerID: workerID, wait: timeout).result
    }

    /// Acquires once (`wait` nil) or waits up to `wait`; returns the grant and when (monotonic ms) the
    /// request that got it was sent, for a lease keeper's safe deadline.
    func acquireOrWait(key: String, holder: String, ttl: Duration, workerID: WireUUID?, wait: Duration?)
        async throws -> (result: LeaseResult, sentAtMs: Int64)
    {
        let clock = SystemMonotonicClock()
        let client = self
        let attempt = { () async throws -> (LeaseResult, Int64) in
            let sentAt = clock.nowMs()
            let result = try await coordErrors { try await client.acquire(key: key, holder: holder, ttl: ttl, workerID: workerID) }
            return (result, sentAt)
        }
        guard let wait else {
            let (result, sentAt) = try await attempt()
            guard result.ok else { throw CoordError.notAcquired(key, result) }
            return (result, sentAt)
        }
        let deadline = clock.nowMs() + Self.milliseconds(wait)
        // Watch first: a release after the attempt below is then certain to be reported.
        let watch = KeyWatch(client: self, key: key)
        defer { watch.close() }
        _ = try await watch.next(withinMs: max(deadline - clock.nowMs(), 1))
        var failures = 0
        while true {
            let result: LeaseResult
            let sentAt: Int64
            do {
                (result, sentAt) = try await attempt()
            } catch let error as CoordError where Self.passes(error) && StreamReopener(provider: provider) != nil {
                // The daemon went away mid-wait: try again when the watch, opened again on the new
                // connection, reports the key's state, or after a backoff if it says nothing.
                failures += 1
                let remaining = deadline - clock.nowMs()
                guard remaining > 0 else { throw error }
                _ = try await watch.next(withinMs: min(remaining, Int64(ReopenLimits().delayMs(attempt: failures))))
                continue
            }
            if result.ok { return (result, sentAt) }
            guard result.reason == LeaseRefusalName.held else { throw CoordError.notAcquired(key, result) }
            var free = false
            while !free {
                let remaining = deadline - clock.nowMs()
                guard remaining > 0, let event = try await watch.next(withinMs: remaining) else {
                    throw CoordError.waitTimedOut(key: key, holder: result.holder, fence: result.fence)
                }
                free = !event.held
            }
        }
    }
}

extension CoordClient {
    /// Failures of an acquire that a reconnect cures: the connection was lost, or the daemon was stopping.
    static func passes(_ error: CoordError) -> Bool {
        switch error {
        case .connectionFailed, .shuttingDown: return true
        default: return false
        }
    }
}

/// A waiter's watch of one key. Over a provider that reconnects, a lost stream is replaced and the
/// replacement's first event (the key's state then) is handed on, so a wait outlives a reconnect; a
/// release missed during the outage shows as that state being free.
final class KeyWatch: Sendable {
    private let client: CoordClient
    private let request: LeaseWatch
    private let stream = Mutex<(any BidiStream)?>(nil)

    init(client: CoordClient, key: String) {
        self.client = client
        request = LeaseWatch(key: key)
    }

    /// The next event, waiting at most `ms`; nil when the time runs out. Opens the stream on first use.
    /// The sending side stays open: closing it ends a watch.
    func next(withinMs ms: Int64) async throws -> LeaseWatchEvent? {
        let watch = self
        return try await coordErrors {
            try await withDeadlineMs(ms) { () async throws -> LeaseWatchEvent in try await watch.receive() }
        }
    }

    private func receive() async throws(StreamsError) -> LeaseWatchEvent {
        while true {
            let current: any BidiStream
            if let open = stream.withLock({ $0 }) {
                current = open
            } else {
                current = try await client.open(request)
                stream.withLock { $0 = current }
            }
            do throws(StreamsError) {
                guard let event = try await current.receive(LeaseWatchEvent.self) else {
                    throw StreamsError.streamClosed("the server ended the lease watch")
                }
                return event
            } catch {
                current.close(error: nil)
                stream.withLock { $0 = nil }
                guard error.isTransient, error != .cancelled, let reopener = StreamReopener(provider: client.provider) else {
                    throw error
                }
                let client = self.client
                let request = self.request
                let fresh = try await reopener.reopen(isAbandoned: { false }) { () throws(StreamsError) in
                    try await client.open(request)
                }.get()
                stream.withLock { $0 = fresh }
            }
        }
    }

    func close() {
        stream.withLock { $0 }?.close(error: nil)
    }
}

/// The `LeaseResult.reason` names the client acts on (`docs/protocol.md`).
enum LeaseRefusalName {
    static let held = "held"
}
