/// A binary min-heap of lease deadlines, ordered by (deadline, token).
///
/// Entries are never updated or removed in place (lazy invalidation, as etcd's lessor does): a renewal or
/// a release leaves the old entry behind, and the engine discards an entry when it surfaces if its lease
/// no longer exists, carries another token, or has another deadline. The engine rebuilds the heap when
/// such leftovers pile up (see `LeaseLimits.expiryHeapSlack`).
struct ExpiryHeap: Sendable {
    /// One scheduled deadline for the lease `token` on `key`.
    struct Entry: Sendable, Hashable {
        var deadline: Int64
        var token: UInt64
        var key: LeaseKey

        /// Tokens are unique per grant, so (deadline, token) is a total order and expiry order is
        /// deterministic.
        func precedes(_ other: Entry) -> Bool {
            (deadline, token) < (other.deadline, other.token)
        }
    }

    private var entries: [Entry] = []

    /// Builds a heap from unordered entries in O(n).
    init(_ unordered: [Entry] = []) {
        entries = unordered
        var index = entries.count / 2
        while index > 0 {
            index -= 1
            siftDown(from: index)
        }
    }

    var count: Int { entries.count }

    /// The entry with the earliest deadline.
    var min: Entry? { entries.first }

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        siftUp(from: entries.count - 1)
    }

    @discardableResult
    mutating func popMin() -> Entry? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let first = entries.removeLast()
        if !entries.isEmpty { siftDown(from: 0) }
        return first
    }

    private mutating func siftUp(from start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].precedes(entries[parent]) else { return }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < entries.count else { return }
            var smallest = left
            let right = left + 1
            if right < entries.count, entries[right].precedes(entries[left]) { smallest = right }
            guard entries[smallest].precedes(entries[parent]) else { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
