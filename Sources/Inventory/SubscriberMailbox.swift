import CorePrimitives

/// One message a subscriber is due, as handed out by `SubscriberMailbox.next()`.
public enum MailboxItem<Payload> {
    /// The whole inventory at `revision`; replaces whatever the subscriber had.
    case snapshot(revision: UInt64, payload: Payload)
    /// The change that leads to `revision` from `revision - 1`.
    case delta(revision: UInt64, payload: Payload)

    /// The revision the subscriber is at after applying this item.
    public var revision: UInt64 {
        switch self {
        case .snapshot(let revision, _), .delta(let revision, _): revision
        }
    }

    /// The bytes (or whatever the shell stored) to send.
    public var payload: Payload {
        switch self {
        case .snapshot(_, let payload), .delta(_, let payload): payload
        }
    }
}

extension MailboxItem: Sendable where Payload: Sendable {}
extension MailboxItem: Equatable where Payload: Equatable {}

/// What one inventory subscriber is due, ordered by revision, with bounded memory.
///
/// The shell encodes each revision once and offers the same payloads to every subscriber; a
/// subscriber's sender drains its mailbox at its own pace, so a slow subscriber never blocks the
/// others. Revisions only move forward: an older or equal revision never replaces a newer one held
/// or delivered (streamkit's unversioned mailbox can, §4.4).
public struct SubscriberMailbox<Payload> {
    /// How a subscriber follows the inventory.
    public enum Mode: Hashable, Sendable {
        /// One slot, latest wins: the streamkit behaviour (a `WorkerInventory` per change, §4.4).
        case snapshots
        /// Every delta in order while at most `maxBacklog` are queued; on a gap or an overflow the
        /// queue is replaced by one snapshot, so the subscriber never misses a change and memory
        /// stays bounded.
        case deltas(maxBacklog: Int)
    }

    // Inlinable, with its state usable from inlinable code: the shell offers every change to every
    // subscriber's mailbox under the store's lock, and unspecialised generic code looked up the metadata of
    // its payload types at run time on every call (a sixth of a fan-out's CPU, in the changing task).

    /// The mode chosen at creation.
    public let mode: Mode
    /// The newest revision held, delivered, or resumed from; offers at or below it are ignored.
    public var latestRevision: UInt64? { latest }
    /// The revision of the item `next()` returned last.
    public var lastDeliveredRevision: UInt64? { lastDelivered }
    /// How often queued deltas were replaced by a snapshot (gap or overflow), for metrics.
    public var resyncCount: Int { resyncs }

    @usableFromInline var latest: UInt64?
    @usableFromInline var lastDelivered: UInt64?
    @usableFromInline var resyncs = 0
    @usableFromInline var heldSnapshot: (revision: UInt64, payload: Payload)?
    @usableFromInline var queuedDeltas = RingBuffer<(revision: UInt64, payload: Payload)>()

    /// Creates an empty mailbox.
    @inlinable
    public init(mode: Mode) {
        if case .deltas(let maxBacklog) = mode {
            precondition(maxBacklog >= 0, "SubscriberMailbox: maxBacklog must not be negative, got \(maxBacklog)")
        }
        self.mode = mode
    }

    /// Items waiting (a held snapshot counts as one).
    @inlinable
    public var queuedCount: Int { (heldSnapshot == nil ? 0 : 1) + queuedDeltas.count }

    /// True when `next()` would return nil.
    @inlinable
    public var isEmpty: Bool { queuedCount == 0 }

    /// Offers revision `revision`, encoded both ways; the mailbox keeps what this subscriber needs.
    ///
    /// Snapshot mode keeps `snapshot` if `revision` is newer than anything held or delivered. Delta
    /// mode queues `delta` if it is exactly the next revision and the backlog has room; otherwise it
    /// drops the queue and holds `snapshot`. Older or equal revisions are ignored in both modes.
    @inlinable
    public mutating func offer(revision: UInt64, snapshot: Payload, delta: Payload) {
        if let latest, revision <= latest { return }
        switch mode {
        case .snapshots:
            hold(revision: revision, snapshot: snapshot)
        case .deltas(let maxBacklog):
            if let latest, revision == latest + 1, queuedDeltas.count < maxBacklog {
                queuedDeltas.append((revision: revision, payload: delta))
                self.latest = revision
            } else {
                if latest != nil { resyncs += 1 }
                hold(revision: revision, snapshot: snapshot)
            }
        }
    }

    /// Seeds a new subscription with the snapshot at `revision` (ignored if not newer than what the
    /// mailbox already has, like any offer).
    @inlinable
    public mutating func seed(revision: UInt64, snapshot: Payload) {
        if let latest, revision <= latest { return }
        hold(revision: revision, snapshot: snapshot)
    }

    /// Seeds a subscription that resumes after revision `since` with the deltas that follow it
    /// (`WorkerRegistry.deltas(since:)`, encoded). An empty list is a resume at the current revision.
    ///
    /// All given deltas are queued even beyond `maxBacklog`: their number is already bounded by the
    /// registry's history limit. Only for a fresh mailbox in delta mode, with consecutive revisions
    /// starting at `since + 1`; anything else is a bug in the caller.
    public mutating func seed(since: UInt64, deltas: [(UInt64, Payload)]) {
        guard case .deltas = mode else {
            preconditionFailure("SubscriberMailbox.seed(since:deltas:) needs delta mode, mode is \(mode)")
        }
        precondition(
            latest == nil && isEmpty,
            "SubscriberMailbox.seed(since:deltas:) on a mailbox already at revision \(latest ?? 0)")
        var expected = since
        for (revision, payload) in deltas {
            precondition(revision == expected + 1, "SubscriberMailbox: seeded delta \(revision), expected \(expected + 1)")
            queuedDeltas.append((revision: revision, payload: payload))
            expected = revision
        }
        latest = expected
    }

    /// The next item to send: a held snapshot first, then deltas in order; nil when empty. Revisions
    /// returned strictly increase.
    @inlinable
    public mutating func next() -> MailboxItem<Payload>? {
        let item: MailboxItem<Payload>
        if let held = heldSnapshot {
            heldSnapshot = nil
            item = .snapshot(revision: held.revision, payload: held.payload)
        } else if let queued = queuedDeltas.popFirst() {
            item = .delta(revision: queued.revision, payload: queued.payload)
        } else {
            return nil
        }
        if let lastDelivered {
            precondition(
                item.revision > lastDelivered,
                "SubscriberMailbox: revision \(item.revision) after \(lastDelivered)")
        }
        lastDelivered = item.revision
        return item
    }

    /// Replaces everything queued by the snapshot at `revision`.
    @inlinable
    mutating func hold(revision: UInt64, snapshot: Payload) {
        queuedDeltas.removeAll()
        heldSnapshot = (revision: revision, payload: snapshot)
        latest = revision
    }
}

extension SubscriberMailbox: Sendable where Payload: Sendable {}
