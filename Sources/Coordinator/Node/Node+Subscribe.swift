import StreamCore
import Transport

extension Node {
    /// SubscribeToSegmentStatus (streamkit v1 §2.2): a snapshot of the current status(es), then live
    /// statuses as chunks commit, and heartbeats when asked for. Runs until the client closes the stream
    /// or the node closes; a subscriber that falls more than its queue bound behind is dropped with
    /// `subscription send queue overloaded`. No message bus is needed on a single node.
    func subscribe(_ request: SubscribeToSegmentStatus, on stream: any BidiStream) async throws(StreamsError) {
        guard !request.space.isEmpty, !request.segment.isEmpty else {
            throw .invalidRequest("subscription needs a space and a segment (or *)")
        }
        let subscriber = SegmentSubscriber(
            space: request.space, segment: request.segment,
            maxQueuedSegments: configuration.limits.subscriptionQueueSegments)
        // Register before reading the snapshot so nothing committed in between is missed.
        segmentSubscriptions.add(subscriber)
        defer { segmentSubscriptions.remove(subscriber) }
        let snapshot = request.segment == "*"
            ? try await store.statuses(space: request.space)
            : [try await store.status(space: request.space, segment: request.segment)].compactMap { $0 }
        for status in snapshot {
            subscriber.markDelivered(status)
            try await stream.send(status)
        }
        let period = heartbeatPeriodSeconds(request.heartbeatIntervalSeconds)
        let heartbeat = SegmentStatus(space: request.space, segment: request.segment, heartbeat: true)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // The client ends the subscription by closing the stream.
                    while try await stream.receive() != nil {}
                }
                if period > 0 {
                    group.addTask {
                        while !Task.isCancelled {
                            subscriber.requestHeartbeat()
                            try await Task.sleep(for: .seconds(period))
                        }
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        let due = subscriber.drain()
                        if due.overloaded { throw StreamsError.subscriptionOverloaded }
                        for status in due.statuses { try await stream.send(status) }
                        if due.heartbeat { try await stream.send(heartbeat) }
                        await subscriber.wakeup.wait()
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        } catch let error as StreamsError {
            if error != .cancelled { throw error }
        } catch {
            throw .internalError("subscription ended: \(error)")
        }
    }

    /// streamkit's clamp: ≤ 0 → none; otherwise [1, 300] seconds.
    public func heartbeatPeriodSeconds(_ requested: Int64) -> Int64 {
        requested <= 0 ? 0 : min(max(requested, configuration.limits.minHeartbeatSeconds), configuration.limits.maxHeartbeatSeconds)
    }
}
