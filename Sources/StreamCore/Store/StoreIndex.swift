import Synchronization

/// An entry read from the index: complete when its body is in memory, or to be completed from the log
/// at `position`.
public struct IndexedEntry: Sendable {
    /// The entry (payload and metadata nil while `position` is set).
    public var entry: Entry
    /// Where the payload and metadata are in the log, for durable stores.
    public var position: LogPosition?
}

/// Where a chunk in flight stands: nil until its write has an outcome, then its entries' log positions
/// or why it failed. Read under the index lock, so it must not wait.
public typealias ChunkOutcome = @Sendable () -> Result<[LogPosition], StreamsError>?

/// A chunk in flight with what tells when it is settled.
struct InflightChunk {
    let chunk: PreparedChunk
    let outcome: ChunkOutcome
}

/// A chunk that passed validation and holds its place in the log order, not yet visible to readers.
public struct PreparedChunk: Sendable {
    /// The committed entries, with sequences, timestamp and TRX assigned.
    public var entries: [Entry]
    /// The segment's status once the chunk is applied.
    public var status: SegmentStatus
}

/// The in-memory index shared by the memory and file stores: spaces → segments → entries, plus the
/// space order used by space reads, and the rules that make timestamps and cursors safe.
///
/// All state sits behind one `Mutex`; every method holds it only for a bounded amount of work (one
/// chunk, or one page of a read), so readers and writers interleave finely.
public final class StoreIndex: Sendable {
    private let state: Mutex<IndexState>
    /// The limits validated here.
    public let limits: StoreLimits

    /// Creates an empty index.
    public init(limits: StoreLimits) {
        self.limits = limits
        state = Mutex(IndexState())
    }

    // MARK: Writing

    /// Validates `request` and assigns sequences, the timestamp and the TRX after those of the segment's
    /// chunks still in flight; the chunk is in flight (holding back space reads at its timestamp) until
    /// ``settle(_:)`` finds its outcome.
    ///
    /// `submit` runs under the index lock right after the chunk is prepared, so whatever it queues (the
    /// log append) takes the same order as the chunk; it returns how to tell the chunk's outcome. If it
    /// throws, the chunk is withdrawn.
    public func prepare(
        _ request: AppendRequest, nowMs: Int64, submit: (PreparedChunk) throws(StreamsError) -> ChunkOutcome
    ) throws(StreamsError) -> PreparedChunk {
        try limits.validate(request)
        return try state.withLock { s throws(StreamsError) in
            let chunk = try s.prepare(request, nowMs: nowMs)
            do throws(StreamsError) {
                let outcome = try submit(chunk)
                // `prepare` made the segment: it is there.
                s.spaces[request.space]?.segments[request.segment]?.inflight.append(InflightChunk(chunk: chunk, outcome: outcome))
                return chunk
            } catch {
                s.abort(chunk)
                throw error
            }
        }
    }

    /// Makes visible (or withdraws, if its write failed) every chunk in flight of `chunk`'s segment, from
    /// the first, whose outcome is known, in order. Called once `chunk`'s outcome is known: the log gives
    /// outcomes in log order, so every chunk before it is settled too, and `chunk` is visible (or gone)
    /// when this returns, whichever of the tasks waiting for them runs first.
    public func settle(_ chunk: PreparedChunk) {
        guard let first = chunk.entries.first else { return }
        state.withLock { s in
            guard let segment = s.spaces[first.space]?.segments[first.segment] else { return }
            while let head = segment.inflight.first, let outcome = head.outcome() {
                segment.inflight.removeFirst()
                switch outcome {
                case .success(let positions): s.apply(head.chunk, positions: positions)
                case .failure: s.abort(head.chunk)
                }
            }
        }
    }

    /// Validates, prepares and applies in one step (the memory store, and log replay).
    public func commit(_ request: AppendRequest, nowMs: Int64) throws(StreamsError) -> PreparedChunk {
        try limits.validate(request)
        return try state.withLock { s throws(StreamsError) in
            let chunk = try s.prepare(request, nowMs: nowMs)
            s.apply(chunk, positions: nil)
            return chunk
        }
    }

    /// Restores a chunk read back from the log, exactly as it was committed. Throws when it does not
    /// continue its segment (a log that is intact but inconsistent), instead of trapping.
    public func restore(_ chunk: RestoredChunk) throws(StreamsError) {
        try state.withLock { s throws(StreamsError) in try s.restore(chunk) }
    }

    // MARK: Reading

    /// The segment's head entry.
    public func peek(space: String, segment: String) -> IndexedEntry? {
        state.withLock { s in
            guard let seg = s.spaces[space]?.segments[segment], !seg.entries.isEmpty else { return nil }
            return seg.entry(at: seg.entries.count - 1)
        }
    }

    /// The segment's status, or nil when it has no entries.
    public func status(space: String, segment: String) -> SegmentStatus? {
        state.withLock { s in s.spaces[space]?.segments[segment]?.status }
    }

    /// Statuses of every non-empty segment of the space, sorted by name bytes.
    public func statuses(space: String) -> [SegmentStatus] {
        state.withLock { s in
            guard let sp = s.spaces[space] else { return [] }
            return sp.sortedSegmentNames().compactMap { sp.segments[$0]?.status }
        }
    }

    /// Up to `max` entries of one segment within `range`.
    public func readSegment(space: String, segment: String, range: SegmentRange, max: Int) -> [IndexedEntry] {
        state.withLock { s in
            s.spaces[space]?.segments[segment]?.read(range: range, max: max) ?? []
        }
    }

    /// Up to `max` entries of a space after the cursor, in space order, within the timestamp bounds.
    public func readSpace(space: String, after: [UInt8], afterTimestamp: Int64, throughTimestamp: Int64, max: Int) -> [IndexedEntry] {
        state.withLock { s in
            s.spaces[space]?.read(after: after, afterTimestamp: afterTimestamp, throughTimestamp: throughTimestamp, max: max) ?? []
        }
    }

    /// See ``StreamStore/visibleBound(space:)``.
    public func visibleBound(space: String, nowMs: Int64) -> Int64 {
        state.withLock { s in s.spaces[space]?.clock.visibleBound(nowMs: nowMs) ?? nowMs }
    }

    /// User space names, ascending by bytes.
    public func spaces() -> [String] {
        state.withLock { s in
            s.spaces.filter { !$0.value.segments.isEmpty && !SystemSpace.isSystem($0.key) }.keys.sorted(by: bytewise)
        }
    }

    /// Segment names of one space, ascending by bytes.
    public func segments(space: String) -> [String] {
        state.withLock { s in s.spaces[space]?.sortedSegmentNames() ?? [] }
    }

    /// Counts over user spaces.
    public func stats() -> StoreStats {
        state.withLock { s in
            var stats = StoreStats()
            for (name, space) in s.spaces where !SystemSpace.isSystem(name) && !space.segments.isEmpty {
                stats.spaces += 1
                stats.segments += space.segments.count
                for segment in space.segments.values {
                    stats.entries += segment.entries.count
                    stats.payloadBytes += segment.payloadBytes
                }
            }
            return stats
        }
    }
}

/// Byte order of names (streamkit sorts names by their bytes).
@inline(__always)
func bytewise(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}

/// The mutable index behind the lock.
struct IndexState {
    var spaces: [String: SpaceIndex] = [:]

    mutating func space(_ name: String) -> SpaceIndex {
        if let existing = spaces[name] { return existing }
        let created = SpaceIndex(name: name)
        spaces[name] = created
        return created
    }

    mutating func prepare(_ request: AppendRequest, nowMs: Int64) throws(StreamsError) -> PreparedChunk {
        if let precheck = request.precheck, let refusal = precheck() { throw refusal }
        // Check before creating anything, so refused requests with made-up names leave no trace.
        let existing = spaces[request.space]?.segments[request.segment]
        let base = (existing?.lastSequence ?? 0) + (existing?.pendingCount ?? 0)
        if request.sequencing == .expected {
            for (offset, record) in request.records.enumerated() where record.sequence != base + UInt64(offset) + 1 {
                throw .sequenceGap(expected: base + UInt64(offset) + 1, got: record.sequence)
            }
        }
        let space = self.space(request.space)
        let segment = existing ?? SegmentIndex(name: request.segment, space: request.space)
        var sequence = base
        let timestamp = space.clock.begin(nowMs: nowMs)
        let trx = TRX(id: .random(), number: segment.lastTrxNumber + UInt64(segment.inflight.count) + 1)
        var entries: [Entry] = []
        entries.reserveCapacity(request.records.count)
        for record in request.records {
            sequence += 1
            entries.append(Entry(sequence: sequence, timestamp: timestamp, trx: trx, payload: record.payload,
                                 metadata: record.metadata, space: request.space, segment: request.segment))
        }
        if space.segments[request.segment] == nil { space.segments[request.segment] = segment }
        if segment.firstTimestamp == nil { segment.firstTimestamp = timestamp }
        let first = segment.firstTimestamp ?? timestamp
        let status = SegmentStatus(space: request.space, segment: request.segment, firstSequence: 1, firstTimestamp: first,
                                   lastSequence: sequence, lastTimestamp: timestamp)
        return PreparedChunk(entries: entries, status: status)
    }

    mutating func apply(_ chunk: PreparedChunk, positions: [LogPosition]?) {
        guard let first = chunk.entries.first else { return }
        precondition(positions == nil || positions?.count == chunk.entries.count, "one log position per entry")
        let space = self.space(first.space)
        let segment = space.segments[first.segment] ?? SegmentIndex(name: first.segment, space: first.space)
        space.segments[first.segment] = segment
        space.clock.end(first.timestamp)
        precondition(first.sequence == segment.lastSequence + 1,
                     "chunk \(first.sequence) applied out of order after \(segment.lastSequence) in \(first.segment)")
        for (i, entry) in chunk.entries.enumerated() {
            let body: EntryBody = positions.map { .logged($0[i]) } ?? .inline(payload: entry.payload, metadata: entry.metadata)
            segment.append(StoredEntry(timestamp: entry.timestamp, trx: entry.trx, body: body),
                           payloadSize: entry.payload?.count ?? 0)
        }
        space.insert(segment: segment, first: first.sequence, last: segment.lastSequence, timestamp: first.timestamp)
        space.clock.restored(first.timestamp)
    }

    mutating func restore(_ chunk: RestoredChunk) throws(StreamsError) {
        guard !chunk.positions.isEmpty else { return }
        let space = self.space(chunk.space)
        let segment = space.segments[chunk.segment] ?? SegmentIndex(name: chunk.segment, space: chunk.space)
        guard chunk.firstSequence == segment.lastSequence + 1 else {
            throw .storage("log is inconsistent: chunk of \(chunk.space)/\(chunk.segment) starts at sequence "
                           + "\(chunk.firstSequence) after \(segment.lastSequence)")
        }
        space.segments[chunk.segment] = segment
        if segment.firstTimestamp == nil { segment.firstTimestamp = chunk.timestamp }
        for position in chunk.positions {
            segment.append(StoredEntry(timestamp: chunk.timestamp, trx: chunk.trx, body: .logged(position)), payloadSize: 0)
        }
        segment.addPayloadBytes(chunk.payloadBytes)
        space.insert(segment: segment, first: chunk.firstSequence, last: segment.lastSequence, timestamp: chunk.timestamp)
        space.clock.restored(chunk.timestamp)
    }

    mutating func abort(_ chunk: PreparedChunk) {
        guard let first = chunk.entries.first, let space = spaces[first.space],
              let segment = space.segments[first.segment] else { return }
        space.clock.end(first.timestamp)
        if segment.entries.isEmpty && segment.inflight.isEmpty { segment.firstTimestamp = nil }
    }
}

/// A chunk as the log holds it: where its entries are, and what they share.
public struct RestoredChunk: Sendable {
    /// The space.
    public var space: String
    /// The segment.
    public var segment: String
    /// Sequence of the first entry.
    public var firstSequence: UInt64
    /// The chunk's timestamp.
    public var timestamp: Int64
    /// The chunk's transaction.
    public var trx: TRX
    /// Each entry's record in the log, in sequence order.
    public var positions: [LogPosition]
    /// Sum of the entries' payload sizes.
    public var payloadBytes: Int

    /// Creates a restored chunk.
    public init(space: String, segment: String, firstSequence: UInt64, timestamp: Int64, trx: TRX,
                positions: [LogPosition] = [], payloadBytes: Int = 0) {
        self.space = space
        self.segment = segment
        self.firstSequence = firstSequence
        self.timestamp = timestamp
        self.trx = trx
        self.positions = positions
        self.payloadBytes = payloadBytes
    }
}
