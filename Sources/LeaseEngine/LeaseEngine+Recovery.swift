extension LeaseEngine {
    /// Rebuilds an engine after a restart by replaying the logged events in order.
    ///
    /// Every lease still standing at the end of the log comes back with deadline `now + TTL`, using the
    /// last TTL logged for it. The log holds no renewals, so this is the only safe choice: a restart may
    /// lengthen a lease by at most one TTL and never shortens it (a renewal longer than the logged TTL is
    /// itself logged, see `RenewAction`). Leases bound to a worker come back as plain TTL leases, unbound:
    /// the worker's presence stream did not survive the restart, and the holder keeps the lease by renewing
    /// it or re-acquiring it bound to its new stream. The token counter continues from the highest token
    /// the log mentions, so tokens never go backwards across restarts.
    ///
    /// Replay never traps: a release or expiry of a lease the table no longer has (another token) is ignored,
    /// and a grant replaces whatever the key held, as it did when it was logged.
    public static func recover(
        from events: some Sequence<LeaseEvent>, now: Int64, limits: LeaseLimits = LeaseLimits()
    ) -> LeaseEngine {
        var engine = LeaseEngine(limits: limits)
        engine.replay(events)
        engine.finishRecovery(now: now)
        return engine
    }

    /// Applies logged events to a table being recovered (leases without deadlines yet).
    mutating func replay(_ events: some Sequence<LeaseEvent>) {
        for event in events {
            highestToken = max(highestToken, event.token)
            switch event {
            case .granted(let key, let holder, let token, let ttlMs, _):
                // Decoded events have a positive TTL; a hand-built one that does not is held for 1 ms.
                let ttlMs = max(ttlMs, 1)
                leases[LeaseKey(key)] = LeaseRecord(
                    holder: holder, token: token, ttlMs: ttlMs, loggedTTLMs: ttlMs, deadline: nil, boundTo: nil)
            case .released(let key, _, let token), .expired(let key, let token):
                let leaseKey = LeaseKey(key)
                if leases[leaseKey]?.token == token { leases[leaseKey] = nil }
            }
        }
    }

    /// Gives every recovered lease its deadline (`now` + its logged TTL) and builds the expiry heap.
    mutating func finishRecovery(now: Int64) {
        leases = leases.mapValues { record in
            var restored = record
            restored.deadline = deadline(after: now, ttlMs: record.loggedTTLMs)
            return restored
        }
        rebuildExpiryHeap()
    }
}
