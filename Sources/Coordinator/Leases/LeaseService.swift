import Inventory
import LeaseEngine
import StreamCore
import Synchronization

/// The shell around the pure ``LeaseEngine`` for one store: it feeds requests and the monotonic clock to
/// the engine, makes every grant, release and expiry durable in the store's lease log (the system space
/// `$coordd.leases`) before answering, restores leases from that log on open, and ends presence-bound
/// leases when their worker's presence ends.
final class LeaseService: Sendable {
    /// The segment of the lease log in ``SystemSpace/leases``.
    static let segment = "events"

    private let engine: Mutex<LeaseEngine>
    private let store: any StreamStore
    private let logWriter: LeaseLogWriter
    private let inventory: InventoryService
    private let wallClock: any WallClock
    private let monotonicClock: any MonotonicClock
    private let tickerWakeup = Wakeup()

    /// Opens the service, replaying the lease log: every lease live at the end of the log comes back with
    /// a full TTL from now, and fencing tokens continue from the highest logged.
    init(store: any StreamStore, inventory: InventoryService, limits: LeaseLimits, wallClock: any WallClock,
         monotonicClock: any MonotonicClock) throws(StreamsError) {
        self.store = store
        logWriter = LeaseLogWriter { events throws(StreamsError) in
            let records = events.map { Record(sequence: 0, payload: $0.encoded()) }
            _ = try await store.append(AppendRequest(space: SystemSpace.leases, segment: Self.segment, records: records,
                                                     sequencing: .assigned))
        }
        self.inventory = inventory
        self.wallClock = wallClock
        self.monotonicClock = monotonicClock
        var events: [LeaseEvent] = []
        var range = SegmentRange(fromSequence: 1, toSequence: .max, afterTimestamp: .min, throughTimestamp: .max)
        while true {
            let page = try store.readSegment(space: SystemSpace.leases, segment: Self.segment, range: range,
                                             max: store.limits.readPageSize)
            for entry in page {
                do {
                    events.append(try LeaseEvent(decoding: entry.payload ?? []))
                } catch {
                    throw .storage("lease log entry \(entry.sequence) is unreadable: \(error)")
                }
            }
            guard let last = page.last, page.count == store.limits.readPageSize else { break }
            range.fromSequence = last.sequence + 1
        }
        engine = Mutex(LeaseEngine.recover(from: events, now: monotonicClock.nowMs(), limits: limits))
        inventory.observePresenceEnded { [weak self] stream in self?.presenceEnded(stream) }
    }

    // MARK: Requests

    /// LeaseAcquire: validated in streamkit's order; a grant is answered once its event is durable. With a
    /// `worker_id`, the lease is bound to that worker's current presence and ends with it.
    func acquire(_ request: LeaseAcquire) async throws(StreamsError) -> LeaseResult {
        let ttl = Self.ttl(request.terms)
        let decision = engine.withLock { engine -> Logged<AcquireAction> in
            var bound: UInt64?
            if let worker = request.workerID {
                // Checked under the lease lock: a presence that ends after this check is reported to
                // `presenceEnded`, which also takes this lock, so it cannot slip between check and grant.
                guard let presence = inventory.presence(of: worker) else {
                    return Logged(.reject(LeaseRejection(.workerNotRegistered)))
                }
                bound = presence.rawValue
            }
            let action = engine.acquire(key: request.terms.key, holder: request.terms.holder, ttl: ttl,
                                        boundTo: bound, now: monotonicClock.nowMs())
            guard case .appendToLog(let event, _) = action else { return Logged(action) }
            return Logged(action, batch: logWriter.enqueue([event]))
        }
        try await waitDurable(decision.batch)
        switch decision.action {
        case .appendToLog(_, let grant):
            return result(for: grant)
        case .reject(let rejection):
            return refusal(rejection)
        }
    }

    /// LeaseRenew: only the live holder may renew; a renewal is logged only when it lengthens the TTL.
    func renew(_ request: LeaseRenew) async throws(StreamsError) -> LeaseResult {
        let decision = engine.withLock { engine -> Logged<RenewAction> in
            let action = engine.renew(key: request.terms.key, holder: request.terms.holder, ttl: Self.ttl(request.terms),
                                      now: monotonicClock.nowMs())
            guard case .appendToLog(let event, _) = action else { return Logged(action) }
            return Logged(action, batch: logWriter.enqueue([event]))
        }
        try await waitDurable(decision.batch)
        switch decision.action {
        case .renewed(let grant), .appendToLog(_, let grant):
            return result(for: grant)
        case .reject(let rejection):
            return refusal(rejection)
        }
    }

    /// LeaseRelease: only the holder may release.
    func release(_ request: LeaseRelease) async throws(StreamsError) -> LeaseResult {
        let decision = engine.withLock { engine -> Logged<ReleaseAction> in
            let action = engine.release(key: request.key, holder: request.holder, now: monotonicClock.nowMs())
            guard case .appendToLog(let event) = action else { return Logged(action) }
            return Logged(action, batch: logWriter.enqueue([event]))
        }
        try await waitDurable(decision.batch)
        switch decision.action {
        case .appendToLog:
            return LeaseResult(ok: true)
        case .reject(let rejection):
            return refusal(rejection)
        }
    }

    /// Live leases whose key starts with `prefix`, in key order.
    func list(prefix: String, limit: Int) -> [LeaseInfo] {
        let now = monotonicClock.nowMs()
        let wall = wallClock.nowMs()
        return engine.withLock { $0.list(prefix: prefix, now: now, limit: limit) }.map { grant in
            LeaseInfo(key: grant.key, holder: grant.holder, fence: grant.token,
                      expiresAt: grant.deadline.map { wall + ($0 - now) } ?? 0, ttlMs: grant.ttlMs,
                      workerID: nil)
        }
    }

    /// Live leases.
    var count: Int { engine.withLock { $0.leaseCount } }

    /// The check a fenced append runs under the store's ordering lock: the key's lease must be live and its
    /// token the one presented.
    func fenceCheck(_ fence: Fence) -> @Sendable () -> StreamsError? {
        { [self] in
            let check = engine.withLock { $0.checkFence(key: fence.key, token: fence.token, now: monotonicClock.nowMs()) }
            return check.isOK ? nil : .fenceMismatch("fence for lease \"\(fence.key)\" refused: \(check.message)")
        }
    }

    // MARK: Expiry and presence

    /// Expires leases as their deadlines pass, logging each expiry. Runs until cancelled.
    func runTicker() async {
        while !Task.isCancelled {
            let (result, batch) = engine.withLock { engine in
                let result = engine.tick(now: monotonicClock.nowMs())
                return (result, result.events.isEmpty ? nil : logWriter.enqueue(result.events))
            }
            try? await waitDurable(batch)
            if result.more { continue }
            let delay = result.nextDeadline.map { max($0 - monotonicClock.nowMs(), 1) } ?? 60_000
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await Task.sleep(for: .milliseconds(delay)) }
                group.addTask { await self.tickerWakeup.wait() }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Wakes the ticker (a new lease may expire before the one it waits for).
    func wakeTicker() { tickerWakeup.signal() }

    private func presenceEnded(_ stream: StreamID) {
        let batch = engine.withLock { engine -> UInt64? in
            let events = engine.workerEnded(stream.rawValue, now: monotonicClock.nowMs())
            return events.isEmpty ? nil : logWriter.enqueue(events)
        }
        guard let batch else { return }
        Task { try? await self.waitDurable(batch) }
    }

    // MARK: Helpers

    /// An engine decision and the lease-log batch its event went into (nil when it logs nothing).
    private struct Logged<Action> {
        var action: Action
        var batch: UInt64?

        init(_ action: Action, batch: UInt64? = nil) {
            self.action = action
            self.batch = batch
        }
    }

    /// Waits until `batch` of the lease log is durable (at once for nil), then wakes the ticker: a new
    /// lease may expire before the one it waits for.
    private func waitDurable(_ batch: UInt64?) async throws(StreamsError) {
        guard let batch else { return }
        try await logWriter.waitDurable(batch)
        tickerWakeup.signal()
    }

    private static func ttl(_ terms: LeaseTerms) -> LeaseTTL {
        terms.ttlMs.map { .milliseconds($0) } ?? .seconds(terms.ttlSeconds)
    }

    private func expiresAt(_ grant: LeaseGrant) -> Int64? {
        grant.deadline.map { wallClock.nowMs() + ($0 - monotonicClock.nowMs()) }
    }

    private func result(for grant: LeaseGrant) -> LeaseResult {
        LeaseResult(ok: true, fence: grant.token, holder: grant.holder, expiresAt: expiresAt(grant), ttlMs: grant.ttlMs)
    }

    /// `message` for a validation failure, `reason` for a refusal of a valid request (streamkit fills
    /// `message` only for validation), and the lease in the way when there is one.
    private func refusal(_ rejection: LeaseRejection) -> LeaseResult {
        let reason = rejection.refusal?.rawValue
        guard let current = rejection.current else { return LeaseResult(ok: false, message: rejection.message, reason: reason) }
        return LeaseResult(ok: false, message: rejection.message, reason: reason, fence: current.token,
                           holder: current.holder, expiresAt: expiresAt(current), ttlMs: current.ttlMs)
    }
}
