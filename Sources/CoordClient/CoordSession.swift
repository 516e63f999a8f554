import StreamCore
import Synchronization
import Transport

/// A registered presence that leases are bound to, as etcd's `concurrency.Session`: one heartbeat keeps
/// every lease of the session, and losing the session loses them all at once.
///
/// The session is a worker registration (presence-only unless asked otherwise, with metadata). Leases it
/// takes carry its `worker_id`, so the server ends them when its presence ends: the stream closes, the
/// connection is lost, the worker id is registered elsewhere, or the server evicts it after its presence
/// TTL. The client learns of a closed stream at once and of a silent one after three heartbeat intervals;
/// it then cancels every body running under the session's leases. A session does not reconnect: after a
/// loss, open a new one (its leases are gone on the server too).
///
/// For the silence check to fire before the server's eviction, the heartbeat interval should be under a
/// quarter of the server's presence TTL floor (`--presence-ttl-floor`, 30 s by default): the default 5 s is.
public final class CoordSession: Sendable {
    /// The session's worker id, sent as `worker_id` with every lease it takes.
    public let id: WireUUID
    /// The client it runs on.
    public let client: CoordClient
    /// The registration carrying its presence (its `inventories` yield the worker inventory unless the
    /// session is presence-only).
    public let registration: WorkerRegistration
    private let state = Mutex(State())
    private let watcher: Mutex<Task<Void, Never>?> = Mutex(nil)

    private struct State {
        /// nil while alive; `.some(nil)` once closed; `.some(error)` once lost.
        var ended: CoordError??
        var waiters: [UInt64: CheckedContinuation<CoordError?, Never>] = [:]
        var lastWaiter: UInt64 = 0
    }

    init(id: WireUUID, client: CoordClient, registration: WorkerRegistration) {
        self.id = id
        self.client = client
        self.registration = registration
        let task = Task { [weak self, registration] in
            let error = await registration.waitUntilEnded()
            self?.end(error.map { CoordError.sessionLost("\($0.name): \($0.message)") })
        }
        watcher.withLock { $0 = task }
    }

    deinit {
        watcher.withLock { $0?.cancel() }
        registration.close()
    }

    /// The holder name the session's leases use unless told otherwise: its id.
    public var holder: String { id.description }

    /// True once the session has ended (lost or closed).
    public var hasEnded: Bool { state.withLock { $0.ended != nil } }

    /// Waits until the session ends; returns why it was lost, or nil when it was closed. Returns nil at
    /// once when the waiting task is cancelled.
    public func waitUntilLost() async -> CoordError? {
        let id = state.withLock { s -> UInt64 in
            s.lastWaiter += 1
            return s.lastWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<CoordError?, Never>) in
                let ended = state.withLock { s -> CoordError?? in
                    if let ended = s.ended { return .some(ended) }
                    if Task.isCancelled { return .some(nil) }
                    s.waiters[id] = continuation
                    return nil
                }
                if let ended { continuation.resume(returning: ended) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: nil)
        }
    }

    /// Acquires `key` bound to this session (at once, or waiting up to `wait` for it to be released or to
    /// expire). The lease needs no renewals: it lasts until ``release(_:)``, or until the session ends.
    /// `ttl` is what the lease falls back to if the daemon restarts (a bound lease comes back as a plain
    /// TTL lease then).
    public func acquire(key: String, ttl: Duration = .seconds(30), holder: String? = nil, wait: Duration? = nil)
        async throws -> HeldLease
    {
        if let lost = state.withLock({ $0.ended }) { throw lost ?? CoordError.sessionLost("the session was closed") }
        let holder = holder ?? self.holder
        let (granted, _) = try await client.acquireOrWait(key: key, holder: holder, ttl: ttl, workerID: id, wait: wait)
        guard let fence = granted.fence else { throw CoordError.notAcquired(key, granted) }
        return HeldLease(key: key, holder: holder, fence: fence)
    }

    /// Releases a lease taken with ``acquire(key:ttl:holder:wait:)``.
    public func release(_ lease: HeldLease) async throws {
        let client = self.client
        let result = try await coordErrors { try await client.release(key: lease.key, holder: lease.holder) }
        guard result.ok else { throw CoordError.leaseLost(key: lease.key, message: result.refusalDescription) }
    }

    /// Runs `body` holding `key` bound to this session, and releases it when `body` ends. `body` is cancelled
    /// when the session is lost, and the call then throws ``CoordError/leaseLost(key:message:)``.
    public func withLease<T: Sendable>(
        key: String, ttl: Duration = .seconds(30), holder: String? = nil, wait: Duration? = nil,
        body: @escaping @Sendable (HeldLease) async throws -> T
    ) async throws -> T {
        let lease = try await acquire(key: key, ttl: ttl, holder: holder, wait: wait)
        let outcome: Result<SessionLeaseOutcome<T>, any Error>
        do {
            outcome = .success(try await withThrowingTaskGroup(of: SessionLeaseOutcome<T>.self) { group in
                group.addTask { .finished(try await body(lease)) }
                group.addTask { .lost(await self.waitUntilLost()) }
                // Both children exist, so `next()` yields at least one outcome.
                let first = try await group.next()!
                group.cancelAll()
                return first
            })
        } catch {
            outcome = .failure(error)
        }
        if !hasEnded {
            await client.releaseOnExit(key: lease.key, holder: lease.holder, timeoutMs: LeaseKeepingLimits().releaseTimeoutMs)
        }
        switch try outcome.get() {
        case .finished(let value):
            return value
        case .lost(let error):
            if Task.isCancelled { throw CancellationError() }
            throw CoordError.leaseLost(key: key, message: (error ?? .sessionLost("the session was closed")).description)
        }
    }

    /// Ends the session: the server removes its presence and releases every lease bound to it.
    public func close() {
        registration.close()
        end(nil)
    }

    private func end(_ error: CoordError?) {
        let waiters = state.withLock { s -> [CheckedContinuation<CoordError?, Never>] in
            guard s.ended == nil else { return [] }
            s.ended = .some(error)
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: error) }
    }
}

/// How a session lease's body ended: on its own, or because the session ended first (nil: closed).
enum SessionLeaseOutcome<T: Sendable>: Sendable {
    case finished(T)
    case lost(CoordError?)
}

/// Named limits of a session.
public struct SessionLimits: Sendable {
    /// The presence heartbeat: the client renews every interval and counts the session lost after three
    /// intervals without a message from the server. 5 s keeps three intervals well under the server's
    /// default 30 s presence TTL floor, and costs one small message each way per interval.
    public static let defaultHeartbeatInterval: Duration = .seconds(5)
}

extension CoordClient {
    /// Opens a session: registers a worker with `id` and `metadata`, waits for the server to acknowledge
    /// it, and renews its presence every `heartbeatInterval` until ``CoordSession/close()``. With
    /// `presenceOnly` false the session's registration also receives the worker inventory.
    public func session(
        id: WireUUID = .random(), metadata: [String: String] = [:],
        heartbeatInterval: Duration = SessionLimits.defaultHeartbeatInterval, presenceOnly: Bool = true
    ) async throws -> CoordSession {
        let intervalMs = Self.milliseconds(heartbeatInterval)
        let request = Self.registrationRequest(id: id, metadata: metadata, heartbeatIntervalMs: intervalMs, presenceOnly: presenceOnly)
        let client = self
        let stream = try await coordErrors { try await client.open(request) }
        // The first message (a heartbeat, or the first inventory) says the worker is registered: a lease
        // bound to it may be asked for from now on.
        let first: any EnvelopedMessage
        do {
            guard let bytes = try await stream.receive() else {
                throw StreamsError.streamClosed("the server ended the session's registration")
            }
            first = try Envelope.decode(bytes)
        } catch let error as StreamsError {
            stream.close(error: nil)
            throw typed(error)
        }
        let registration = registration(request, stream: stream, heartbeatIntervalMs: intervalMs, reconnects: false)
        if let inventory = first as? WorkerInventory { registration.inventories.latest.offer(inventory) }
        return CoordSession(id: id, client: self, registration: registration)
    }

    /// Runs `body` with a new session (``session(id:metadata:heartbeatInterval:presenceOnly:)``) and closes
    /// it when `body` ends, releasing every lease still bound to it.
    public func withSession<T>(
        id: WireUUID = .random(), metadata: [String: String] = [:],
        heartbeatInterval: Duration = SessionLimits.defaultHeartbeatInterval, presenceOnly: Bool = true,
        isolation: isolated (any Actor)? = #isolation, _ body: (CoordSession) async throws -> T
    ) async throws -> T {
        let session = try await session(id: id, metadata: metadata, heartbeatInterval: heartbeatInterval, presenceOnly: presenceOnly)
        defer { session.close() }
        return try await body(session)
    }
}
