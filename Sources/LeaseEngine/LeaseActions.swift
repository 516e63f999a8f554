/// Why a valid lease request was refused. The raw values are the stable names the shell sends as
/// `LeaseResult.reason`.
public enum LeaseRefusal: String, Sendable, Hashable, CaseIterable {
    /// Another holder's lease on the key is live (streamkit's contention).
    case held
    /// The key has no lease of the caller: none at all, or another holder's that has expired.
    case notHeld = "not_held"
    /// The caller's own lease has passed its deadline.
    case expired
    /// Every fencing token has been issued; no new grant can get a greater one.
    case tokensExhausted = "tokens_exhausted"
    /// The lease was to be bound to a worker that is not registered.
    case workerNotRegistered = "worker_not_registered"
}

/// What the shell must do after an acquire.
public enum AcquireAction: Sendable, Hashable {
    /// The engine has granted the lease: append the event, wait until it is durable, then answer ok with
    /// the grant (its token is the client's fencing token).
    case appendToLog(LeaseEvent, LeaseGrant)
    /// Answer `{"ok":false,…}` with the validation text or the refusal's reason; nothing is logged.
    case reject(LeaseRejection)

    /// The event the shell must append to the lease log, if any.
    public var event: LeaseEvent? {
        if case .appendToLog(let event, _) = self { event } else { nil }
    }
}

/// What the shell must do after a renew.
public enum RenewAction: Sendable, Hashable {
    /// The lease was renewed: answer ok at once. Nothing is logged, because recovery restores every live
    /// lease with a fresh full logged TTL, which is at least this renewal's TTL.
    case renewed(LeaseGrant)
    /// The lease was renewed with a TTL longer than the one last logged for it: append the event and answer
    /// only once it is durable, so that a restart can never restore the lease with a shorter TTL than the
    /// client was promised.
    case appendToLog(LeaseEvent, LeaseGrant)
    /// Answer `{"ok":false,…}` with the validation text or the refusal's reason; nothing is logged.
    case reject(LeaseRejection)

    /// The event the shell must append to the lease log, if any (a renewal that lengthens the TTL).
    public var event: LeaseEvent? {
        if case .appendToLog(let event, _) = self { event } else { nil }
    }
}

/// What the shell must do after a release.
public enum ReleaseAction: Sendable, Hashable {
    /// The lease is gone: append the event, wait until it is durable, then answer ok.
    case appendToLog(LeaseEvent)
    /// Answer `{"ok":false,…}` with the validation text or the refusal's reason; nothing is logged.
    case reject(LeaseRejection)

    /// The event the shell must append to the lease log, if any.
    public var event: LeaseEvent? {
        if case .appendToLog(let event) = self { event } else { nil }
    }
}

/// The outcome of one `tick(now:)`.
public struct TickResult: Sendable, Hashable {
    /// One `expired` event per lease that ended, in deadline order; the shell appends them to the log.
    public var events: [LeaseEvent]
    /// When to tick next: the earliest pending deadline, or nil when no lease can expire by time. When
    /// `more` is set this is at or before `now`, meaning "call again now".
    public var nextDeadline: Int64?
    /// True when the tick stopped at `LeaseLimits.maxExpiriesPerTick` with leases still due.
    public var more: Bool

    /// Creates a tick result.
    public init(events: [LeaseEvent], nextDeadline: Int64?, more: Bool) {
        self.events = events
        self.nextDeadline = nextDeadline
        self.more = more
    }
}

/// The answer to "may a writer holding this fencing token act on this key now?".
public enum FenceCheck: Sendable, Hashable {
    /// The key's lease is live and carries exactly the presented token.
    case ok
    /// No lease exists on the key.
    case noLease
    /// The key's lease (carrying `token`) has passed its deadline.
    case expired(token: UInt64)
    /// The key's live lease carries a different token than the one presented.
    case tokenMismatch(presented: UInt64, current: UInt64)

    /// True only for `.ok`.
    public var isOK: Bool { self == .ok }

    /// Human text for a failed check (the shell sends it with the permanent error `fence_mismatch`); empty
    /// for `.ok`.
    public var message: String {
        switch self {
        case .ok:
            return ""
        case .noLease:
            return "no lease is held on the key"
        case .expired(let token):
            return "the lease with fencing token \(token) has expired"
        case .tokenMismatch(let presented, let current) where presented < current:
            return "fencing token \(presented) is stale: current is \(current)"
        case .tokenMismatch(let presented, let current):
            return "fencing token \(presented) was not issued for this lease: current is \(current)"
        }
    }
}
