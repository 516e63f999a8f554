import LeaseEngine
import StreamCore

/// What a store's shells tell operators: one line per event through the node's logger (info for what
/// happens, warn for what fails; the daemon's logger rate-limits them) and the matching counters.
///
/// Handed by the node to its inventory and lease shells: the engines return events (a registration's
/// replaced stream, a sweep's evictions, a lease log event), and this decides their lines and counts.
/// Lease keys and holders are written as given (they are names, not secrets); tokens never reach it.
struct StoreEventLog: Sendable {
    /// The store the events belong to.
    let store: WireUUID
    let logger: Logger
    let metrics: any NodeMetrics

    /// Reports nothing: for shells built without a node (tests of one shell).
    static let silent = StoreEventLog(store: .nil, logger: Logger(sink: { _ in }), metrics: NoNodeMetrics())

    // MARK: Workers

    /// A worker registered; `replaced` when its id was registered by another stream, which now ends.
    func workerJoined(_ worker: WireUUID, replaced: Bool) {
        metrics.workerPresence(replaced ? .replaced : .joined)
        logger.info(replaced ? "worker replaced" : "worker joined", ["store": store, "worker": worker])
    }

    /// A worker's stream ended and its presence with it.
    func workerLeft(_ worker: WireUUID) {
        metrics.workerPresence(.left)
        logger.info("worker left", ["store": store, "worker": worker])
    }

    /// A worker stopped renewing: its presence expired and its stream is ended.
    func workerEvicted(_ worker: WireUUID) {
        metrics.workerPresence(.evicted)
        logger.info("worker evicted", ["store": store, "worker": worker])
    }

    // MARK: Leases

    /// A lease event became durable: a grant (from `operation`), a release, or an expiry. A release
    /// logged because the worker its lease was bound to ended says so.
    func leaseLogged(_ event: LeaseEvent, operation: String, worker: WireUUID? = nil) {
        switch event {
        case .granted(let key, let holder, let token, let ttlMs, _):
            metrics.leaseOperation(operation, outcome: operation == "renew" ? "renewed" : "granted")
            guard operation != "renew" else { return }
            if let worker {
                logger.info("lease granted", ["store": store, "key": key, "holder": holder, "fence": token, "ttl_ms": ttlMs,
                                              "worker": worker])
            } else {
                logger.info("lease granted", ["store": store, "key": key, "holder": holder, "fence": token, "ttl_ms": ttlMs])
            }
        case .released(let key, let holder, let token):
            let ended = operation == Self.workerEndedOperation
            metrics.leaseOperation("release", outcome: ended ? "worker_ended" : "released")
            logger.info("lease released", ["store": store, "key": key, "holder": holder, "fence": token,
                                           "reason": ended ? "worker_ended" : "released"])
        case .expired(let key, let token):
            metrics.leaseOperation("expire", outcome: "expired")
            logger.info("lease expired", ["store": store, "key": key, "fence": token])
        }
    }

    /// The operation name under which releases of worker-bound leases are logged.
    static let workerEndedOperation = "worker_ended"

    /// A renewal answered without logging (it did not lengthen the logged TTL): counted only.
    func leaseRenewed() {
        metrics.leaseOperation("renew", outcome: "renewed")
    }

    /// A lease request refused: its refusal's reason (`held`, `not_held`, …), or `invalid` for a request
    /// that failed validation. Counted only: contention is normal operation.
    func leaseRefused(_ operation: String, _ rejection: LeaseRejection) {
        metrics.leaseOperation(operation, outcome: rejection.refusal?.rawValue ?? "invalid")
    }

    /// A lease operation's event could not be made durable (the storage failure is reported on its own).
    func leaseFailed(_ operation: String) {
        metrics.leaseOperation(operation, outcome: "failed")
    }

    /// A fenced append presented a fence that is not the key's live lease.
    func fenceMismatch() {
        metrics.leaseOperation("fence_check", outcome: "mismatch")
    }

    // MARK: Failures

    /// A failed system call beneath `error`, met serving `operation` (a stream's operation, or
    /// `lease_expiry` and `worker_ended` for the lease log's own appends): one warn line named after the
    /// resource that ran out (see ``FailureLine``) and its counter. Errors without a system cause are
    /// the stream's business only (counted with the stream's error).
    func storageFailed(_ error: StreamsError, during operation: String) {
        guard let cause = error.cause else { return }
        let shortage = cause.shortage
        if let shortage { metrics.resourceExhausted(shortage, during: operation) }
        logger.warn(FailureLine.message(for: shortage), [
            "store": store, "operation": operation, "call": cause.call, "errno": ErrnoName.of(cause.errno),
            "error": error.message,
        ])
    }
}
