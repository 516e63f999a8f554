import StreamCore
import Synchronization
import Transport

/// A held lease as `withLease` hands it to its body: the fencing token to attach to writes.
public struct HeldLease: Sendable, Equatable {
    /// The lease key.
    public var key: String
    /// This holder.
    public var holder: String
    /// The fencing token; pass it as `Produce`'s `fence` so a write is refused once the lease moved on.
    public var fence: UInt64

    /// The `fence` value for a produce under this lease.
    public var produceFence: Fence { Fence(key: key, token: fence) }
}

extension StreamsError {
    /// The lease was refused: another holder has it (`message` says who and until when), or the
    /// refusal's reason. A request that failed validation is `invalid_request` instead.
    public static func leaseNotAcquired(_ message: String) -> StreamsError {
        StreamsError(.transient, name: "lease_not_acquired", message: message)
    }
}

/// Named limits of the client's lease keeping.
public struct LeaseKeepingLimits: Sendable {
    /// Renew this many times per TTL (coordd renews every ttl/3; streamkit every ttl/2).
    public var renewalsPerTTL: Int64 = 3
    /// The body is cancelled this fraction of the TTL before the lease could expire on the server.
    public var safetyMarginDivisor: Int64 = 10
    /// Longest wait for the release when the body ends.
    public var releaseTimeoutMs: Int64 = 10_000

    /// The default limits.
    public init() {}
}

extension CoordClient {
    /// Acquires `key` for `holder` for `ttl` (sub-second TTLs use coordd's `ttl_ms`; `ttl_seconds` is sent
    /// too, rounded up, so streamkit servers understand the request). With `workerID`, the lease is bound
    /// to that registered worker's presence and needs no renewals while it lives.
    ///
    /// A refusal is returned (`ok` false, with the holder in the way or the `reason`); a request the
    /// server finds invalid (an empty key, a TTL beyond the maximum) throws `invalid_request` with the
    /// server's text, since trying it again cannot succeed. The same holds for `renew` and `release`.
    public func acquire(key: String, holder: String, ttl: Duration, workerID: WireUUID? = nil)
        async throws(StreamsError) -> LeaseResult
    {
        try Self.valid(await single(LeaseAcquire(terms: Self.terms(key, holder, ttl), workerID: workerID), as: LeaseResult.self))
    }

    /// Renews `holder`'s live lease on `key` for another `ttl`.
    public func renew(key: String, holder: String, ttl: Duration) async throws(StreamsError) -> LeaseResult {
        try Self.valid(await single(LeaseRenew(terms: Self.terms(key, holder, ttl)), as: LeaseResult.self))
    }

    /// Releases `holder`'s lease on `key`.
    public func release(key: String, holder: String) async throws(StreamsError) -> LeaseResult {
        try Self.valid(await single(LeaseRelease(key: key, holder: holder), as: LeaseResult.self))
    }

    /// The result, unless it says the request failed validation: then `invalid_request` with its text
    /// (streamkit fills `message` for validation failures only, v1 §2.2).
    static func valid(_ result: LeaseResult) throws(StreamsError) -> LeaseResult {
        guard result.isValidationFailure else { return result }
        throw .invalidRequest(result.message)
    }

    /// Live leases whose key starts with `prefix`, in key order.
    public func leases(prefix: String = "", limit: UInt64 = 0) async throws(StreamsError) -> [LeaseInfo] {
        try await sequence(LeaseList(prefix: prefix, limit: limit), of: LeaseInfo.self).collectAll()
    }

    /// Runs `body` while holding the lease on `key`, and releases it when `body` ends.
    ///
    /// Acquires — at once, or with `wait`, waiting up to that long for the key to be released or to
    /// expire (woken by the server, see ``acquire(key:holder:ttl:workerID:waitingUpTo:)``) — then renews
    /// every ttl/3 (on the `lease_renewals` stream this client's keepers share, or a stream per renewal
    /// against a server without it) and cancels `body`, which must then stop its work, when a renewal is refused or when no
    /// renewal has succeeded by the local safe deadline: the send time of the last successful renewal +
    /// TTL − a margin (TTL/10). Since the server's deadline is at least the receive time of that renewal +
    /// TTL, the body is cancelled before the lease can be granted elsewhere.
    ///
    /// With `session`, the lease is bound to the session instead (``CoordSession/withLease(key:ttl:holder:wait:body:)``):
    /// no renewals, and the body is cancelled when the session is lost.
    ///
    /// Returns `body`'s result. Throws ``CoordError/leaseNotAcquired(key:reason:holder:fence:expiresAt:)``
    /// when another holder has the key, ``CoordError/waitTimedOut(key:holder:fence:)`` when `wait` ran
    /// out, ``CoordError/invalidRequest(_:)`` when the server finds the request invalid,
    /// ``CoordError/leaseLost(key:message:)`` when the lease was lost first, `CancellationError` when the
    /// calling task was cancelled, and whatever `body` throws.
    public func withLease<T: Sendable>(
        key: String, ttl: Duration, holder: String = WireUUID.random().description, session: CoordSession? = nil,
        wait: Duration? = nil, limits: LeaseKeepingLimits = LeaseKeepingLimits(),
        body: @escaping @Sendable (HeldLease) async throws -> T
    ) async throws -> T {
        if let session {
            return try await session.withLease(key: key, ttl: ttl, holder: holder, wait: wait, body: body)
        }
        let clock = SystemMonotonicClock()
        let ttlMs = Self.milliseconds(ttl)
        let (granted, sentAt) = try await acquireOrWait(key: key, holder: holder, ttl: ttl, workerID: nil, wait: wait)
        guard let fence = granted.fence else { throw CoordError.notAcquired(key, granted) }
        let lease = HeldLease(key: key, holder: holder, fence: fence)
        leaseKeepers.begin()
        defer { leaseKeepers.end() }
        let margin = max(ttlMs / limits.safetyMarginDivisor, 1)
        let deadline = SafeDeadline(sentAt + ttlMs - margin)
        let outcome: Result<LeaseOutcome<T>, any Error>
        do {
            outcome = .success(try await withThrowingTaskGroup(of: LeaseOutcome<T>.self) { group in
                group.addTask { .finished(try await body(lease)) }
                group.addTask {
                    .lost(await self.keep(lease, ttl: ttl, ttlMs: ttlMs, margin: margin, limits: limits, clock: clock,
                                          deadline: deadline))
                }
                // Both children exist, so `next()` yields at least one outcome.
                let first = try await group.next()!
                group.cancelAll()
                return first
            })
        } catch {
            outcome = .failure(error)
        }
        await releaseOnExit(key: key, holder: holder, timeoutMs: limits.releaseTimeoutMs)
        switch try outcome.get() {
        case .finished(let value): return value
        case .lost(let error):
            if error == .cancelled { throw CancellationError() }
            if error.name == StreamsError.invalidRequest("").name { throw CoordError(error) }
            throw CoordError.leaseLost(key: key, message: error.message)
        }
    }

    /// Releases a lease whose body ended, waiting at most `timeoutMs`, also when the calling task was
    /// cancelled: the release runs in a task of its own, which does not inherit the cancellation.
    func releaseOnExit(key: String, holder: String, timeoutMs: Int64) async {
        let client = self
        await Task {
            _ = try? await withDeadlineMs(timeoutMs) { try await client.release(key: key, holder: holder) }
        }.value
    }

    /// Renews until a renewal is refused or the safe deadline passes; returns why the lease is lost.
    private func keep(_ lease: HeldLease, ttl: Duration, ttlMs: Int64, margin: Int64, limits: LeaseKeepingLimits,
                      clock: SystemMonotonicClock, deadline safeDeadline: SafeDeadline) async -> StreamsError {
        let interval = max(ttlMs / limits.renewalsPerTTL, 1)
        var nextRenewal = clock.nowMs() + interval
        while true {
            let deadline = safeDeadline.value.load(ordering: .acquiring)
            let now = clock.nowMs()
            if now >= deadline { return .streamClosed("not renewed in time (local safe deadline passed)") }
            if now < nextRenewal {
                try? await Task.sleep(for: .milliseconds(min(nextRenewal, deadline) - now))
                if Task.isCancelled { return .cancelled }
                continue
            }
            let sentAt = clock.nowMs()
            nextRenewal = sentAt + interval
            // A renewal may hang; it must not hold the watchdog past the safe deadline.
            let remaining = max(deadline - sentAt, 1)
            let client = self
            let answer: LeaseResult?
            do {
                answer = try await withDeadlineMs(remaining) {
                    try await client.leaseKeepers.renew(key: lease.key, holder: lease.holder, ttl: ttl, client: client)
                }
            } catch let error as StreamsError where error.name == StreamsError.invalidRequest("").name {
                return error  // Renewing again cannot succeed.
            } catch {
                answer = nil  // Lost on the way: the next renewal, or the safe deadline, decides.
            }
            if Task.isCancelled { return .cancelled }
            guard let answer else { continue }
            guard answer.ok else {
                return .streamClosed("renewal refused: \(answer.refusalDescription)")
            }
            safeDeadline.value.store(sentAt + ttlMs - margin, ordering: .releasing)
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        max(duration.wholeMilliseconds, 1)
    }

    static func terms(_ key: String, _ holder: String, _ ttl: Duration) -> LeaseTerms {
        let ms = milliseconds(ttl)
        let seconds = max((ms + 999) / 1_000, 1)
        return LeaseTerms(key: key, holder: holder, ttlSeconds: seconds, ttlMs: ms % 1_000 == 0 ? nil : ms)
    }
}

/// How a `withLease` body ended: on its own, or because the lease was lost.
enum LeaseOutcome<T: Sendable>: Sendable {
    case finished(T)
    case lost(StreamsError)
}

/// The local safe deadline of a held lease (monotonic ms), moved forward by each successful renewal.
final class SafeDeadline: Sendable {
    let value: Atomic<Int64>

    init(_ ms: Int64) { value = Atomic(ms) }
}

/// Runs `body`, giving up after `ms` milliseconds (nil then).
func withDeadlineMs<T: Sendable>(_ ms: Int64, _ body: @escaping @Sendable () async throws -> T) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(ms))
            return nil
        }
        defer { group.cancelAll() }
        // Two children were added, so `next()` yields at least one result.
        return try await group.next()!
    }
}

extension MessageSequence {
    /// Every element until the server ends the stream.
    func collectAll() async throws(StreamsError) -> [Element] {
        var items: [Element] = []
        for try await item in self { items.append(item) }
        return items
    }
}
