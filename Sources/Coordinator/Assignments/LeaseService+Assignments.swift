import LeaseEngine
import StreamCore

/// One lease change an assignment action needs, carried out on the store's lease engine.
enum AssignmentLeaseStep: Sendable, Hashable {
    /// Acquire `key` for `holder`, bound to the presence reference `presence` (no deadline).
    case grant(key: String, holder: String, presence: UInt64)
    /// Release `holder`'s lease on `key`; a lease that already ended is passed over.
    case release(key: String, holder: String)
    /// End every lease bound to the presence reference (a member's own presence ended).
    case endPresence(UInt64)
}

extension LeaseService {
    /// The TTL recorded on assignment leases. They are bound to a presence and have no deadline while the
    /// daemon runs; after a restart the service releases them as it opens, so this never decides anything.
    static let assignmentLeaseTTL = LeaseTTL.milliseconds(30_000)

    /// Carries `steps` out in order under the engine's lock and appends all their events as one group, so
    /// a release is in the log before the grant that follows it. Returns each granted key's token (a grant
    /// the engine refused is missing, with the refusal) and the append to wait for (nil when nothing changed).
    func applyAssignmentSteps(_ steps: [AssignmentLeaseStep])
        -> (tokens: [String: UInt64], refused: [String: LeaseRejection], commit: Result<LogCommit, StreamsError>?)
    {
        engine.withLock { engine in
            let now = monotonicClock.nowMs()
            var events: [LeaseEvent] = []
            var tokens: [String: UInt64] = [:]
            var refused: [String: LeaseRejection] = [:]
            for step in steps {
                switch step {
                case .grant(let key, let holder, let presence):
                    switch engine.acquire(key: key, holder: holder, ttl: Self.assignmentLeaseTTL, boundTo: presence, now: now) {
                    case .appendToLog(let event, let grant):
                        events.append(event)
                        tokens[key] = grant.token
                    case .reject(let rejection):
                        refused[key] = rejection
                    }
                case .release(let key, let holder):
                    if case .appendToLog(let event) = engine.release(key: key, holder: holder, now: now) { events.append(event) }
                case .endPresence(let reference):
                    events += engine.workerEnded(reference, now: now)
                }
            }
            return (tokens, refused, events.isEmpty ? nil : append(events, engine))
        }
    }

    /// Releases every lease whose key starts with `prefix` and waits until the releases are durable; the
    /// number released. Assignment leases outlive their presences only across a restart (they come back as
    /// plain TTL leases), so the service releases them as the store opens.
    func releaseAll(prefix: String) async throws(StreamsError) -> Int {
        let (count, commit) = engine.withLock { engine -> (Int, Result<LogCommit, StreamsError>?) in
            let now = monotonicClock.nowMs()
            var events: [LeaseEvent] = []
            for grant in engine.list(prefix: prefix, now: now) {
                if case .appendToLog(let event) = engine.release(key: grant.key, holder: grant.holder, now: now) {
                    events.append(event)
                }
            }
            return (events.count, events.isEmpty ? nil : append(events, engine))
        }
        try await waitDurable(commit)
        return count
    }
}
