import CorePrimitives

/// The worker-presence engine: who is registered, by which stream, until when, at which revision.
///
/// A pure value. The shell feeds it inputs with the current `InventoryInstant` and carries out what
/// the results say: fan the change out, end a replaced or evicted stream, re-arm its one timer at
/// `nextDeadlineMs`. Every membership change makes exactly one revision (revision + 1) with one
/// immutable snapshot and one delta; renewals make none.
public struct WorkerRegistry: Sendable {
    /// What the registry knows about a worker beyond its public entry.
    private struct Presence: Sendable {
        var stream: StreamID
        var ttlMs: Int64
        var deadlineMs: Int64
        /// Identifies the heap item that carries the current deadline; older items are stale.
        var ticket: UInt64
    }

    /// Heap items allowed beyond twice the live count before the heap is rebuilt from live deadlines.
    /// Renewals leave stale items behind; rebuilding when at least half are stale keeps memory within
    /// a constant factor of the worker count at an amortised O(1) cost per renewal.
    private static let heapCompactionSlack = 64

    /// The limits this registry enforces.
    public let limits: InventoryLimits
    /// The inventory at the latest revision.
    public private(set) var current: InventorySnapshot

    /// The working copy of the snapshot's worker list, sorted by id. It shares storage with `current`
    /// until the next mutation copies it, so each revision copies the list at most once.
    private var workers: [WorkerEntry] = []
    private var presence: [WorkerID: Presence] = [:]
    private var owned: [StreamID: WorkerID] = [:]
    private var deadlines = MinHeap<Deadline<WorkerID>>()
    private var nextTicket: UInt64 = 0
    private var history = RingBuffer<InventoryDelta>()

    /// Creates an empty registry at revision 0.
    public init(limits: InventoryLimits = InventoryLimits()) {
        self.limits = limits
        self.current = InventorySnapshot(revision: 0, timestampMs: 0, workers: [])
    }

    /// Workers registered.
    public var count: Int { presence.count }

    /// The inventory at the current revision as a snapshot built at `now`: its timestamp is `now.wallMs`.
    /// What a new subscriber receives first — streamkit builds each observer's first inventory when it
    /// connects (v1 §2.3, §4.3) — so that no snapshot a client sees carries a time other than its build
    /// time (the empty inventory at revision 0 has none of its own).
    public func snapshot(builtAt now: InventoryInstant) -> InventorySnapshot {
        InventorySnapshot(revision: current.revision, timestampMs: now.wallMs, workers: current.workers)
    }

    /// The stream that owns `id`, or nil when it is not registered.
    public func owner(of id: WorkerID) -> StreamID? {
        presence[id]?.stream
    }

    /// The earliest pending deadline (monotonic ms), or nil when no worker is registered.
    ///
    /// Exact, not a lower bound: every mutation drops stale heap items from the top.
    public var nextDeadlineMs: Int64? { deadlines.min?.deadlineMs }

    /// Heap items held, live and stale; exposed so tests can check that renewals do not grow it without bound.
    var pendingDeadlineCount: Int { deadlines.count }

    // MARK: - Inputs

    /// Registers worker `id` for `stream`, renewing every `renewIntervalMs` (R of streamkit v1 §4.2,
    /// from `InventoryLimits.renewIntervalMs(heartbeatPeriodMs:)`).
    ///
    /// `last_seen_at` is set from `now.wallMs` and the deadline to `now.monotonicMs + TTL`. If another
    /// stream owns `id`, the entry is replaced in the same single change (it appears in `updated`) and
    /// that stream is returned so the shell can end it. The registered deadline may be the earliest:
    /// the shell re-arms its timer at `nextDeadlineMs` afterwards.
    public mutating func register(
        id: WorkerID, metadata: [String: String], renewIntervalMs: Int64, stream: StreamID, now: InventoryInstant
    ) -> RegisterResult {
        precondition(renewIntervalMs > 0, "WorkerRegistry.register: renewIntervalMs must be positive, got \(renewIntervalMs)")
        if let worker = owned[stream] {
            return .rejected(.streamAlreadyRegistered(stream: stream, worker: worker))
        }
        if metadata.count > limits.maxMetadataEntries {
            return .rejected(.tooManyMetadataEntries(count: metadata.count, limit: limits.maxMetadataEntries))
        }
        let metadataBytes = metadata.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        if metadataBytes > limits.maxMetadataBytes {
            return .rejected(.metadataTooLarge(bytes: metadataBytes, limit: limits.maxMetadataBytes))
        }
        let prior = presence[id]
        if prior == nil && presence.count >= limits.maxWorkers {
            return .rejected(.tooManyWorkers(limit: limits.maxWorkers))
        }

        let entry = WorkerEntry(id: id, metadata: metadata, lastSeenAtMs: now.wallMs)
        let ttlMs = limits.ttlMs(renewIntervalMs: renewIntervalMs)
        let ticket = issueTicket()
        let deadlineMs = now.monotonicMs + ttlMs
        presence[id] = Presence(stream: stream, ttlMs: ttlMs, deadlineMs: deadlineMs, ticket: ticket)
        owned[stream] = id
        deadlines.push(Deadline(deadlineMs: deadlineMs, ticket: ticket, id: id))

        let position = index(of: id)
        let change: InventoryChange
        if let prior {
            precondition(position.found, "WorkerRegistry: worker \(id) has presence but no entry")
            owned[prior.stream] = nil
            workers[position.index] = entry
            change = commit(joined: [], left: [], updated: [entry], now: now)
        } else {
            precondition(!position.found, "WorkerRegistry: worker \(id) has an entry but no presence")
            workers.insert(entry, at: position.index)
            change = commit(joined: [entry], left: [], updated: [], now: now)
        }
        tidyDeadlines()
        return .accepted(change: change, replaced: prior?.stream)
    }

    /// Records a renewal of `id` by `stream`: `last_seen_at` := `now.wallMs` (the server's clock,
    /// whatever timestamp the client sent) and the deadline := `now.monotonicMs + TTL`. Makes no
    /// revision; the fresher `last_seen_at` appears in the next snapshot.
    public mutating func renew(id: WorkerID, stream: StreamID, now: InventoryInstant) -> RenewResult {
        guard var record = presence[id], record.stream == stream else { return .notOwner }
        record.ticket = issueTicket()
        record.deadlineMs = now.monotonicMs + record.ttlMs
        presence[id] = record
        deadlines.push(Deadline(deadlineMs: record.deadlineMs, ticket: record.ticket, id: id))

        let position = index(of: id)
        precondition(position.found, "WorkerRegistry: worker \(id) has presence but no entry")
        let old = workers[position.index]
        workers[position.index] = WorkerEntry(id: id, metadata: old.metadata, lastSeenAtMs: now.wallMs)
        tidyDeadlines()
        return .renewed
    }

    /// Removes the worker `stream` owns, if any, because the stream ended (closed, cancelled, failed).
    /// Returns nil when the stream owned nothing: an observer, or a worker already replaced or evicted.
    public mutating func streamEnded(_ stream: StreamID, now: InventoryInstant) -> InventoryChange? {
        guard let id = owned.removeValue(forKey: stream) else { return nil }
        presence[id] = nil
        let position = index(of: id)
        precondition(position.found, "WorkerRegistry: worker \(id) owned by \(stream) has no entry")
        workers.remove(at: position.index)
        let change = commit(joined: [], left: [id], updated: [], now: now)
        tidyDeadlines()
        return change
    }

    /// Evicts every worker whose deadline is at or before `now.monotonicMs`, all in one change.
    ///
    /// Only due heap items are visited (O(k log n) for k due items, stale ones included); a sweep with
    /// nothing due is O(1), so the shell may call it whenever its timer fires, early or late.
    public mutating func sweep(now: InventoryInstant) -> SweepResult {
        var evicted: [(id: WorkerID, stream: StreamID)] = []
        let nowMs = now.monotonicMs
        while let top = deadlines.popMinLive(where: { [presence] in Self.isCurrent($0, in: presence) }, ifDue: { $0.deadlineMs <= nowMs }),
              let record = presence[top.id] {
            presence[top.id] = nil
            owned[record.stream] = nil
            evicted.append((id: top.id, stream: record.stream))
        }
        tidyDeadlines()

        var change: InventoryChange?
        if !evicted.isEmpty {
            evicted.sort { $0.id < $1.id }
            if evicted.count == 1 {
                workers.remove(at: index(of: evicted[0].id).index)
            } else {
                // One pass instead of k shifting removals; the list is copied for the new snapshot anyway.
                let gone = Set(evicted.map(\.id))
                workers.removeAll { gone.contains($0.id) }
            }
            change = commit(joined: [], left: evicted.map(\.id), updated: [], now: now)
        }
        return SweepResult(change: change, evicted: evicted, nextDeadlineMs: nextDeadlineMs)
    }

    // MARK: - History

    /// The deltas after `revision`, oldest first: `[]` when `revision` is the current one, nil when it is
    /// older than the retained history or newer than the current revision (send a snapshot instead).
    public func deltas(since revision: UInt64) -> [InventoryDelta]? {
        let head = current.revision
        guard revision <= head else { return nil }
        let missing = head - revision
        guard missing <= UInt64(history.count) else { return nil }
        let skip = history.count - Int(missing)
        return (skip..<history.count).map { history[$0] }
    }

    // MARK: - Internals

    private mutating func issueTicket() -> UInt64 {
        nextTicket += 1
        return nextTicket
    }

    /// Binary search of `workers`: where `id` is, or where it would be inserted.
    private func index(of id: WorkerID) -> (found: Bool, index: Int) {
        var low = 0
        var high = workers.count
        while low < high {
            let middle = (low + high) / 2
            if workers[middle].id < id {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return (low < workers.count && workers[low].id == id, low)
    }

    /// Makes the next revision from the working list and records its delta.
    private mutating func commit(
        joined: [WorkerEntry], left: [WorkerID], updated: [WorkerEntry], now: InventoryInstant
    ) -> InventoryChange {
        precondition(
            workers.count == presence.count && owned.count == presence.count,
            "WorkerRegistry: \(workers.count) entries, \(presence.count) presences, \(owned.count) owners")
        let revision = current.revision + 1
        let delta = InventoryDelta(revision: revision, joined: joined, left: left, updated: updated)
        current = InventorySnapshot(revision: revision, timestampMs: now.wallMs, workers: workers)
        history.append(delta)
        while history.count > limits.historyLimit {
            _ = history.popFirst()
        }
        return InventoryChange(snapshot: current, delta: delta)
    }

    /// Drops stale items from the top of the heap so `nextDeadlineMs` is a live deadline, and rebuilds
    /// the heap from live deadlines when stale items dominate it.
    private mutating func tidyDeadlines() {
        deadlines.compact(liveCount: presence.count, slack: Self.heapCompactionSlack) { [presence] in
            Self.isCurrent($0, in: presence)
        }
        _ = deadlines.minLive { [presence] in Self.isCurrent($0, in: presence) }
    }

    /// Whether a heap item carries its worker's current deadline. Static and handed the table (captured
    /// by value for the call) rather than a method: a method reference would copy the whole registry,
    /// and the heap mutated beside that copy would be copied on every write.
    private static func isCurrent(_ item: Deadline<WorkerID>, in presence: [WorkerID: Presence]) -> Bool {
        presence[item.id]?.ticket == item.ticket
    }
}
