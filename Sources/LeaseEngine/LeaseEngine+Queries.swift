extension LeaseEngine {
    /// The live lease on `key` at `now`, or nil when the key is free or its lease has expired.
    public func lease(for key: String, now: Int64) -> LeaseGrant? {
        let leaseKey = LeaseKey(key)
        guard let record = leases[leaseKey], record.isLive(at: now) else { return nil }
        return record.grant(key: leaseKey)
    }

    /// Whether a writer presenting `token` may act on `key` at `now`: only if the key's lease is live and
    /// carries exactly that token. Anything else says why, for the shell's `fence_mismatch` error.
    public func checkFence(key: String, token: UInt64, now: Int64) -> FenceCheck {
        guard let record = leases[LeaseKey(key)] else { return .noLease }
        guard record.isLive(at: now) else { return .expired(token: record.token) }
        guard record.token == token else { return .tokenMismatch(presented: token, current: record.token) }
        return .ok
    }

    /// Up to `limit` live leases whose key starts with `prefix` (byte-wise), sorted by key bytes.
    ///
    /// This walks the whole table: listing is an operator's query, not a hot path, and keeping the table
    /// sorted would cost every acquire instead.
    public func list(prefix: String = "", now: Int64, limit: Int = Int.max) -> [LeaseGrant] {
        guard limit > 0 else { return [] }
        let matching = leases.filter { leaseKey, record in
            record.isLive(at: now) && leaseKey.hasPrefix(prefix)
        }
        return matching.keys.sorted().prefix(limit).compactMap { leaseKey in
            matching[leaseKey]?.grant(key: leaseKey)
        }
    }
}
