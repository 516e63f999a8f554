/// Where an entry's payload and metadata live: in memory, or in the log (read back on demand).
enum EntryBody {
    case inline(payload: [UInt8]?, metadata: [String: String]?)
    case logged(LogPosition)
}

/// One entry as the index keeps it; the sequence is its position in the segment (+1).
struct StoredEntry {
    var timestamp: Int64
    var trx: TRX
    var body: EntryBody
}

/// One segment: its entries in sequence order (sequences start at 1 and have no gaps).
///
/// Only touched under the ``StoreIndex`` lock.
final class SegmentIndex {
    let name: String
    private(set) var entries: [StoredEntry] = []
    private(set) var payloadBytes = 0
    /// Chunks prepared but not yet applied, in sequence order (in flight to the log, pipelined).
    var inflight: [InflightChunk] = []
    /// Entries of the chunks in flight: the next chunk's sequences follow them.
    var pendingCount: UInt64 { inflight.reduce(0) { $0 + UInt64($1.chunk.entries.count) } }
    /// Timestamp of the segment's first chunk, set when that chunk is prepared, so the status of a chunk
    /// that follows it in flight already has it.
    var firstTimestamp: Int64?

    let spaceName: String

    init(name: String, space: String) {
        self.name = name
        self.spaceName = space
    }

    var lastSequence: UInt64 { UInt64(entries.count) }

    func addPayloadBytes(_ bytes: Int) { payloadBytes += bytes }
    var lastTrxNumber: UInt64 { entries.last?.trx.number ?? 0 }

    func append(_ stored: StoredEntry, payloadSize: Int) {
        entries.append(stored)
        payloadBytes += payloadSize
    }

    func entry(at index: Int) -> IndexedEntry {
        let stored = entries[index]
        var entry = Entry(sequence: UInt64(index + 1), timestamp: stored.timestamp, trx: stored.trx, payload: nil,
                          metadata: nil, space: spaceName, segment: name)
        switch stored.body {
        case .inline(let payload, let metadata):
            entry.payload = payload
            entry.metadata = metadata
            return IndexedEntry(entry: entry, position: nil)
        case .logged(let position):
            return IndexedEntry(entry: entry, position: position)
        }
    }

    var status: SegmentStatus? {
        guard let first = entries.first, let last = entries.last else { return nil }
        return SegmentStatus(space: spaceName, segment: name, firstSequence: 1, firstTimestamp: first.timestamp,
                             lastSequence: UInt64(entries.count), lastTimestamp: last.timestamp)
    }

    func read(range: SegmentRange, max: Int) -> [IndexedEntry] {
        guard max > 0, !entries.isEmpty else { return [] }
        let lower = Swift.max(range.fromSequence, 1)
        let upper = Swift.min(range.toSequence, UInt64(entries.count))
        guard lower <= upper else { return [] }
        // Timestamps never decrease along a segment, so the first entry after `afterTimestamp` can be
        // found by binary search instead of a scan.
        let start = Int(lower - 1)
        var index = start + lowerBound(Int(upper) - start) { entries[start + $0].timestamp <= range.afterTimestamp }
        var result: [IndexedEntry] = []
        while index < Int(upper), result.count < max {
            if entries[index].timestamp > range.throughTimestamp { break }
            result.append(entry(at: index))
            index += 1
        }
        return result
    }
}

/// Consecutive entries of one segment that share one timestamp: a segment's entries of one millisecond
/// always have consecutive sequences, so the space order stores runs instead of one reference per entry.
struct SpaceRun {
    var segment: SegmentIndex
    var first: UInt64
    var last: UInt64
}

/// All runs of one millisecond in a space, sorted by segment name bytes (then first sequence).
struct TimeBucket {
    var timestamp: Int64
    var runs: [SpaceRun]
}

/// One space: its segments, its entries in space order, and the timestamp rules.
final class SpaceIndex {
    let name: String
    var segments: [String: SegmentIndex] = [:]
    /// Every entry of the space in (timestamp, segment, sequence) order, as runs grouped by millisecond.
    private(set) var buckets: [TimeBucket] = []
    /// The space's timestamp rules (shared with every store backend).
    var clock = SpaceClock()

    init(name: String) { self.name = name }

    func sortedSegmentNames() -> [String] {
        segments.filter { !$0.value.entries.isEmpty }.keys.sorted(by: bytewise)
    }

    /// Adds a committed chunk (sequences `first...last` of `segment`, all at `timestamp`) to the space order.
    func insert(segment: SegmentIndex, first: UInt64, last: UInt64, timestamp: Int64) {
        // Chunks almost always arrive in timestamp order, so the bucket is the last one; an older one
        // (two chunks applied out of their prepare order) is found by binary search.
        var index = buckets.count
        if buckets.last.map({ $0.timestamp > timestamp }) == true {
            index = lowerBound(buckets.count) { buckets[$0].timestamp < timestamp }
        } else if buckets.last?.timestamp == timestamp {
            index -= 1
        }
        if index == buckets.count || buckets[index].timestamp != timestamp {
            buckets.insert(TimeBucket(timestamp: timestamp, runs: []), at: index)
        }
        let runs = buckets[index].runs
        let position = lowerBound(runs.count) { i in
            runs[i].segment === segment ? runs[i].first < first : bytewise(runs[i].segment.name, segment.name)
        }
        if position > 0, runs[position - 1].segment === segment, runs[position - 1].last + 1 == first {
            buckets[index].runs[position - 1].last = last
        } else {
            buckets[index].runs.insert(SpaceRun(segment: segment, first: first, last: last), at: position)
        }
    }

    func read(after cursor: [UInt8], afterTimestamp: Int64, throughTimestamp: Int64, max: Int) -> [IndexedEntry] {
        guard max > 0, !buckets.isEmpty else { return [] }
        var position = Position(bucket: 0, run: 0, sequence: buckets[0].runs[0].first)
        if !cursor.isEmpty {
            // Exclusive cursor: start at the first key above EncodeFirst(cursor) (streamkit v1 §6.6).
            position = firstPosition(above: LexKey(bytes: cursor + [0]))
        }
        let byTime = lowerBound(buckets.count) { buckets[$0].timestamp <= afterTimestamp }
        if byTime > position.bucket { position = Position(bucket: byTime, run: 0, sequence: 0) }
        var result: [IndexedEntry] = []
        while position.bucket < buckets.count, result.count < max {
            let bucket = buckets[position.bucket]
            if bucket.timestamp > throughTimestamp { break }
            while position.run < bucket.runs.count, result.count < max {
                let run = bucket.runs[position.run]
                var sequence = Swift.max(position.sequence, run.first)
                while sequence <= run.last, result.count < max {
                    result.append(run.segment.entry(at: Int(sequence - 1)))
                    sequence += 1
                }
                if sequence <= run.last { break }
                position.run += 1
                position.sequence = 0
            }
            if position.run >= bucket.runs.count {
                position = Position(bucket: position.bucket + 1, run: 0, sequence: 0)
            }
        }
        return result
    }

    /// A place in the space order: a bucket, a run in it, and a sequence in that run.
    private struct Position {
        var bucket: Int
        var run: Int
        var sequence: UInt64
    }

    /// The position of the first key strictly above `bound`, by binary searches over buckets, runs and
    /// sequences (keys grow along each of them).
    private func firstPosition(above bound: LexKey) -> Position {
        let bucket = lowerBound(buckets.count) { b in
            let runs = buckets[b].runs
            let run = runs[runs.count - 1]
            return key(buckets[b].timestamp, run.segment, run.last) <= bound
        }
        guard bucket < buckets.count else { return Position(bucket: bucket, run: 0, sequence: 0) }
        let runs = buckets[bucket].runs
        let timestamp = buckets[bucket].timestamp
        let run = lowerBound(runs.count) { r in key(timestamp, runs[r].segment, runs[r].last) <= bound }
        let first = runs[run].first
        let offset = lowerBound(Int(runs[run].last - first + 1)) { i in
            key(timestamp, runs[run].segment, first + UInt64(i)) <= bound
        }
        return Position(bucket: bucket, run: run, sequence: first + UInt64(offset))
    }

    private func key(_ timestamp: Int64, _ segment: SegmentIndex, _ sequence: UInt64) -> LexKey {
        .spaceOffset(space: name, timestamp: timestamp, segment: segment.name, sequence: sequence)
    }
}

/// The first index in `0..<count` for which `isBelow` is false (`isBelow` must be true then false).
func lowerBound(_ count: Int, _ isBelow: (Int) -> Bool) -> Int {
    var low = 0
    var high = count
    while low < high {
        let mid = (low + high) / 2
        if isBelow(mid) { low = mid + 1 } else { high = mid }
    }
    return low
}
