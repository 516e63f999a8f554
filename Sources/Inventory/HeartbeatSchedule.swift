import CorePrimitives

/// When each worker stream's next server heartbeat (a `Presence` with `heartbeat: true`) is due.
///
/// One schedule serves every stream of a store, so a worker costs a heap entry instead of a task
/// sleeping between its heartbeats. Pure: times are parameters (monotonic ms).
public struct HeartbeatSchedule: Sendable {
    private struct Entry: Sendable {
        var periodMs: Int64
        var ticket: UInt64
    }

    private var heap = MinHeap<Deadline<StreamID>>()
    private var entries: [StreamID: Entry] = [:]
    private var nextTicket: UInt64 = 0

    /// Heap items allowed beyond twice the scheduled count before the heap is rebuilt: removed streams
    /// leave their item behind until it reaches the top, which can take a whole period (up to 300 s).
    private static let heapCompactionSlack = 64

    /// An empty schedule.
    public init() {}

    /// Streams scheduled.
    public var count: Int { entries.count }

    /// Heap items held, live and stale (bounded by twice ``count`` plus a constant).
    var pendingCount: Int { heap.count }

    /// Schedules `stream` every `periodMs` (> 0), the first at `nowMs + periodMs`; replaces an earlier
    /// schedule of the same stream.
    public mutating func add(_ stream: StreamID, periodMs: Int64, nowMs: Int64) {
        precondition(periodMs > 0, "a heartbeat period must be positive")
        nextTicket += 1
        entries[stream] = Entry(periodMs: periodMs, ticket: nextTicket)
        heap.push(Deadline(deadlineMs: nowMs + periodMs, ticket: nextTicket, id: stream))
        compactIfNeeded(nowMs: nowMs)
    }

    /// Stops the heartbeats of `stream` (its heap item is dropped when it surfaces or at a rebuild).
    public mutating func remove(_ stream: StreamID) {
        entries[stream] = nil
    }

    /// The streams whose heartbeat is due at `nowMs`, each scheduled again one period after `nowMs`
    /// (not after its missed due time, so a late tick sends one heartbeat, not a burst).
    public mutating func takeDue(nowMs: Int64) -> [StreamID] {
        var due: [StreamID] = []
        while let top = heap.popMinLive(where: { [entries] in Self.isCurrent($0, in: entries) }, ifDue: { $0.deadlineMs <= nowMs }),
              let entry = entries[top.id] {
            due.append(top.id)
            heap.push(Deadline(deadlineMs: nowMs + entry.periodMs, ticket: entry.ticket, id: top.id))
        }
        return due
    }

    /// The earliest due time of a scheduled stream, nil when none is.
    public mutating func nextDueMs() -> Int64? {
        heap.minLive { [entries] in Self.isCurrent($0, in: entries) }?.deadlineMs
    }

    /// Whether a heap item carries its stream's current schedule.
    /// (Static and handed the table: a method reference would copy the schedule, heap included, and the
    /// heap would then be copied on its next write.)
    private static func isCurrent(_ item: Deadline<StreamID>, in entries: [StreamID: Entry]) -> Bool {
        entries[item.id]?.ticket == item.ticket
    }

    private mutating func compactIfNeeded(nowMs: Int64) {
        heap.compact(liveCount: entries.count, slack: Self.heapCompactionSlack, keeping: { [entries] in Self.isCurrent($0, in: entries) })
    }
}
