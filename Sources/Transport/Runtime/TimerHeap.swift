/// Identifies a timer scheduled on one ``EventLoop``; pass it to ``EventLoop/cancelTimer(_:)``.
public struct TimerID: Hashable, Sendable {
    let raw: UInt64
}

/// The loop's timers: a binary min-heap of deadlines, whose earliest entry becomes the `epoll_wait`
/// timeout.
///
/// A heap rather than a `timerfd`: scheduling and cancelling cost no system call (a `timerfd` must be
/// re-armed with `timerfd_settime` whenever the earliest deadline changes, which is on nearly every
/// schedule of a short timer), and `epoll_wait`'s millisecond timeout is as fine as coordd's timers
/// (close timeouts, backoffs, keepalives) need. Cancelling removes only the callback; the heap entry is
/// skipped when it surfaces, and the heap is rebuilt when such dead entries outnumber live ones.
///
/// Entries with equal deadlines fire in the order they were scheduled. Pure: `now` is a parameter.
struct TimerHeap<Callback> {
    private struct Entry {
        var deadline: ContinuousClock.Instant
        var id: UInt64

        func fires(before other: Entry) -> Bool {
            deadline < other.deadline || (deadline == other.deadline && id < other.id)
        }
    }

    private var heap: [Entry] = []
    private var callbacks: [UInt64: Callback] = [:]
    private var nextID: UInt64 = 0

    /// Number of timers that are scheduled and not cancelled.
    var count: Int { callbacks.count }

    /// Heap entries including cancelled ones not yet removed (for tests of the compaction).
    var storedEntryCount: Int { heap.count }

    /// Adds a timer firing at `deadline`.
    @discardableResult
    mutating func schedule(at deadline: ContinuousClock.Instant, _ callback: Callback) -> TimerID {
        nextID += 1
        callbacks[nextID] = callback
        push(Entry(deadline: deadline, id: nextID))
        return TimerID(raw: nextID)
    }

    /// Removes a timer; returns false when it already fired or was cancelled.
    @discardableResult
    mutating func cancel(_ id: TimerID) -> Bool {
        guard callbacks.removeValue(forKey: id.raw) != nil else { return false }
        if heap.count > 64 && heap.count > 2 * callbacks.count { compact() }
        return true
    }

    /// Removes and returns the earliest timer whose deadline is at or before `now`, if any.
    ///
    /// One at a time on purpose: a callback that cancels another timer due in the same pass must
    /// keep it from firing.
    mutating func popDue(now: ContinuousClock.Instant) -> Callback? {
        while let first = heap.first, first.deadline <= now {
            popFirst()
            if let callback = callbacks.removeValue(forKey: first.id) { return callback }
        }
        return nil
    }

    /// Milliseconds until the earliest live deadline, rounded up so a wait never ends before it;
    /// 0 when one is due; nil when no timer is scheduled (wait indefinitely).
    mutating func millisecondsUntilNext(now: ContinuousClock.Instant) -> Int? {
        while let first = heap.first, callbacks[first.id] == nil { popFirst() }
        guard let first = heap.first else { return nil }
        if first.deadline <= now { return 0 }
        let (seconds, attoseconds) = (first.deadline - now).components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        let ms = seconds.multipliedReportingOverflow(by: 1000)
        guard !ms.overflow else { return Int.max }
        let roundedUp = ms.partialValue + (attoseconds + perMillisecond - 1) / perMillisecond
        return Int(clamping: roundedUp)
    }

    /// Drops every timer without running it.
    mutating func removeAll() {
        heap.removeAll()
        callbacks.removeAll()
    }

    // MARK: Heap

    private mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].fires(before: heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func popFirst() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(from: 0)
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var first = parent
            if left < heap.count && heap[left].fires(before: heap[first]) { first = left }
            if right < heap.count && heap[right].fires(before: heap[first]) { first = right }
            if first == parent { return }
            heap.swapAt(parent, first)
            parent = first
        }
    }

    /// Rebuilds the heap from the live entries only.
    private mutating func compact() {
        heap.removeAll { callbacks[$0.id] == nil }
        var index = heap.count / 2
        while index > 0 {
            index -= 1
            siftDown(from: index)
        }
    }
}
