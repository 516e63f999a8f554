import StreamCore

/// Named limits of ``CoordClient/append(space:segment:payloads:fence:limits:)``.
public struct AppendLimits: Sendable {
    /// Attempts per chunk: each conflict means another producer appended in between, so a few are enough
    /// unless the segment is contended; then the call fails with ``CoordError/sequenceConflict(_:)``.
    public var maxAttempts = 8
    /// Records per produce: the server's chunk size (`StoreLimits.chunkMaxRecords`, streamkit's 10,000),
    /// so a conflict leaves nothing of the chunk committed and it can be sent again whole.
    public var chunkRecords = StoreLimits().chunkMaxRecords
    /// Payload bytes per produce: half the server's chunk bound (`StoreLimits.chunkMaxBytes`, 8 MiB),
    /// leaving room for the per-record bytes the server adds, for the same reason.
    public var chunkPayloadBytes = StoreLimits().chunkMaxBytes / 2

    /// The defaults above.
    public init() {}
}

extension CoordClient {
    /// Appends `payloads` to a segment without sequence bookkeeping: reads the head, numbers the records
    /// after it and produces them; when another producer got there first (`sequence_gap`,
    /// `sequence_mismatch`) it reads the head again and retries, up to ``AppendLimits/maxAttempts`` times
    /// per chunk. Payloads go in chunks the server commits whole, so a retried chunk is never committed
    /// twice. With `fence`, every chunk is refused with ``CoordError/fenceMismatch(_:)`` once the lease
    /// has moved on. Returns one status per chunk committed.
    ///
    /// Use ``produce(space:segment:records:fence:)`` to choose the sequences yourself (exactly-once
    /// producers that resume from their own state).
    @discardableResult
    public func append(space: String, segment: String, payloads: [[UInt8]], fence: Fence? = nil,
                       limits: AppendLimits = AppendLimits()) async throws -> [SegmentStatus] {
        var statuses: [SegmentStatus] = []
        for chunk in Self.chunks(payloads, limits: limits) {
            statuses += try await appendChunk(space: space, segment: segment, payloads: chunk, fence: fence, limits: limits)
        }
        return statuses
    }

    private func appendChunk(space: String, segment: String, payloads: ArraySlice<[UInt8]>, fence: Fence?,
                             limits: AppendLimits) async throws -> [SegmentStatus] {
        let client = self
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await coordErrors {
                    let head = try await client.peek(space: space, segment: segment)
                    let records = payloads.enumerated().map { Record(sequence: head.sequence + 1 + UInt64($0.offset), payload: $0.element) }
                    return try await client.produce(space: space, segment: segment, records: records, fence: fence)
                }
            } catch CoordError.sequenceConflict(let message) {
                if attempt >= limits.maxAttempts {
                    throw CoordError.sequenceConflict("\(message) (after \(attempt) attempts)")
                }
            }
        }
    }

    /// `payloads` cut into runs the server commits as one chunk each.
    static func chunks(_ payloads: [[UInt8]], limits: AppendLimits) -> [ArraySlice<[UInt8]>] {
        var chunks: [ArraySlice<[UInt8]>] = []
        var start = 0
        var bytes = 0
        for (index, payload) in payloads.enumerated() {
            if index > start && (index - start >= limits.chunkRecords || bytes + payload.count > limits.chunkPayloadBytes) {
                chunks.append(payloads[start..<index])
                start = index
                bytes = 0
            }
            bytes += payload.count
        }
        if start < payloads.count { chunks.append(payloads[start...]) }
        return chunks
    }
}
