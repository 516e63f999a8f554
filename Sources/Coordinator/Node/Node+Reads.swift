import StreamCore
import Transport

extension Node {
    /// Peek: the head entry, or the empty entry of streamkit v1 §6.3 for an empty or missing segment.
    func peek(_ request: Peek, on stream: any BidiStream) async throws(StreamsError) {
        guard let head = try await store.peek(space: request.space, segment: request.segment) else {
            return try await stream.send(Entry.empty(space: request.space, segment: request.segment))
        }
        try await send(head, on: stream) {
            "it is the segment's head; consume_segment with max_sequence \(head.sequence - 1) reads the entries before it"
        }
    }

    /// The entries a consume may return: 0 and `UInt64.max` mean unlimited, anything else is capped at
    /// `maxConsumeEntries` (streamkit v1 §2.2).
    func effectiveLimit(_ limit: UInt64) -> UInt64 {
        limit == 0 || limit == .max ? .max : min(limit, store.limits.maxConsumeEntries)
    }

    /// An exclusive lower timestamp bound: 0 means none, a future one is clamped to now (§6.2).
    private func lowerTimestamp(_ minTimestamp: Int64) -> Int64 {
        minTimestamp == 0 ? .min : min(minTimestamp, configuration.wallClock.nowMs())
    }

    /// ConsumeSegment: entries in ascending sequence, with inclusive sequence bounds, exclusive minimum and
    /// inclusive maximum timestamp, and the limit rule.
    func consumeSegment(_ request: ConsumeSegment, on stream: any BidiStream) async throws(StreamsError) {
        let limit = effectiveLimit(request.limit)
        let first = max(request.minSequence, 1)
        var range = SegmentRange(
            fromSequence: first,
            toSequence: request.maxSequence == 0 ? .max : max(request.maxSequence, first),
            afterTimestamp: lowerTimestamp(request.minTimestamp),
            throughTimestamp: request.maxTimestamp == 0 ? .max : request.maxTimestamp)
        var sent: UInt64 = 0
        var outgoing = OutgoingEntries(limit: store.limits.maxEntryBytes, batched: request.batched)
        while sent < limit {
            let wanted = Int(min(UInt64(store.limits.readPageSize), limit - sent))
            let page = try await store.readSegment(space: request.space, segment: request.segment, range: range, max: wanted)
            for entry in page {
                try await outgoing.add(entry, on: stream) { "consume_segment from min_sequence \(entry.sequence + 1) reads past it" }
            }
            try await outgoing.flush(on: stream)
            sent += UInt64(page.count)
            guard page.count == wanted, let last = page.last else { return }
            range.fromSequence = last.sequence + 1
        }
    }

    /// ConsumeSpace: entries in space order strictly after the cursor, up to what is safely visible.
    func consumeSpace(_ request: ConsumeSpace, on stream: any BidiStream) async throws(StreamsError) {
        let bound = try await store.visibleBound(space: request.space)
        var reader = SpaceReader(
            space: request.space, cursor: request.offset, afterTimestamp: lowerTimestamp(request.minTimestamp),
            throughTimestamp: min(request.maxTimestamp == 0 ? .max : request.maxTimestamp, bound))
        let limit = effectiveLimit(request.limit)
        var sent: UInt64 = 0
        var outgoing = OutgoingEntries(limit: store.limits.maxEntryBytes, batched: request.batched)
        while sent < limit, let entry = try await reader.next(from: store) {
            try await outgoing.add(entry, on: stream) { "consume_space with offset \(entry.spaceOffset.hex) reads past it" }
            sent += 1
        }
        try await outgoing.flush(on: stream)
    }

    /// Consume: one space read per key of `offsets`, merged by timestamp (ties by space name, so the
    /// order is deterministic), with one limit across all spaces.
    func consume(_ request: Consume, on stream: any BidiStream) async throws(StreamsError) {
        let after = lowerTimestamp(request.minTimestamp)
        var readers: [SpaceReader] = []
        for space in request.offsets.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let bound = try await store.visibleBound(space: space)
            readers.append(SpaceReader(space: space, cursor: request.offsets[space] ?? [], afterTimestamp: after,
                                       throughTimestamp: min(request.maxTimestamp == 0 ? .max : request.maxTimestamp, bound)))
        }
        let limit = effectiveLimit(request.limit)
        var sent: UInt64 = 0
        var outgoing = OutgoingEntries(limit: store.limits.maxEntryBytes, batched: request.batched)
        while sent < limit {
            var best: Int?
            for i in readers.indices {
                guard let head = try await readers[i].peek(from: store) else { continue }
                if let b = best, let current = try await readers[b].peek(from: store), current.timestamp <= head.timestamp { continue }
                best = i
            }
            guard let best, let entry = try await readers[best].next(from: store) else { break }
            try await outgoing.add(entry, on: stream) {
                "consume with offsets[\"\(InputExcerpt.excerpt(entry.space))\"] = \(entry.spaceOffset.hex) reads past it"
            }
            sent += 1
        }
        try await outgoing.flush(on: stream)
    }

    /// Sends one entry read from the store (Peek's answer).
    private func send(_ entry: Entry, on stream: any BidiStream, readPast: () -> String) async throws(StreamsError) {
        var outgoing = OutgoingEntries(limit: store.limits.maxEntryBytes, batched: false)
        try await outgoing.add(entry, on: stream, readPast: readPast)
        try await outgoing.flush(on: stream)
    }

    /// Sends each name as a bare JSON string.
    func sendNames(_ names: [String], on stream: any BidiStream) async throws(StreamsError) {
        for name in names {
            var writer = JSONWriter(capacity: name.utf8.count + 2)
            writer.string(name)
            try await stream.send(writer.bytes)
        }
    }
}

/// Pages through one space in space order, buffering one page at a time.
struct SpaceReader {
    let space: String
    private var cursor: [UInt8]
    private let afterTimestamp: Int64
    private let throughTimestamp: Int64
    private var page: [Entry] = []
    private var position = 0
    private var exhausted = false

    init(space: String, cursor: [UInt8], afterTimestamp: Int64, throughTimestamp: Int64) {
        self.space = space
        self.cursor = cursor
        self.afterTimestamp = afterTimestamp
        self.throughTimestamp = throughTimestamp
    }

    mutating func peek(from store: any StreamStore) async throws(StreamsError) -> Entry? {
        if position == page.count {
            guard !exhausted else { return nil }
            let pageSize = store.limits.readPageSize
            page = try await store.readSpace(space: space, after: cursor, afterTimestamp: afterTimestamp,
                                       throughTimestamp: throughTimestamp, max: pageSize)
            position = 0
            exhausted = page.count < pageSize
            if let last = page.last { cursor = last.spaceOffset.bytes }
            if page.isEmpty { return nil }
        }
        return page[position]
    }

    mutating func next(from store: any StreamStore) async throws(StreamsError) -> Entry? {
        guard let entry = try await peek(from: store) else { return nil }
        position += 1
        return entry
    }
}

/// The entries of a read on their way to the client, handed to the connection a batch at a time
/// (`offer(contentsOf:)`): one trip to the connection's loop, and one wake-up of it, per batch rather than
/// per entry, which was a fifth of the daemon's CPU in a consume of small entries. For a read that asked
/// for `batched` entries, a batch goes as one ``EntryBatch`` message, or as few as the message limit
/// allows; an entry too large for a batch of its own within that limit goes bare.
struct OutgoingEntries {
    /// Entries encoded before they are handed over: enough to spread a trip (and a batch's framing) over,
    /// few enough that the first of a slow read are not held back long.
    static let batchEntries = 64

    /// ``StoreLimits/maxEntryBytes``: the largest entry, and the largest message.
    let limit: Int
    /// Entries go many to a message.
    let batched: Bool
    private var encoded: [[UInt8]] = []

    init(limit: Int, batched: Bool) {
        self.limit = limit
        self.batched = batched
    }

    /// Encodes `entry` to go after those before it, handing the batch over once full.
    ///
    /// An entry whose JSON is over ``StoreLimits/maxEntryBytes`` reaches no client (it was stored by a
    /// build that accepted larger records): the read ends there, after the entries before it, with a
    /// permanent `limit_exceeded` that names the entry, the limit and, from `readPast`, the request that
    /// reads on after it. Without this the transport would refuse it with a bare `muxer payload too large`,
    /// and every retry of the read would stop at the same entry without saying which.
    mutating func add(_ entry: Entry, on stream: any BidiStream, readPast: () -> String) async throws(StreamsError) {
        let bytes = entry.encoded()
        guard bytes.count <= limit else {
            try await flush(on: stream)
            throw .limitExceeded(
                "entry \(InputExcerpt.excerpt(entry.space))/\(InputExcerpt.excerpt(entry.segment)) sequence \(entry.sequence) "
                    + "is \(bytes.count) bytes as JSON, over the \(limit)-byte limit of one message (StoreLimits.maxEntryBytes): "
                    + "it was stored under an older, larger record limit; \(readPast())")
        }
        encoded.append(bytes)
        if encoded.count >= Self.batchEntries { try await flush(on: stream) }
    }

    /// Hands over what is encoded: at once what the connection has room for, the rest waiting for room.
    mutating func flush(on stream: any BidiStream) async throws(StreamsError) {
        guard !encoded.isEmpty else { return }
        let messages = batched ? batches() : encoded
        for message in messages[stream.offer(contentsOf: messages)...] { try await stream.send(message) }
        encoded.removeAll(keepingCapacity: true)
    }

    /// The encoded entries as ``EntryBatch`` messages of at most `limit` bytes each, in order; an entry that
    /// would not fit a batch of its own goes bare.
    private func batches() -> [[UInt8]] {
        var messages: [[UInt8]] = []
        var start = encoded.startIndex
        var bytes = 0
        func close(before end: Int) {
            if end > start { messages.append(EntryBatch.message(joining: encoded[start..<end])) }
            start = end
            bytes = 0
        }
        for (index, entry) in encoded.enumerated() {
            if EntryBatch.messageBytes(count: 1, entryBytes: entry.count) > limit {
                close(before: index)
                messages.append(entry)
                start = index + 1
                continue
            }
            if EntryBatch.messageBytes(count: index - start + 1, entryBytes: bytes + entry.count) > limit { close(before: index) }
            bytes += entry.count
        }
        close(before: encoded.endIndex)
        return messages
    }
}
