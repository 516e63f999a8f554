import StreamCore

/// What a node reports as it serves streams: handed in through ``NodeConfiguration`` so the daemon can
/// count it and tests can leave it out. Calls come from many tasks at once and must be cheap.
public protocol NodeMetrics: Sendable {
    /// A stream began serving `operation` (the last path component of its request's discriminator,
    /// e.g. `produce`, `lease_acquire`; `invalid` when the first message was not a request).
    func streamStarted(operation: String)
    /// A stream of `operation` ended with `error` (sent to the client on that stream).
    func streamFailed(operation: String, error: StreamsError)
    /// A produce chunk was committed: `entries` records holding `payloadBytes` payload bytes.
    func produced(entries: Int, payloadBytes: Int)
    /// `count` inventory messages (snapshots or deltas) were handed to subscribers' streams.
    func inventoryDelivered(_ count: Int)
    /// A stream of `operation` that ends by itself (not a subscription) took `seconds` from its request
    /// to its end.
    func operationFinished(operation: String, seconds: Double)
    /// A lease `operation` (`acquire`, `renew`, `release`, `expire`, `fence_check`) had `outcome`
    /// (`granted`, `renewed`, `released`, `expired`, `worker_ended`, a refusal's reason, `invalid`,
    /// `mismatch`, `failed`).
    func leaseOperation(_ operation: String, outcome: String)
    /// A worker's presence changed.
    func workerPresence(_ change: WorkerPresenceChange)
    /// A system resource ran out `during` an operation (a stream's operation, `lease_expiry`,
    /// `worker_ended`, `store_open`).
    func resourceExhausted(_ resource: ResourceShortage, during: String)
    /// A store could not be opened, for `cause` (a ``ResourceShortage`` name, or `error`).
    func storeOpenFailed(cause: String)
}

/// What happened to a worker's presence, as counted.
public enum WorkerPresenceChange: String, Sendable, Hashable, CaseIterable {
    /// A worker registered.
    case joined
    /// A worker registered again on a new stream, replacing its old one.
    case replaced
    /// A worker's stream ended.
    case left
    /// A worker stopped renewing and its presence expired.
    case evicted
}

/// Reports nothing: the default when no metrics are wanted.
public struct NoNodeMetrics: NodeMetrics {
    /// Creates the no-op reporter.
    public init() {}

    public func streamStarted(operation: String) {}
    public func streamFailed(operation: String, error: StreamsError) {}
    public func produced(entries: Int, payloadBytes: Int) {}
    public func inventoryDelivered(_ count: Int) {}
    public func operationFinished(operation: String, seconds: Double) {}
    public func leaseOperation(_ operation: String, outcome: String) {}
    public func workerPresence(_ change: WorkerPresenceChange) {}
    public func resourceExhausted(_ resource: ResourceShortage, during: String) {}
    public func storeOpenFailed(cause: String) {}
}

extension Node {
    /// The operation name metrics and logs use for a request: its discriminator's last path component,
    /// except that a `produce_batches` stream is a `produce` (the same operation, its records many to a
    /// message: what operators count and alert on does not depend on how a client sends them). Taken
    /// without `split`, whose array of pieces was a measurable share of a lease renewal's CPU time.
    static func operationName(of request: any EnvelopedMessage) -> String {
        if request is ProduceBatches { return produceOperation }
        let discriminator = type(of: request).discriminator
        // Scanned as bytes: a search by Character breaks graphemes, which cost a visible share of a
        // lease write's CPU for a name read on every stream.
        guard let slash = discriminator.utf8.lastIndex(of: UInt8(ascii: "/")) else { return discriminator }
        return String(discriminator[discriminator.utf8.index(after: slash)...])
    }

    /// The operation name of a stream whose first message was not a valid request.
    static let invalidOperation = "invalid"
    /// The operation name of both produce streams.
    static let produceOperation = "produce"
}
