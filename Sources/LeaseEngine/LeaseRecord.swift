/// One lease in the engine's table. The key is the table's key, not stored here.
struct LeaseRecord: Sendable, Hashable {
    var holder: String
    var token: UInt64
    /// The TTL of the latest grant or renewal.
    var ttlMs: Int64
    /// The TTL most recently written to the log for this lease: what recovery would restore it with.
    /// Kept ≥ `ttlMs` (a longer renewal is logged), so a restart never shortens a lease.
    var loggedTTLMs: Int64
    /// Nil exactly when `boundTo` is set: a bound lease ends with its worker, not by time.
    var deadline: Int64?
    var boundTo: UInt64?

    /// Live while bound, or strictly before the deadline: a lease is expired exactly at its deadline.
    func isLive(at now: Int64) -> Bool {
        guard let deadline else { return true }
        return now < deadline
    }

    func grant(key: LeaseKey) -> LeaseGrant {
        LeaseGrant(key: key.string, holder: holder, token: token, ttlMs: ttlMs, deadline: deadline, boundTo: boundTo)
    }
}

/// `now + ttlMs`, saturating instead of trapping: the monotonic clock's origin is the shell's business, and
/// a deadline at `Int64.max` is as good as never for any clock that can actually be read.
func deadline(after now: Int64, ttlMs: Int64) -> Int64 {
    let (sum, overflow) = now.addingReportingOverflow(ttlMs)
    return overflow ? Int64.max : sum
}
