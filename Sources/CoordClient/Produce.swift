import Synchronization
import Transport

extension CoordClient {
    /// Writes `records` to a segment and returns one status per committed chunk. Each record must carry
    /// the next sequence of the segment (last + 1, then + 1 …); the first wrong one ends the produce with a
    /// permanent `sequence_gap` error, keeping the chunks committed before it. A stream that ends cleanly
    /// before the last record is acknowledged throws the transient `stream_closed`.
    ///
    /// The records travel many to a message on coordd's `produce_batches` stream. A server without it (an
    /// older coordd, a streamkit server) refuses that stream as an unknown request before reading a record;
    /// the produce is then made as a `Produce`, one record per message, and so is every later one of this
    /// client.
    @discardableResult
    public func produce(space: String, segment: String, records: [Record], fence: Fence? = nil)
        async throws(StreamsError) -> [SegmentStatus]
    {
        let request = Produce(space: space, segment: segment, fence: fence)
        if !produceBatching.refused {
            let batched = await produce(request, records: records, batched: true)
            guard let failure = batched.failure, failure.isUnknownRequest, batched.statuses.isEmpty else {
                return try batched.statuses(for: records)
            }
            produceBatching.refuse()
        }
        return try await produce(request, records: records, batched: false).statuses(for: records)
    }

    /// Records a produce encodes and hands to the connection at once when each is its own message: enough
    /// that a batch costs one write, few enough that a large produce does not hold all of its records
    /// encoded twice.
    static let produceBatchRecords = 64
    /// Stored bytes of records (``Record/storedSize``) one ``RecordBatch`` message carries at most, beyond
    /// the one record that starts it: its encoding, about 4/3 of that, stays far below the 6 MiB message
    /// limit, and a large produce holds one such message encoded at a time.
    static let produceBatchBytes = 256 << 10

    /// One produce stream: the statuses it answered, and the error that ended it, if any.
    private struct ProduceOutcome {
        var statuses: [SegmentStatus]
        var failure: StreamsError?

        /// The statuses, or the error: a failure, or a stream that ended cleanly short of the last record.
        func statuses(for records: [Record]) throws(StreamsError) -> [SegmentStatus] {
            if let failure { throw failure }
            // Each committed chunk is answered, the last with the last record's sequence: a stream that
            // ended cleanly short of that left the last records' fate unknown, which only a retry can settle.
            if let last = records.last, statuses.last?.lastSequence != last.sequence {
                throw .streamClosed("the produce ended before its record \(last.sequence) was acknowledged")
            }
            return statuses
        }
    }

    private func produce(_ request: Produce, records: [Record], batched: Bool) async -> ProduceOutcome {
        let stream: any BidiStream
        do throws(StreamsError) {
            stream = batched ? try await open(ProduceBatches(request)) : try await open(request)
        } catch {
            return ProduceOutcome(statuses: [], failure: error)
        }
        defer { stream.close(error: nil) }
        // Statuses are read while records are still being sent: a long produce commits many chunks, and
        // leaving their statuses unread would fill the stream's buffer and stall both sides.
        let reader = Task { () -> ProduceOutcome in
            var outcome = ProduceOutcome(statuses: [], failure: nil)
            do throws(StreamsError) {
                while let status = try await stream.receive(SegmentStatus.self) { outcome.statuses.append(status) }
            } catch {
                outcome.failure = error
            }
            return outcome
        }
        var sendError: StreamsError?
        do throws(StreamsError) {
            // Messages are made a few at a time, each handed to the connection in one go when it has room
            // (one trip to the connection's thread and one write); what it has no room for is sent waiting.
            var start = records.startIndex
            while start < records.endIndex {
                let (end, messages) = batched
                    ? Self.batchMessage(records, from: start) : Self.recordMessages(records, from: start)
                for message in messages[stream.offer(contentsOf: messages)...] { try await stream.send(message) }
                start = end
            }
            stream.closeSend(error: nil)
        } catch {
            sendError = error
            stream.closeSend(error: error)
        }
        // The server's verdict comes first: a send fails only because the server already ended the stream.
        var outcome = await reader.value
        if outcome.failure == nil, let sendError { outcome.failure = sendError }
        return outcome
    }

    /// The next records from `start`, one message each, and where the ones after them start.
    private static func recordMessages(_ records: [Record], from start: Int) -> (Int, [[UInt8]]) {
        let end = min(start + produceBatchRecords, records.endIndex)
        return (end, records[start..<end].map { $0.encoded() })
    }

    /// The next records from `start` as one ``RecordBatch`` of up to ``produceBatchBytes``, and where the
    /// ones after them start.
    private static func batchMessage(_ records: [Record], from start: Int) -> (Int, [[UInt8]]) {
        var end = start + 1
        var bytes = records[start].storedSize
        while end < records.endIndex, bytes + records[end].storedSize <= produceBatchBytes {
            bytes += records[end].storedSize
            end += 1
        }
        return (end, [RecordBatch(records: Array(records[start..<end])).encoded()])
    }
}

/// Whether a client's server refused `produce_batches` as an unknown request: learned once.
final class ProduceBatching: Sendable {
    private let refusedByServer = Atomic(false)

    /// True once the server was found not to know `produce_batches`.
    var refused: Bool { refusedByServer.load(ordering: .relaxed) }

    /// Remembers that the server does not know `produce_batches`.
    func refuse() {
        refusedByServer.store(true, ordering: .relaxed)
    }
}
