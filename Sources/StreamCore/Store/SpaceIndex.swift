/// One entry as the index keeps it; the sequence is its position in the segment (+1).
struct StoredEntry {
    var timestamp: Int64
    var trx: TRX
    var payload: [UInt8]?
    var metadata: [String: String]?
}

/// One segment: its entries in sequence order (sequences start at 1 and have no gaps).
///
/// Only touched under the ``StoreIndex`` lock.
final class SegmentIndex {
    let name: String
    private(set) var entries: [StoredEntry] = []
    private(set) var payloadBytes = 0
    /// Entries and chunks prepared but not yet applied.
    var pendingCount: UInt64 = 0
    var pendingChunks: UInt64 = 0

    let spaceName: String

    init(name: String, space: String) {
        self.name = name
        self.spaceName = space
    }

    var lastSequence: UInt64 { UInt64(entries.count) }
    var lastTrxNumber: UInt64 { entries.last?.trx.number ?? 0 }

    func append(_ entry: Entry) {
        entries.append(StoredEntry(timestamp: entry.timestamp, trx: entry.trx, payload: entry.payload, metadata: entry.metadata))
        payloadBytes += entry.payload?.count ?? 0
    }

    func entry(at index: Int) -> Entry {
        let stored = entries[index]
        return Entry(sequence: UInt64(index + 1), timestamp: stored.timestamp, trx: stored.trx, payload: stored.payload,
                     metadata: stored.metadata, space: spaceName, segment: name)
    }

    var status: SegmentStatus? {
        guard let first = entries.first, let last = entries.last else { return nil }
        return SegmentStatus(space: spaceName, segment: name, firstSequence: 1, firstTimestamp: first.timestamp,
                             lastSequence: UInt64(entries.count), lastTimestamp: last.timestamp)
    }

    func read(range: SegmentRange, max: Int) -> [Entry] {
        guard max > 0, !entries.isEmpty else { return [] }
        let lower = Swift.max(range.fromSequence, 1)
        let upper = Swift.min(range.toSequence, UInt64(entries.count))
        guard lower <= upper else { return [] }
        // Timestamps never decrease along a segment, so the first entry after `afterTimestamp` can be
        // found by binary search instead of a scan.
        var low = Int(lower - 1)
        var high = Int(upper)
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].timestamp <= range.afterTimestamp { low = mid + 1 } else { high = mid }
        }
        var result: [Entry] = []
        var index = low
        while index < Int(upper), result.count < max {
            if entries[index].timestamp > range.throughTimestamp { break }
            result.append(entry(at: index))
            index += 1
        }
        return result
    }
}

/// A reference from the space order to one entry.
struct SpaceRef {
    var timestamp: Int64
    var segment: SegmentIndex
    var sequence: UInt64

    /// Space order: timestamp, then segment name bytes, then sequence (the lexkey order of §6.6).
    func precedes(_ other: SpaceRef) -> Bool {
        if timestamp != other.timestamp { return timestamp < other.timestamp }
        if segment !== other.segment { return bytewise(segment.name, other.segment.name) }
        return sequence < other.sequence
    }
}

/// One space: its segments, its entries in space order, and the timestamp rules.
final class SpaceIndex {
    let name: String
    var segments: [String: SegmentIndex] = [:]
    /// Every entry of the space in (timestamp, segment, sequence) order.
    private(set) var order: [SpaceRef] = []
    /// The newest timestamp assigned to a chunk of this space (committed or in flight).
    var lastAssigned = Int64.min
    /// A read returned entries up to here while the clock was behind them; later chunks go after it.
    var readFloor = Int64.min
    /// Timestamps of chunks prepared but not yet applied, with their counts.
    var inflight: [Int64: Int] = [:]

    init(name: String) { self.name = name }

    func sortedSegmentNames() -> [String] {
        segments.filter { !$0.value.entries.isEmpty }.keys.sorted(by: bytewise)
    }

    /// A chunk's timestamp: the server clock, but never below an earlier chunk of this space nor at or
    /// below what a reader has already been shown (streamkit v1 §6.5's purpose, without its stalls).
    func assignTimestamp(nowMs: Int64) -> Int64 {
        var timestamp = Swift.max(nowMs, lastAssigned)
        if readFloor != Int64.min { timestamp = Swift.max(timestamp, readFloor + 1) }
        lastAssigned = timestamp
        return timestamp
    }

    func release(inflight timestamp: Int64) {
        guard let count = inflight[timestamp] else { return }
        if count <= 1 { inflight[timestamp] = nil } else { inflight[timestamp] = count - 1 }
    }

    /// The newest timestamp a read may return now. Entries of the current millisecond stay hidden until
    /// it has passed (a later chunk of the same millisecond could sort before them by segment name);
    /// chunks still in flight hold the bound just below their timestamp. When the wall clock is behind
    /// the space's timestamps, everything committed is shown and later chunks are pushed after it.
    func visibleBound(nowMs: Int64) -> Int64 {
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

    func insertInOrder(_ ref: SpaceRef) {
        // Chunks arrive in timestamp order, so the place is almost always the end; walk back only over
        // entries of the same millisecond that sort after it.
        var index = order.count
        while index > 0, ref.precedes(order[index - 1]) { index -= 1 }
        order.insert(ref, at: index)
    }

    func read(after cursor: [UInt8], afterTimestamp: Int64, throughTimestamp: Int64, max: Int) -> [Entry] {
        guard max > 0, !order.isEmpty else { return [] }
        var start = 0
        if !cursor.isEmpty {
            // Exclusive cursor: start strictly after EncodeFirst(cursor) (streamkit v1 §6.6).
            let bound = LexKey(bytes: cursor + [0])
            var low = 0
            var high = order.count
            while low < high {
                let mid = (low + high) / 2
                if key(of: order[mid]) <= bound { low = mid + 1 } else { high = mid }
            }
            start = low
        }
        var low = start
        var high = order.count
        while low < high {
            let mid = (low + high) / 2
            if order[mid].timestamp <= afterTimestamp { low = mid + 1 } else { high = mid }
        }
        var result: [Entry] = []
        var index = low
        while index < order.count, result.count < max {
            let ref = order[index]
            if ref.timestamp > throughTimestamp { break }
            result.append(ref.segment.entry(at: Int(ref.sequence - 1)))
            index += 1
        }
        return result
    }

    private func key(of ref: SpaceRef) -> LexKey {
        .spaceOffset(space: name, timestamp: ref.timestamp, segment: ref.segment.name, sequence: ref.sequence)
    }
}
