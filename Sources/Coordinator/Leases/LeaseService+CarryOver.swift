import LeaseEngine
import StreamCore

extension LeaseService {
    /// The segment of ``SystemSpace/leases`` where stores kept their lease events before the lease log.
    static let oldEventSegment = "events"

    /// Carries the leases of a store written before the lease log into its (empty) lease log: the old
    /// events in ``SystemSpace/leases`` are replayed, and the resulting state is written as the lease
    /// log's first checkpoint, which is durable before this returns. Nil when the store has no such
    /// events. From then on the lease log is not empty, so this never runs again, and the file store
    /// no longer indexes the old events when it opens.
    ///
    /// The checkpoint is the lease log's first record and nothing is appended before it is durable (the
    /// service is not open yet): if it fails, the open fails and the next open carries the events over
    /// again.
    static func carryOverOldEvents(of store: any StreamStore, limits: LeaseLimits, now: Int64) async throws(StreamsError)
        -> LeaseEngine?
    {
        var events: [LeaseEvent] = []
        var range = SegmentRange(fromSequence: 1, toSequence: .max, afterTimestamp: .min, throughTimestamp: .max)
        while true {
            let page = try await store.readSegment(space: SystemSpace.leases, segment: oldEventSegment, range: range,
                                             max: store.limits.readPageSize)
            for entry in page {
                do {
                    events.append(try LeaseEvent(decoding: entry.payload ?? []))
                } catch {
                    throw .storage("lease event \(entry.sequence) of \(SystemSpace.leases) is unreadable: \(error)")
                }
            }
            guard let last = page.last, page.count == store.limits.readPageSize else { break }
            range.fromSequence = last.sequence + 1
        }
        guard !events.isEmpty else { return nil }
        let engine = LeaseEngine.recover(from: events, now: now, limits: limits)
        try await store.leaseLog.appendCheckpoint(engine.checkpointRecords()).durable()
        return engine
    }
}
