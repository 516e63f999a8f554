/// The timestamp rules of one space, shared by every store backend: a chunk's timestamp is the server
/// clock but never below an earlier chunk of the space nor at or below what a reader has been shown, and
/// ``visibleBound(nowMs:)`` tells a space read how far it may go without a later commit sorting before it
/// (streamkit v1 §6.5's purpose, without its stalls).
///
/// Not thread-safe: each store keeps it under the lock that orders its chunks.
public struct SpaceClock: Sendable {
    /// The newest timestamp assigned to a chunk of this space (committed or in flight).
    public private(set) var lastAssigned = Int64.min
    /// A read returned entries up to here while the clock was behind them; later chunks go after it.
    private var readFloor = Int64.min
    /// Timestamps of chunks assigned but not yet committed or withdrawn, with their counts.
    private var inflight: [Int64: Int] = [:]

    /// A clock for a space whose chunks so far end at `lastCommitted` (nil for a new space).
    public init(lastCommitted: Int64? = nil) {
        if let lastCommitted { lastAssigned = lastCommitted }
    }

    /// Assigns the next chunk's timestamp and holds space reads back below it until ``end(_:)``.
    public mutating func begin(nowMs: Int64) -> Int64 {
        var timestamp = Swift.max(nowMs, lastAssigned)
        if readFloor != Int64.min { timestamp = Swift.max(timestamp, readFloor + 1) }
        lastAssigned = timestamp
        inflight[timestamp, default: 0] += 1
        return timestamp
    }

    /// The chunk assigned `timestamp` is committed or withdrawn: it no longer holds reads back.
    public mutating func end(_ timestamp: Int64) {
        guard let count = inflight[timestamp] else { return }
        if count <= 1 { inflight[timestamp] = nil } else { inflight[timestamp] = count - 1 }
    }

    /// A chunk at `timestamp` is in the space (read back from storage): later ones go no lower.
    public mutating func restored(_ timestamp: Int64) {
        lastAssigned = Swift.max(lastAssigned, timestamp)
    }

    /// The newest timestamp a read may return now. Entries of the current millisecond stay hidden until
    /// it has passed (a later chunk of the same millisecond could sort before them by segment name);
    /// chunks still in flight hold the bound just below their timestamp. When the wall clock is behind
    /// the space's timestamps, everything committed is shown and later chunks are pushed after it.
    public mutating func visibleBound(nowMs: Int64) -> Int64 {
        var bound = lastAssigned
        if let oldestInflight = inflight.keys.min() { bound = Swift.min(bound, oldestInflight - 1) }
        if bound >= nowMs {
            if lastAssigned <= nowMs {
                bound = nowMs - 1
            } else {
                readFloor = Swift.max(readFloor, bound)
            }
        }
        return bound
    }
}
