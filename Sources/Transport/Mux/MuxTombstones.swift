import CorePrimitives
import StreamCore

/// Channels a connection closed while their peer may still be sending: frames for them are ignored
/// instead of opening a new stream (streamkit v1 §3.3, `tombstone_eviction_test.go`).
///
/// Bounded in count (the oldest is evicted first) and in age; after either the channel is unknown
/// again, so the same UUID can open a new stream. Pure: `nowMs` is a parameter.
struct MuxTombstones {
    private var deadlines: [WireUUID: Int64] = [:]
    /// Tombstones whose peer has not yet been told that the channel is gone (see ``takeAnswer(_:nowMs:)``).
    private var unanswered: Set<WireUUID> = []
    /// Insertion order, oldest first; entries whose deadline changed or that were removed are skipped.
    private var order = RingBuffer<(id: WireUUID, deadline: Int64)>()
    let capacity: Int
    let ttlMs: Int64

    init(capacity: Int, ttlMs: Int) {
        precondition(capacity > 0 && ttlMs > 0, "tombstones need a positive capacity and age")
        self.capacity = capacity
        self.ttlMs = Int64(ttlMs)
    }

    /// Channels currently tombstoned.
    var count: Int { deadlines.count }

    /// Tombstones `channel` until `nowMs + ttlMs`, evicting the oldest when full. `answered` says
    /// whether the peer was already told the channel is gone (an error frame went out with it).
    mutating func insert(_ channel: WireUUID, nowMs: Int64, answered: Bool = true) {
        expire(nowMs: nowMs)
        let deadline = nowMs + ttlMs
        deadlines[channel] = deadline
        if answered { unanswered.remove(channel) } else { unanswered.insert(channel) }
        order.append((channel, deadline))
        while deadlines.count > capacity, let oldest = order.popFirst() {
            if deadlines[oldest.id] == oldest.deadline { forget(oldest.id) }
        }
        // Superseded entries accumulate when the same channel is tombstoned again; rebuild when they
        // outnumber the live ones so `order` stays within twice the capacity.
        if order.count > 2 * capacity {
            var live = RingBuffer<(id: WireUUID, deadline: Int64)>(capacity: capacity)
            while let entry = order.popFirst() {
                if deadlines[entry.id] == entry.deadline { live.append(entry) }
            }
            order = live
        }
    }

    /// True when `channel` is tombstoned and its tombstone has not expired.
    func contains(_ channel: WireUUID, nowMs: Int64) -> Bool {
        guard let deadline = deadlines[channel] else { return false }
        return deadline > nowMs
    }

    /// True the first time it is asked about a live tombstone whose peer was not told yet: the caller
    /// answers the peer's late data once, so the peer stops sending.
    mutating func takeAnswer(_ channel: WireUUID, nowMs: Int64) -> Bool {
        guard contains(channel, nowMs: nowMs) else { return false }
        return unanswered.remove(channel) != nil
    }

    /// Drops every tombstone older than the age limit.
    mutating func expire(nowMs: Int64) {
        while let oldest = order.first, oldest.deadline <= nowMs {
            _ = order.popFirst()
            if deadlines[oldest.id] == oldest.deadline { forget(oldest.id) }
        }
    }

    private mutating func forget(_ channel: WireUUID) {
        deadlines[channel] = nil
        unanswered.remove(channel)
    }
}
