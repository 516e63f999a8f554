/// One scheduled deadline for the lease `token` on `key`, an entry of the engine's expiry heap.
///
/// Entries are never updated or removed in place (lazy deletion, as etcd's lessor does): a renewal or a
/// release leaves the old entry behind, and the engine discards an entry when it surfaces if its lease no
/// longer exists, carries another token, or has another deadline (see ``MinHeap``).
struct LeaseExpiry: Sendable, Hashable, Comparable {
    var deadline: Int64
    var token: UInt64
    var key: LeaseKey

    /// Tokens are unique per grant, so (deadline, token) is a total order and expiry order is
    /// deterministic.
    static func < (lhs: LeaseExpiry, rhs: LeaseExpiry) -> Bool {
        (lhs.deadline, lhs.token) < (rhs.deadline, rhs.token)
    }
}
