import CorePrimitives

/// The lease state machine: acquire, renew, release and expire leases on keys, issuing fencing tokens.
///
/// Pure: it reads no clock and does no I/O. Every input carries `now`, milliseconds on the server's
/// monotonic clock, and every decision is applied to the engine's own state at once, so that another
/// holder's acquire is refused while a grant is still being made durable. The returned `LeaseEvent` is
/// what the shell must append to the durable log before answering the client.
///
/// Fencing tokens come from one engine-wide counter. Every grant except a same-holder re-acquire of a live
/// lease takes the next value, so a key's token grows with every change of holder and never goes back,
/// across expiry, release and restart alike, while nothing is remembered about keys that have no lease.
public struct LeaseEngine: Sendable {
    /// The bounds this engine enforces.
    public let limits: LeaseLimits

    /// The highest fencing token issued (or recovered from the log); the next new grant gets one more.
    public internal(set) var highestToken: UInt64 = 0

    /// Every lease, including expired ones that no tick has removed yet.
    var leases: [LeaseKey: LeaseRecord] = [:]
    /// Deadlines of unbound leases, with superseded entries left in place (see `LeaseExpiry`).
    var expiryHeap = MinHeap<LeaseExpiry>()
    /// The keys of the leases bound to each worker reference.
    var keysByWorker: [UInt64: Set<LeaseKey>] = [:]

    /// Creates an empty engine.
    public init(limits: LeaseLimits = LeaseLimits()) {
        precondition(limits.maxTTLMs > 0, "LeaseLimits.maxTTLMs must be positive, got \(limits.maxTTLMs)")
        precondition(limits.maxExpiriesPerTick > 0, "LeaseLimits.maxExpiriesPerTick must be positive")
        precondition(limits.maxKeyBytes > 0 && limits.maxHolderBytes > 0, "LeaseLimits byte limits must be positive")
        precondition(limits.expiryHeapSlack >= 0, "LeaseLimits.expiryHeapSlack must not be negative")
        self.limits = limits
    }

    /// The number of leases held, counting expired ones that have not been ticked away yet.
    public var leaseCount: Int { leases.count }

    /// Grants `key` to `holder` when the key is free, expired, or already held by `holder`.
    ///
    /// A same-holder re-acquire of a live lease refreshes it and keeps its token; it may also bind or
    /// unbind it. With `boundTo` set the lease has no deadline: it ends when `workerEnded(_:now:)` is
    /// called with that reference. A refusal because another holder has the key is `held`, with that
    /// holder's lease.
    public mutating func acquire(
        key: String, holder: String, ttl: LeaseTTL, boundTo: UInt64? = nil, now: Int64
    ) -> AcquireAction {
        let ttlMs: Int64
        switch validate(key: key, holder: holder, ttl: ttl) {
        case .failure(let rejection): return .reject(rejection)
        case .success(let validated): ttlMs = validated
        }
        let leaseKey = LeaseKey(key)
        let newDeadline = boundTo == nil ? deadline(after: now, ttlMs: ttlMs) : nil
        let token: UInt64
        if let existing = leases[leaseKey], existing.isLive(at: now) {
            guard isSameHolder(existing.holder, holder) else {
                return .reject(LeaseRejection(.held, current: existing.grant(key: leaseKey)))
            }
            token = existing.token
        } else {
            guard highestToken < UInt64.max else { return .reject(LeaseRejection(.tokensExhausted)) }
            highestToken += 1
            token = highestToken
        }
        let record = LeaseRecord(
            holder: holder, token: token, ttlMs: ttlMs, loggedTTLMs: ttlMs, deadline: newDeadline, boundTo: boundTo)
        store(record, at: leaseKey)
        let event = LeaseEvent.granted(key: key, holder: holder, token: token, ttlMs: ttlMs, boundTo: boundTo)
        return .appendToLog(event, record.grant(key: leaseKey))
    }

    /// Extends `holder`'s live lease on `key` to `now + ttl` (a bound lease stays bound and only records
    /// the TTL). Refused when the key has no lease, the lease has expired, or another holder has it.
    public mutating func renew(key: String, holder: String, ttl: LeaseTTL, now: Int64) -> RenewAction {
        let ttlMs: Int64
        switch validate(key: key, holder: holder, ttl: ttl) {
        case .failure(let rejection): return .reject(rejection)
        case .success(let validated): ttlMs = validated
        }
        let leaseKey = LeaseKey(key)
        guard var record = leases[leaseKey] else { return .reject(LeaseRejection(.notHeld)) }
        guard isSameHolder(record.holder, holder) else {
            return .reject(refusalForOtherHolder(of: record, at: leaseKey, now: now))
        }
        guard record.isLive(at: now) else { return .reject(LeaseRejection(.expired)) }
        record.ttlMs = ttlMs
        if record.boundTo == nil { record.deadline = deadline(after: now, ttlMs: ttlMs) }
        let mustLog = ttlMs > record.loggedTTLMs
        if mustLog { record.loggedTTLMs = ttlMs }
        store(record, at: leaseKey)
        let grant = record.grant(key: leaseKey)
        guard mustLog else { return .renewed(grant) }
        let event = LeaseEvent.granted(
            key: key, holder: record.holder, token: record.token, ttlMs: ttlMs, boundTo: record.boundTo)
        return .appendToLog(event, grant)
    }

    /// Ends `holder`'s lease on `key`. As in streamkit, an expired lease that no tick has removed yet may
    /// still be released by its holder.
    public mutating func release(key: String, holder: String, now: Int64) -> ReleaseAction {
        if let rejection = validate(key: key, holder: holder) { return .reject(rejection) }
        let leaseKey = LeaseKey(key)
        guard let record = leases[leaseKey] else { return .reject(LeaseRejection(.notHeld)) }
        guard isSameHolder(record.holder, holder) else {
            return .reject(refusalForOtherHolder(of: record, at: leaseKey, now: now))
        }
        remove(leaseKey)
        return .appendToLog(.released(key: leaseKey.string, holder: record.holder, token: record.token))
    }

    /// Releases every lease bound to the worker `reference` (its presence ended) and returns one `released`
    /// event per lease, sorted by key, for the shell to log.
    public mutating func workerEnded(_ reference: UInt64, now: Int64) -> [LeaseEvent] {
        guard let keys = keysByWorker[reference] else { return [] }
        var events: [LeaseEvent] = []
        events.reserveCapacity(keys.count)
        for leaseKey in keys.sorted() {
            guard let record = leases[leaseKey] else {
                preconditionFailure("worker \(reference) lists key \(leaseKey.string) that has no lease")
            }
            remove(leaseKey)
            events.append(.released(key: leaseKey.string, holder: record.holder, token: record.token))
        }
        return events
    }

    // MARK: - Validation

    /// streamkit v1 §5.1's checks in its order, then coordd's byte limits (so that every request streamkit
    /// refuses is refused with streamkit's exact message).
    private func validate(key: String, holder: String, ttl: LeaseTTL) -> Result<Int64, LeaseRejection> {
        if key.isEmpty { return .failure(LeaseRejection(LeaseMessages.emptyKey)) }
        if holder.isEmpty { return .failure(LeaseRejection(LeaseMessages.emptyHolder)) }
        let ttlMs = ttl.validatedMilliseconds(maxTTLMs: limits.maxTTLMs)
        if case .failure = ttlMs { return ttlMs }
        if let rejection = validateSizes(key: key, holder: holder) { return .failure(rejection) }
        return ttlMs
    }

    /// The checks of a release, which carries no TTL.
    private func validate(key: String, holder: String) -> LeaseRejection? {
        if key.isEmpty { return LeaseRejection(LeaseMessages.emptyKey) }
        if holder.isEmpty { return LeaseRejection(LeaseMessages.emptyHolder) }
        return validateSizes(key: key, holder: holder)
    }

    private func validateSizes(key: String, holder: String) -> LeaseRejection? {
        if key.utf8.count > limits.maxKeyBytes { return LeaseRejection(LeaseMessages.keyTooLong(limits.maxKeyBytes)) }
        if holder.utf8.count > limits.maxHolderBytes {
            return LeaseRejection(LeaseMessages.holderTooLong(limits.maxHolderBytes))
        }
        return nil
    }

    /// `held` (with the current lease) while another holder's lease is live; once it has expired the key
    /// is simply not held by the caller.
    private func refusalForOtherHolder(of record: LeaseRecord, at leaseKey: LeaseKey, now: Int64) -> LeaseRejection {
        guard record.isLive(at: now) else { return LeaseRejection(.notHeld) }
        return LeaseRejection(.held, current: record.grant(key: leaseKey))
    }
}

/// The texts of validation failures, the only refusals streamkit gives a message (v1 §2.2). `emptyKey` and
/// `emptyHolder` are streamkit v1 §5.1's, word for word (the TTL texts live in `LeaseTTL`); the size limits
/// are coordd's. Refusals of valid requests carry a ``LeaseRefusal`` instead.
enum LeaseMessages {
    static let emptyKey = "lease key must not be empty"
    static let emptyHolder = "lease holder must not be empty"

    static func keyTooLong(_ limit: Int) -> String { "lease key exceeds maximum of \(limit) bytes" }
    static func holderTooLong(_ limit: Int) -> String { "lease holder exceeds maximum of \(limit) bytes" }
}
