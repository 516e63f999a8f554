/// One scheduled event for `id` at `deadlineMs`: a worker's expiry, unless the registration that
/// pushed it (identified by `ticket`) has since renewed, been replaced or ended; or a stream's next
/// heartbeat, unless the stream has ended. Kept in a ``MinHeap`` with lazy deletion: the owner skips
/// items whose ticket is no longer current.
struct Deadline<ID>: Comparable {
    var deadlineMs: Int64
    var ticket: UInt64
    var id: ID

    /// Earlier deadlines first; tickets (unique, increasing) break ties deterministically.
    static func < (lhs: Deadline, rhs: Deadline) -> Bool {
        (lhs.deadlineMs, lhs.ticket) < (rhs.deadlineMs, rhs.ticket)
    }

    /// Tickets are unique, so two items with one ticket are the same item.
    static func == (lhs: Deadline, rhs: Deadline) -> Bool {
        lhs.deadlineMs == rhs.deadlineMs && lhs.ticket == rhs.ticket
    }
}

extension Deadline: Sendable where ID: Sendable {}
