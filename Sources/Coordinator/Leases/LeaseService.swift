import Inventory
import LeaseEngine
import StreamCore
import Synchronization

/// The shell around the pure ``LeaseEngine`` for one store: it feeds requests and the monotonic clock to
/// the engine, makes every grant, release and expiry durable in the store's lease log
/// (``StreamStore/leaseLog``) before answering, restores leases from that log on open, keeps the log as
/// small as the live leases with checkpoints, and ends presence-bound leases when their worker's presence
/// ends.
///
/// Events are appended under the engine's lock, so the log holds them in the order the engine decided
/// them; the wait for durability happens after the lock is released, and the log's own group commit puts
/// the events of concurrent requests into one write and one `fdatasync`.
final class LeaseService: Sendable {
    let engine: Mutex<LeaseEngine>
    private let log: any CompactingLog
    private let inventory: InventoryService
    let wallClock: any WallClock
    let monotonicClock: any MonotonicClock
    /// The `lease_watch` streams of this store (`LeaseService+Watch.swift`).
    let watches: LeaseWatchHub
    private let events: StoreEventLog
    /// The expiry ticker's timer: woken when a lease may expire before the deadline it waits for.
    private let ticker: DeadlineWaiter
    /// The deadline the ticker waits for (monotonic ms), written and read under the engine's lock: a change
    /// wakes the ticker only when it brings an earlier deadline, so a busy store's grants, renewals and
    /// releases cost no wake-up of the ticker's task each (`Int64.min` until the ticker first looks).
    private let tickerDeadlineMs = Atomic<Int64>(.min)

    /// Opens the service over the store's lease log: every lease live at the end of the log comes back with
    /// a full TTL from now, and fencing tokens continue from the highest logged. A store whose lease log is
    /// empty but which holds lease events from before the lease log has them carried over first.
    init(store: any StreamStore, inventory: InventoryService, limits: LeaseLimits, wallClock: any WallClock,
         monotonicClock: any MonotonicClock, events: StoreEventLog = .silent) async throws(StreamsError) {
        log = store.leaseLog
        self.inventory = inventory
        self.wallClock = wallClock
        self.monotonicClock = monotonicClock
        ticker = DeadlineWaiter(clock: monotonicClock)
        watches = LeaseWatchHub(limits: LeaseWatchLimits(), maxKeyBytes: limits.maxKeyBytes)
        self.events = events
        let contents = try await log.recover()
        let now = monotonicClock.nowMs()
        let recovered: LeaseEngine
        if contents.isEmpty, let carried = try await Self.carryOverOldEvents(of: store, limits: limits, now: now) {
            recovered = carried
        } else {
            recovered = try Self.recover(contents, limits: limits, now: now)
        }
        engine = Mutex(recovered)
        inventory.observePresenceEnded { [weak self] stream in self?.presenceEnded(stream) }
    }

    private static func recover(_ contents: CompactingLogContents, limits: LeaseLimits, now: Int64) throws(StreamsError)
        -> LeaseEngine
    {
        var events: [LeaseEvent] = []
        events.reserveCapacity(contents.events.count)
        for (index, bytes) in contents.events.enumerated() {
            do {
                events.append(try LeaseEvent(decoding: bytes))
            } catch {
                throw .storage("lease log event \(index + 1) after the checkpoint is unreadable: \(error)")
            }
        }
        do {
            return try LeaseEngine.recover(checkpoint: contents.checkpoint, events: events, now: now, limits: limits)
        } catch {
            throw .storage("lease log checkpoint is unreadable: \(error)")
        }
    }

    // MARK: Requests

    /// LeaseAcquire: validated in streamkit's order; a grant is answered once its event is durable. With a
    /// `worker_id`, the lease is bound to that worker's current presence and ends with it.
    func acquire(_ request: LeaseAcquire) async throws(StreamsError) -> LeaseResult {
        let decision = decide(request)
        try await waitDurable(decision.commit, operation: "acquire")
        return answer(decision.action, to: request)
    }

    /// LeaseRenew: only the live holder may renew; a renewal is logged only when it lengthens the TTL.
    func renew(_ request: LeaseRenew) async throws(StreamsError) -> LeaseResult {
        let decision = decide(request)
        try await waitDurable(decision.commit, operation: "renew")
        return answer(decision.action)
    }

    /// LeaseRelease: only the holder may release.
    func release(_ request: LeaseRelease) async throws(StreamsError) -> LeaseResult {
        let decision = decide(request)
        try await waitDurable(decision.commit, operation: "release")
        return answer(decision.action)
    }

    /// An acquire decided by the engine, its grant appended to the log (not yet durable).
    func decide(_ request: LeaseAcquire) -> LeaseDecision<AcquireAction> {
        let ttl = Self.ttl(request.terms)
        return decide(logging: \.event) { engine, now -> AcquireAction in
            var bound: UInt64?
            if let worker = request.workerID {
                // Checked under the lease lock: a presence that ends after this check is reported to
                // `presenceEnded`, which also takes this lock, so it cannot slip between check and grant.
                guard let presence = inventory.presence(of: worker) else { return .reject(LeaseRejection(.workerNotRegistered)) }
                bound = presence.rawValue
            }
            return engine.acquire(key: request.terms.key, holder: request.terms.holder, ttl: ttl, boundTo: bound, now: now)
        }
    }

    /// A renewal decided by the engine; most log nothing and can be answered at once.
    func decide(_ request: LeaseRenew) -> LeaseDecision<RenewAction> {
        decide(logging: \.event) { engine, now in
            engine.renew(key: request.terms.key, holder: request.terms.holder, ttl: Self.ttl(request.terms), now: now)
        }
    }

    /// A release decided by the engine, its event appended to the log (not yet durable).
    func decide(_ request: LeaseRelease) -> LeaseDecision<ReleaseAction> {
        decide(logging: \.event) { engine, now in
            engine.release(key: request.key, holder: request.holder, now: now)
        }
    }

    /// The answer to an acquire whose event (if any) is durable.
    func answer(_ action: AcquireAction, to request: LeaseAcquire) -> LeaseResult {
        switch action {
        case .appendToLog(let event, let grant):
            events.leaseLogged(event, operation: "acquire", worker: request.workerID)
            return result(for: grant)
        case .reject(let rejection):
            events.leaseRefused("acquire", rejection)
            return refusal(rejection)
        }
    }

    /// The answer to a renewal whose event (if any) is durable.
    func answer(_ action: RenewAction) -> LeaseResult {
        switch action {
        case .renewed(let grant):
            events.leaseRenewed()
            return result(for: grant)
        case .appendToLog(let event, let grant):
            events.leaseLogged(event, operation: "renew")
            return result(for: grant)
        case .reject(let rejection):
            events.leaseRefused("renew", rejection)
            return refusal(rejection)
        }
    }

    /// The answer to a release whose event (if any) is durable.
    func answer(_ action: ReleaseAction) -> LeaseResult {
        switch action {
        case .appendToLog(let event):
            events.leaseLogged(event, operation: "release")
            return LeaseResult(ok: true)
        case .reject(let rejection):
            events.leaseRefused("release", rejection)
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
            guard !check.isOK else { return nil }
            events.fenceMismatch()
            return .fenceMismatch("fence for lease \"\(InputExcerpt.excerpt(fence.key))\" refused: \(check.message)")
        }
    }

    // MARK: Expiry and presence

    /// Expires leases as their deadlines pass, logging each expiry. Runs until cancelled.
    func runTicker() async {
        while !Task.isCancelled {
            let (result, commit, deadline) = engine.withLock { engine in
                let now = monotonicClock.nowMs()
                let result = engine.tick(now: now)
                let deadline = result.more ? now : result.nextDeadline ?? now + Self.idleTickMs
                tickerDeadlineMs.store(deadline, ordering: .relaxed)
                return (result, result.events.isEmpty ? nil : append(result.events, engine), deadline)
            }
            await logDurable(result.events, commit, during: "lease_expiry", operation: "expire")
            if result.more { continue }
            await ticker.wait(untilMs: deadline)
        }
    }

    /// Whether the engine, just changed under its lock, now holds a deadline earlier than the one the
    /// ticker waits for. Its earliest deadline may belong to a superseded entry; that costs one empty tick.
    private func bringsEarlierDeadline(_ engine: LeaseEngine) -> Bool {
        guard let next = engine.nextDeadline else { return false }
        return next < tickerDeadlineMs.load(ordering: .relaxed)
    }

    /// How long the ticker sleeps with no lease live: a new grant wakes it anyway. coordd's choice.
    private static let idleTickMs: Int64 = 60_000

    private func presenceEnded(_ stream: StreamID) {
        let (ended, commit) = engine.withLock { engine -> ([LeaseEvent], Result<LogCommit, StreamsError>?) in
            let ended = engine.workerEnded(stream.rawValue, now: monotonicClock.nowMs())
            return (ended, ended.isEmpty ? nil : append(ended, engine))
        }
        guard let commit else { return }
        Task { await self.logDurable(ended, commit, during: StoreEventLog.workerEndedOperation, operation: "release") }
    }

    /// Waits until the lease log's own events (expiries, releases of worker-bound leases) are durable
    /// and reports them; nobody waits for them, so a failure is reported here (the state in memory has
    /// moved on either way, as it does for a request whose answer failed).
    private func logDurable(_ logged: [LeaseEvent], _ commit: Result<LogCommit, StreamsError>?, during: String,
                            operation: String) async {
        do throws(StreamsError) {
            try await waitDurable(commit)
            for event in logged { events.leaseLogged(event, operation: during) }
        } catch {
            events.leaseFailed(operation)
            events.storageFailed(error, during: during)
        }
    }

    // MARK: Helpers

    /// Appends `events` to the lease log as one group, and then, if the log has outgrown its last
    /// checkpoint, a checkpoint of `engine`. Called under the engine's lock: both take their place in the
    /// log in exactly the engine's order. A checkpoint that cannot be queued is simply tried again after
    /// more events; nothing waits for it.
    func append(_ events: [LeaseEvent], _ engine: LeaseEngine) -> Result<LogCommit, StreamsError> {
        // The engine has applied the events whatever becomes of the append: watchers see its state.
        publishToWatchers(events, engine)
        let commit: LogCommit
        do throws(StreamsError) {
            commit = try log.append(events.map { $0.encoded() })
        } catch {
            return .failure(error)
        }
        if log.wantsCheckpoint { _ = try? log.appendCheckpoint(engine.checkpointRecords()) }
        return .success(commit)
    }

    /// Runs `decide` on the engine under its lock and appends the event its action logs (if any) in the
    /// same critical section, so the log holds it in the engine's order. Nothing waits here: the caller
    /// answers once ``LeaseDecision/commit`` is durable.
    private func decide<Action: Sendable>(
        logging event: (Action) -> LeaseEvent?, _ decide: (inout LeaseEngine, Int64) -> Action
    ) -> LeaseDecision<Action> {
        let (decision, wake) = engine.withLock { engine in
            let action = decide(&engine, monotonicClock.nowMs())
            let commit = event(action).map { append([$0], engine) }
            return (LeaseDecision(action: action, commit: commit), bringsEarlierDeadline(engine))
        }
        // Before the write is durable, which is harmless: the ticker expires nothing before its deadline.
        if wake { ticker.wake() }
        return decision
    }

    /// Waits until an append is durable (at once for nil). A failed append throws its error (a transient
    /// `storage_error`).
    func waitDurable(_ commit: Result<LogCommit, StreamsError>?) async throws(StreamsError) {
        guard let commit else { return }
        try await commit.get().durable()
    }

    /// Calls `handler` once a request's append is durable (nil) or with why it is not, without a task
    /// waiting for it (see ``LogCommit/whenDurable(_:)``); counts a failure as
    /// ``waitDurable(_:operation:)`` does.
    func whenDurable(_ commit: Result<LogCommit, StreamsError>, operation: String,
                     _ handler: @escaping @Sendable (StreamsError?) -> Void) {
        switch commit {
        case .failure(let error):
            events.leaseFailed(operation)
            handler(error)
        case .success(let commit):
            commit.whenDurable { [self] error in
                if error != nil { events.leaseFailed(operation) }
                handler(error)
            }
        }
    }

    /// ``waitDurable(_:)`` for a request's `operation`, counting a failure (the stream reports the error).
    func waitDurable(_ commit: Result<LogCommit, StreamsError>?, operation: String) async throws(StreamsError) {
        do throws(StreamsError) {
            try await waitDurable(commit)
        } catch {
            events.leaseFailed(operation)
            throw error
        }
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

/// A lease request the engine has decided: what to answer, once the event it logged (if any) is durable.
struct LeaseDecision<Action: Sendable>: Sendable {
    /// What the engine decided.
    let action: Action
    /// The append of the action's event to the lease log; nil when nothing was logged, so the answer may
    /// go at once.
    let commit: Result<LogCommit, StreamsError>?
}
