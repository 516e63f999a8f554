import StreamCore
import Transport

extension Node {
    /// Produce (streamkit v1 §2.2, §6.1): records arrive as bare JSON until the client half-closes; they
    /// are committed in chunks of up to `chunkMaxRecords` (or `chunkMaxBytes`), and each committed chunk is
    /// answered with one cumulative SegmentStatus. A failing chunk ends the stream with its error; chunks
    /// committed before it stay committed. With `batched` (coordd's `produce_batches`), each message is a
    /// ``RecordBatch`` whose records are taken in order as if each had come alone.
    func produce(_ request: Produce, batched: Bool, on stream: any BidiStream) async throws(StreamsError) {
        guard !request.space.isEmpty, !request.segment.isEmpty else { throw .invalidProduceArgs }
        let limits = store.limits
        let precheck = request.fence.map { leases.fenceCheck($0) }
        var chunk: [Record] = []
        var chunkBytes = 0

        func commit() async throws(StreamsError) {
            let status = try await store.append(AppendRequest(
                space: request.space, segment: request.segment, records: chunk, precheck: precheck))
            segmentSubscriptions.publish(status)
            configuration.metrics.produced(entries: chunk.count, payloadBytes: chunk.reduce(0) { $0 + ($1.payload?.count ?? 0) })
            try await stream.send(status)
            chunk.removeAll(keepingCapacity: true)
            chunkBytes = 0
        }

        func add(_ record: Record) async throws(StreamsError) {
            chunkBytes += record.storedSize
            chunk.append(record)
            if chunk.count >= limits.chunkMaxRecords || chunkBytes >= limits.chunkMaxBytes { try await commit() }
        }

        while let message = try await stream.receive() {
            if batched {
                for record in try RecordBatch(decoding: message).records { try await add(record) }
            } else {
                try await add(Record(decoding: message))
            }
        }
        if !chunk.isEmpty { try await commit() }
    }
}
