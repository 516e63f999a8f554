/// The outcome of `WorkerRegistry.register`.
public enum RegisterResult: Hashable, Sendable {
    /// The worker is registered and the inventory changed.
    ///
    /// `replaced` is the stream that owned this worker id until now; the shell ends it with
    /// `worker_id registered by another stream`. Ending it later changes nothing further: the
    /// replacement was this one change.
    case accepted(change: InventoryChange, replaced: StreamID?)
    /// Nothing changed; the shell ends the registering stream with the rejection's message.
    case rejected(RegistryRejection)
}

/// Why a registration was refused. Operating errors, reported to the client, never a crash.
public enum RegistryRejection: Error, Hashable, Sendable, CustomStringConvertible {
    /// The registry already holds `InventoryLimits.maxWorkers` workers.
    case tooManyWorkers(limit: Int)
    /// The worker's metadata has more entries than `InventoryLimits.maxMetadataEntries`.
    case tooManyMetadataEntries(count: Int, limit: Int)
    /// The worker's metadata keys and values sum to more UTF-8 bytes than `InventoryLimits.maxMetadataBytes`.
    case metadataTooLarge(bytes: Int, limit: Int)
    /// The stream already registered a worker; a SubscribeWorkers stream carries exactly one.
    case streamAlreadyRegistered(stream: StreamID, worker: WorkerID)

    /// The text the client receives.
    public var message: String {
        switch self {
        case .tooManyWorkers(let limit):
            "too many workers (limit \(limit))"
        case .tooManyMetadataEntries(let count, let limit):
            "too many metadata entries: \(count) (limit \(limit))"
        case .metadataTooLarge(let bytes, let limit):
            "metadata too large: \(bytes) bytes (limit \(limit))"
        case .streamAlreadyRegistered(_, let worker):
            "stream already registered worker \(worker)"
        }
    }

    /// Same as `message`.
    public var description: String { message }
}

/// The outcome of `WorkerRegistry.renew`.
public enum RenewResult: Hashable, Sendable {
    /// `last_seen_at` and the deadline moved; the inventory made no new revision.
    case renewed
    /// The id is not registered, or another stream owns it (this stream was replaced or evicted).
    case notOwner
}

/// The outcome of `WorkerRegistry.sweep`.
public struct SweepResult: Sendable {
    /// One change removing every evicted worker, or nil when nothing was due.
    public let change: InventoryChange?
    /// Each evicted worker and the stream that owned it, ascending by id. The shell ends those
    /// streams with an error so the workers learn they expired (streamkit ends them silently).
    public let evicted: [(id: WorkerID, stream: StreamID)]
    /// The earliest deadline still pending (monotonic ms), or nil when no worker is registered. The
    /// shell keeps one timer armed here.
    public let nextDeadlineMs: Int64?

    /// Creates a result.
    public init(change: InventoryChange?, evicted: [(id: WorkerID, stream: StreamID)], nextDeadlineMs: Int64?) {
        self.change = change
        self.evicted = evicted
        self.nextDeadlineMs = nextDeadlineMs
    }
}
