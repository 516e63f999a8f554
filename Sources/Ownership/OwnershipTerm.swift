/// What an owner should do about one store's ownership now.
public enum OwnershipDecision: Sendable, Equatable {
    /// Keep serving; look again at `untilMs` (or earlier, when something changes).
    case serve(untilMs: Int64)
    /// Send a renewal now (nothing is in flight, and one is due).
    case renew
    /// Stop serving the store now: its safe deadline passed, or PostgreSQL said the epoch is no longer
    /// this owner's. End its streams and drop its in-memory state.
    case stepDown(StepDownReason)
}

/// Why an owner stepped down.
public enum StepDownReason: Sendable, Equatable {
    /// No renewal committed in time: the owner's safe deadline passed (PostgreSQL unreachable or slow,
    /// or this process was paused).
    case deadlinePassed
    /// A renewal found the ownership taken over (another owner, or a newer epoch).
    case lost
}

/// One owned store's ownership as its owner sees it, on the owner's monotonic clock: until when it may
/// serve (the safe deadline of the last committed take-over or renewal), when to renew, and whether a
/// renewal is in flight. Pure: every time is a parameter, and the shell carries out the decisions.
///
/// The rule: a renewal the owner started at `t0` that committed makes the store safe until
/// `t0 + TTL − margin` (``OwnershipTiming/safeDeadline(startedAtMs:)``). Renewals are due every
/// ``OwnershipTiming/renewIntervalMs`` after the start of the last committed one; a failed renewal is
/// tried again after ``OwnershipTiming/retryIntervalMs``; once the safe deadline passes, or a renewal
/// reports the ownership lost, the decision is to step down, and stays so.
public struct OwnershipTerm: Sendable, Equatable {
    /// The timing in force.
    public let timing: OwnershipTiming
    /// Until when the owner may serve.
    public private(set) var safeUntilMs: Int64
    /// When the next renewal should be sent.
    public private(set) var renewAtMs: Int64
    /// When the renewal in flight was started, if one is.
    public private(set) var renewingSinceMs: Int64?
    /// Set once the ownership was reported lost.
    public private(set) var lost = false

    /// The term of a take-over that the owner started at `startedAtMs` and that committed.
    public init(takenOverAtMs startedAtMs: Int64, timing: OwnershipTiming) {
        self.timing = timing
        safeUntilMs = timing.safeDeadline(startedAtMs: startedAtMs)
        renewAtMs = startedAtMs + timing.renewIntervalMs
    }

    /// What to do at `nowMs`.
    public func decision(nowMs: Int64) -> OwnershipDecision {
        if lost { return .stepDown(.lost) }
        if nowMs >= safeUntilMs { return .stepDown(.deadlinePassed) }
        if renewingSinceMs == nil, nowMs >= renewAtMs { return .renew }
        // While a renewal is in flight only the deadline can come next.
        return .serve(untilMs: renewingSinceMs == nil ? min(renewAtMs, safeUntilMs) : safeUntilMs)
    }

    /// A renewal was sent at `nowMs` (read before sending it).
    public mutating func renewalStarted(atMs nowMs: Int64) {
        renewingSinceMs = nowMs
    }

    /// The renewal in flight committed: the store is safe until its start + TTL − margin (never earlier
    /// than an earlier renewal made it), and the next one is due a renew interval after its start.
    public mutating func renewalCommitted() {
        guard let started = renewingSinceMs else { return }
        renewingSinceMs = nil
        safeUntilMs = max(safeUntilMs, timing.safeDeadline(startedAtMs: started))
        renewAtMs = started + timing.renewIntervalMs
    }

    /// The renewal in flight failed at `nowMs` without an answer about the ownership (PostgreSQL could
    /// not be reached, the statement timed out): try again after the retry interval; the safe deadline
    /// stays where the last committed renewal put it.
    public mutating func renewalFailed(atMs nowMs: Int64) {
        renewingSinceMs = nil
        renewAtMs = nowMs + timing.retryIntervalMs
    }

    /// PostgreSQL answered that the ownership is no longer this owner's epoch: step down at once.
    public mutating func renewalLost() {
        renewingSinceMs = nil
        lost = true
    }
}
