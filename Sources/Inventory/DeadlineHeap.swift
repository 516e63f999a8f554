/// One scheduled event for `id` at `deadlineMs`: a worker's expiry, unless the registration that
/// pushed it (identified by `ticket`) has since renewed, been replaced or ended; or a stream's next
/// heartbeat, unless the stream has ended.
struct Deadline<ID> {
    var deadlineMs: Int64
    var ticket: UInt64
    var id: ID

    /// Earlier deadlines first; tickets (unique, increasing) break ties deterministically.
    func precedes(_ other: Deadline) -> Bool {
        (deadlineMs, ticket) < (other.deadlineMs, other.ticket)
    }
}

/// A binary min-heap of deadlines.
///
/// Invalidation is lazy: a renewal pushes a new deadline instead of finding and moving the old one,
/// and the owner skips items whose ticket is no longer current when they reach the top.
struct DeadlineHeap<ID> {
    private(set) var items: [Deadline<ID>] = []

    /// Items held, live and stale.
    var count: Int { items.count }

    /// The earliest item.
    var top: Deadline<ID>? { items.first }

    /// Adds an item in O(log n).
    mutating func push(_ item: Deadline<ID>) {
        items.append(item)
        siftUp(from: items.count - 1)
    }

    /// Removes and returns the earliest item in O(log n).
    mutating func popTop() -> Deadline<ID>? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        if !items.isEmpty {
            siftDown(from: 0)
        }
        return top
    }

    /// Replaces the contents with `live` in O(n) (bottom-up heap construction).
    mutating func rebuild(from live: [Deadline<ID>]) {
        items = live
        var index = items.count / 2
        while index > 0 {
            index -= 1
            siftDown(from: index)
        }
    }

    private mutating func siftUp(from start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].precedes(items[parent]) else { return }
            items.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < items.count else { return }
            let right = left + 1
            var smallest = left
            if right < items.count && items[right].precedes(items[left]) {
                smallest = right
            }
            guard items[smallest].precedes(items[parent]) else { return }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

extension Deadline: Sendable where ID: Sendable {}
extension DeadlineHeap: Sendable where ID: Sendable {}
