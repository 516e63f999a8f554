import StreamCore
import Transport

extension Node {
    /// Produce (streamkit v1 §2.2, §6.1): records arrive as bare JSON until the client half-closes; they
    /// are committed in chunks of up to `chunkMaxRecords` (or `chunkMaxBytes`), and each committed chunk is
    /// answered with one cumulative SegmentStatus. A failing chunk ends the stream with its error; chunks
    /// committed before it stay committed.
    func produce(_ request: Produce, on stream: any BidiStream) async throws(StreamsError) {
        guard !request.space.isEmpty, !request.segment.isEmpty else { throw .invalidProduceArgs }
        let limits = store.limits
        let precheck = request.fence.map { leases.fenceCheck($0) }
        var chunk: [Record] = []
        var chunkBytes = 0
        while true {
            let message = try await stream.receive()
            if let message {
                let record = try Record(decoding: message)
                chunkBytes += record.storedSize
                chunk.append(record)
                if chunk.count < limits.chunkMaxRecords && chunkBytes < limits.chunkMaxBytes { continue }
            }
            if !chunk.isEmpty {
                let status = try await store.append(AppendRequest(
                    space: request.space, segment: request.segment, records: chunk, precheck: precheck))
                segmentSubscriptions.publish(status)
                configuration.metrics.produced(entries: chunk.count, payloadBytes: chunk.reduce(0) { $0 + ($1.payload?.count ?? 0) })
                try await stream.send(status)
                chunk.removeAll(keepingCapacity: true)
                chunkBytes = 0
            }
            if message == nil { return }
        }
    }
}
