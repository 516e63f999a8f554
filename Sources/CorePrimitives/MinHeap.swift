/// A binary min-heap with lazy deletion: the one priority queue behind every deadline in coordd (lease
/// expiries, worker presence deadlines, heartbeats, event-loop timers).
///
/// Entries are never found and moved or removed in place. An owner that reschedules something pushes a
/// new entry and leaves the old one behind (etcd's lessor does the same); it tells the heap which entries
/// still count through an `isLive` predicate when it reads the top (``minLive(where:)``) and when it
/// compacts (``compact(liveCount:slack:keeping:)``). So a renewal costs O(log n) and never a search.
///
/// Ordered by `Element`'s `<`; give elements a total order (a deadline plus a unique ticket) so that
/// equal deadlines come out in a deterministic order. Pure: no clock, no locking.
public struct MinHeap<Element: Comparable> {
    @usableFromInline var storage: [Element]

    /// An empty heap.
    @inlinable
    public init() { storage = [] }

    /// A heap of `unordered`, built bottom-up in O(n).
    @inlinable
    public init(_ unordered: some Sequence<Element>) {
        storage = Array(unordered)
        heapify()
    }

    /// Entries held, live and stale.
    @inlinable
    public var count: Int { storage.count }

    /// True when nothing is held.
    @inlinable
    public var isEmpty: Bool { storage.isEmpty }

    /// The smallest entry, live or stale.
    @inlinable
    public var min: Element? { storage.first }

    /// The entries in heap order (not sorted), for rebuilding or inspection.
    @inlinable
    public var unorderedElements: [Element] { storage }

    /// Adds `element` in O(log n).
    @inlinable
    public mutating func push(_ element: Element) {
        storage.append(element)
        siftUp(from: storage.count - 1)
    }

    /// Removes and returns the smallest entry in O(log n).
    @inlinable
    @discardableResult
    public mutating func popMin() -> Element? {
        guard let last = storage.popLast() else { return nil }
        guard !storage.isEmpty else { return last }
        let first = storage[0]
        storage[0] = last
        siftDown(from: 0)
        return first
    }

    /// Discards stale entries from the top and returns the smallest live one (left in place); nil when
    /// no live entry remains.
    @inlinable
    public mutating func minLive(where isLive: (Element) -> Bool) -> Element? {
        while let first = storage.first {
            if isLive(first) { return first }
            popMin()
        }
        return nil
    }

    /// Removes and returns the smallest live entry when `isDue` says it is due (its deadline has come),
    /// discarding the stale entries passed over; nil when it is not due or no live entry is left.
    @inlinable
    public mutating func popMinLive(where isLive: (Element) -> Bool, ifDue isDue: (Element) -> Bool) -> Element? {
        guard let first = minLive(where: isLive), isDue(first) else { return nil }
        return popMin()
    }

    /// Keeps only the entries for which `isLive` holds, in O(n).
    @inlinable
    public mutating func removeStale(keeping isLive: (Element) -> Bool) {
        storage.removeAll { !isLive($0) }
        heapify()
    }

    /// Drops stale entries once they outnumber the live ones by `slack`: when more than
    /// `2 × liveCount + slack` entries are held. After a compaction the next one is at least
    /// `liveCount + slack` pushes away, so the work is amortised O(1) per push and memory stays
    /// O(live) however often owners reschedule. Returns whether it compacted.
    @inlinable
    @discardableResult
    public mutating func compact(liveCount: Int, slack: Int, keeping isLive: (Element) -> Bool) -> Bool {
        guard storage.count > 2 * liveCount + slack else { return false }
        removeStale(keeping: isLive)
        return true
    }

    /// Removes every entry.
    @inlinable
    public mutating func removeAll() {
        storage.removeAll()
    }

    // MARK: Sifting

    @inlinable
    mutating func heapify() {
        var index = storage.count / 2
        while index > 0 {
            index -= 1
            siftDown(from: index)
        }
    }

    @inlinable
    mutating func siftUp(from start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard storage[child] < storage[parent] else { return }
            storage.swapAt(child, parent)
            child = parent
        }
    }

    @inlinable
    mutating func siftDown(from start: Int) {
        var parent = start
        let count = storage.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            let right = left + 1
            var smallest = left
            if right < count && storage[right] < storage[left] { smallest = right }
            guard storage[smallest] < storage[parent] else { return }
            storage.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

extension MinHeap: Sendable where Element: Sendable {}
