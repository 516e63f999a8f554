/// One registered worker as observers see it (streamkit v1 §2.3 `WorkerInfo`).
public struct WorkerEntry: Hashable, Sendable {
    /// The worker's id.
    public let id: WorkerID
    /// Labels the worker chose at registration; fixed for the life of its stream.
    public let metadata: [String: String]
    /// Server wall-clock ms of the registration or latest renewal (`last_seen_at`). Never a client's
    /// timestamp: a client clock that is off must neither evict nor immortalise its worker.
    public let lastSeenAtMs: Int64

    /// Creates an entry.
    public init(id: WorkerID, metadata: [String: String], lastSeenAtMs: Int64) {
        self.id = id
        self.metadata = metadata
        self.lastSeenAtMs = lastSeenAtMs
    }
}

/// The whole inventory at one revision (streamkit v1 §2.3 `WorkerInventory` plus `revision`).
///
/// A class so the shell can hand the same instance (and the bytes it encoded once) to every
/// subscriber without copying; all properties are immutable, so sharing it across threads is safe.
public final class InventorySnapshot: Hashable, Sendable, CustomStringConvertible {
    /// The revision this snapshot describes; 0 is the empty inventory before any change.
    public let revision: UInt64
    /// Server wall-clock ms when the snapshot was built: when its revision was made, or when a new
    /// subscriber's first snapshot was (`WorkerRegistry.snapshot(builtAt:)`). 0 only for the registry's
    /// initial revision 0, which no change made and no subscriber is sent.
    public let timestampMs: Int64
    /// Every registered worker, ascending by `WorkerID` (the byte order of the UUIDs).
    public let workers: [WorkerEntry]

    /// Creates a snapshot; `workers` must already be sorted ascending by id without duplicates.
    public init(revision: UInt64, timestampMs: Int64, workers: [WorkerEntry]) {
        self.revision = revision
        self.timestampMs = timestampMs
        self.workers = workers
    }

    /// Snapshots are equal when revision, timestamp and workers are.
    public static func == (lhs: InventorySnapshot, rhs: InventorySnapshot) -> Bool {
        lhs === rhs
            || (lhs.revision == rhs.revision && lhs.timestampMs == rhs.timestampMs && lhs.workers == rhs.workers)
    }

    /// Hashes the revision and timestamp; workers are implied by them within one registry.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(revision)
        hasher.combine(timestampMs)
    }

    /// A one-line summary for test output: revision and worker count.
    public var description: String {
        "InventorySnapshot(revision: \(revision), timestampMs: \(timestampMs), workers: \(workers.count))"
    }
}

/// What one revision changed, for subscribers that resume or follow deltas.
///
/// `last_seen_at` of workers that only renewed is not carried: renewals make no revision (as in
/// streamkit, §4.4), so those values are only as fresh as the latest snapshot.
public struct InventoryDelta: Hashable, Sendable {
    /// The revision this delta leads to; the previous revision is `revision - 1`.
    public let revision: UInt64
    /// Workers that registered with a new id, ascending by id.
    public let joined: [WorkerEntry]
    /// Ids of workers that ended or were evicted, ascending.
    public let left: [WorkerID]
    /// Workers re-registered by another stream (new metadata and `last_seen_at`), ascending by id.
    public let updated: [WorkerEntry]

    /// Creates a delta; each list must be sorted ascending by id.
    public init(revision: UInt64, joined: [WorkerEntry], left: [WorkerID], updated: [WorkerEntry]) {
        self.revision = revision
        self.joined = joined
        self.left = left
        self.updated = updated
    }
}

/// One membership change: the new snapshot and the delta that led to it. Exactly one per revision.
public struct InventoryChange: Hashable, Sendable {
    /// The inventory after the change.
    public let snapshot: InventorySnapshot
    /// The change itself; `delta.revision == snapshot.revision`.
    public let delta: InventoryDelta

    /// Pairs a snapshot with the delta that produced it.
    public init(snapshot: InventorySnapshot, delta: InventoryDelta) {
        precondition(
            snapshot.revision == delta.revision,
            "InventoryChange: snapshot revision \(snapshot.revision) != delta revision \(delta.revision)")
        self.snapshot = snapshot
        self.delta = delta
    }
}
