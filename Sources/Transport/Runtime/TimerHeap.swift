import CorePrimitives

/// Identifies a timer scheduled on one ``EventLoop``; pass it to ``EventLoop/cancelTimer(_:)``.
public struct TimerID: Hashable, Sendable {
    let raw: UInt64
}

/// The loop's timers: a ``MinHeap`` of deadlines, whose earliest entry becomes the `epoll_wait`
/// timeout.
///
/// A heap rather than a `timerfd`: scheduling and cancelling cost no system call (a `timerfd` must be
/// re-armed with `timerfd_settime` whenever the earliest deadline changes, which is on nearly every
/// schedule of a short timer), and `epoll_wait`'s millisecond timeout is as fine as coordd's timers
/// (close timeouts, backoffs, keepalives) need. Cancelling removes only the callback; the heap entry is
/// skipped when it surfaces, and dropped once such dead entries outnumber live ones.
///
/// Entries with equal deadlines fire in the order they were scheduled. Pure: `now` is a parameter.
struct TimerHeap<Callback> {
    private struct Entry: Comparable {
        var deadline: ContinuousClock.Instant
        var id: UInt64

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.deadline, lhs.id) < (rhs.deadline, rhs.id)
        }
    }

    /// Heap entries allowed beyond twice the live timers before cancelled ones are dropped.
    private static var compactionSlack: Int { 64 }

    private var heap = MinHeap<Entry>()
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
        heap.push(Entry(deadline: deadline, id: nextID))
        return TimerID(raw: nextID)
    }

    /// Removes a timer; returns false when it already fired or was cancelled.
    @discardableResult
    mutating func cancel(_ id: TimerID) -> Bool {
        guard callbacks.removeValue(forKey: id.raw) != nil else { return false }
        heap.compact(liveCount: callbacks.count, slack: Self.compactionSlack, keeping: { [callbacks] in Self.isLive($0, in: callbacks) })
        return true
    }

    /// Removes and returns the earliest timer whose deadline is at or before `now`, if any.
    ///
    /// One at a time on purpose: a callback that cancels another timer due in the same pass must
    /// keep it from firing.
    mutating func popDue(now: ContinuousClock.Instant) -> Callback? {
        guard let entry = heap.popMinLive(where: { [callbacks] in Self.isLive($0, in: callbacks) }, ifDue: { $0.deadline <= now }) else { return nil }
        return callbacks.removeValue(forKey: entry.id)
    }

    /// Milliseconds until the earliest live deadline, rounded up so a wait never ends before it;
    /// 0 when one is due; nil when no timer is scheduled (wait indefinitely).
    mutating func millisecondsUntilNext(now: ContinuousClock.Instant) -> Int? {
        guard let first = heap.minLive(where: { [callbacks] in Self.isLive($0, in: callbacks) }) else { return nil }
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

    /// A heap entry whose timer is still scheduled (not fired, not cancelled).
    /// (Static and handed the table: a method reference would copy the timers, heap included, and the
    /// heap would then be copied on its next write.)
    private static func isLive(_ entry: Entry, in callbacks: [UInt64: Callback]) -> Bool {
        callbacks[entry.id] != nil
    }
}
