import CorePrimitives

extension LeaseEngine {
    /// Expires leases whose deadline is at or before `now`, at most `limits.maxExpiriesPerTick` of them,
    /// earliest deadline first.
    ///
    /// Work is proportional to the leases expired plus the superseded heap entries passed over; nothing
    /// scans the table. The shell logs the returned events and arms its one timer at `nextDeadline`, or
    /// calls again at once when `more` is set.
    public mutating func tick(now: Int64) -> TickResult {
        var events: [LeaseEvent] = []
        var stoppedAtBound = false
        while let entry = expiryHeap.minLive(where: { [leases] in Self.isCurrent($0, in: leases) }), entry.deadline <= now {
            guard events.count < limits.maxExpiriesPerTick else {
                stoppedAtBound = true
                break
            }
            expiryHeap.popMin()
            remove(entry.key)
            events.append(.expired(key: entry.key.string, token: entry.token))
        }
        return TickResult(events: events, nextDeadline: nextCurrentDeadline(), more: stoppedAtBound)
    }

    /// The earliest deadline in the expiry heap, for arming the shell's timer after recovery.
    ///
    /// It may belong to a superseded entry, so the timer can fire before anything is due; that costs one
    /// empty tick, whose result then names the real next deadline.
    public var nextDeadline: Int64? { expiryHeap.min?.deadline }

    /// Drops superseded entries from the top of the heap and returns the first real deadline.
    private mutating func nextCurrentDeadline() -> Int64? {
        expiryHeap.minLive { [leases] in Self.isCurrent($0, in: leases) }?.deadline
    }

    /// Whether a heap entry still describes its lease. A superseded entry never becomes current again: any
    /// change that brings a lease back to an old deadline pushes a fresh entry.
    ///
    /// Static and handed the table (captured by value for one call) rather than a method: a method
    /// reference would copy the engine, heap included, and the heap would be copied on its next write.
    private static func isCurrent(_ entry: LeaseExpiry, in leases: [LeaseKey: LeaseRecord]) -> Bool {
        guard let record = leases[entry.key] else { return false }
        return record.token == entry.token && record.deadline == entry.deadline
    }

    // MARK: - Table maintenance shared by every mutation

    /// Puts `record` in the table at `leaseKey`, keeping the worker index and the expiry heap in step.
    mutating func store(_ record: LeaseRecord, at leaseKey: LeaseKey) {
        precondition(
            (record.deadline == nil) == (record.boundTo != nil),
            "lease on \(leaseKey.string) must have a deadline exactly when it is not bound")
        let previous = leases.updateValue(record, forKey: leaseKey)
        if previous?.boundTo != record.boundTo {
            if let oldWorker = previous?.boundTo { unbind(leaseKey, from: oldWorker) }
            if let newWorker = record.boundTo { keysByWorker[newWorker, default: []].insert(leaseKey) }
        }
        if let newDeadline = record.deadline, previous?.token != record.token || previous?.deadline != newDeadline {
            expiryHeap.push(LeaseExpiry(deadline: newDeadline, token: record.token, key: leaseKey))
            compactExpiryHeapIfNeeded()
        }
    }

    /// Takes the lease at `leaseKey` out of the table; its heap entries become superseded.
    mutating func remove(_ leaseKey: LeaseKey) {
        guard let record = leases.removeValue(forKey: leaseKey) else { return }
        if let worker = record.boundTo { unbind(leaseKey, from: worker) }
    }

    private mutating func unbind(_ leaseKey: LeaseKey, from worker: UInt64) {
        keysByWorker[worker]?.remove(leaseKey)
        if keysByWorker[worker]?.isEmpty == true { keysByWorker[worker] = nil }
    }

    /// Rebuilds the heap from the table once superseded entries outnumber live ones by the slack, so memory
    /// stays O(leases) however often clients renew. A rebuild leaves at most one entry per lease, so the
    /// next one is at least `leases.count + slack` pushes away: amortized O(1) per push.
    private mutating func compactExpiryHeapIfNeeded() {
        expiryHeap.compact(liveCount: leases.count, slack: limits.expiryHeapSlack, keeping: { [leases] in Self.isCurrent($0, in: leases) })
    }

    /// Replaces the heap with exactly one entry per unbound lease.
    mutating func rebuildExpiryHeap() {
        var entries: [LeaseExpiry] = []
        entries.reserveCapacity(leases.count)
        for (leaseKey, record) in leases {
            if let deadline = record.deadline {
                entries.append(LeaseExpiry(deadline: deadline, token: record.token, key: leaseKey))
            }
        }
        expiryHeap = MinHeap(entries)
    }
}
