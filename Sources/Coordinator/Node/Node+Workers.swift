import Inventory
import StreamCore
import Transport

extension Node {
    /// SubscribeWorkers (streamkit v1 §4.3, corrected): a worker registers and renews; everyone receives
    /// the inventory on connect and after every change — full snapshots (latest wins) or, when asked,
    /// deltas — and workers get Presence heartbeats. Every message on this stream is enveloped.
    func subscribeWorkers(_ request: SubscribeWorkers, on stream: any BidiStream) async throws(StreamsError) {
        let subscriber = try inventory.open(request, stream: stream)
        defer { inventory.close(subscriber) }
        let heartbeatMs = subscriber.workerID == nil
            ? 0
            : InventoryLimits.heartbeatPeriodMs(intervalSeconds: request.heartbeatIntervalSeconds,
                                                intervalMs: request.heartbeatIntervalMs)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.readRenewals(of: subscriber) }
                if heartbeatMs > 0 {
                    group.addTask {
                        while !Task.isCancelled {
                            subscriber.heartbeatDue.store(true, ordering: .releasing)
                            subscriber.wakeup.signal()
                            try await Task.sleep(for: .milliseconds(heartbeatMs))
                        }
                    }
                }
                group.addTask { try await self.sendInventory(to: subscriber) }
                try await group.next()
                group.cancelAll()
            }
        } catch let error as StreamsError {
            if error != .cancelled { throw error }
        } catch {
            throw .internalError("worker stream ended: \(error)")
        }
    }

    /// Sends what the subscriber's mailbox holds, and heartbeats, in one task so the stream's order is
    /// the mailbox's order.
    private func sendInventory(to subscriber: InventorySubscriber) async throws(StreamsError) {
        while !Task.isCancelled {
            var delivered = 0
            defer { if delivered > 0 { configuration.metrics.inventoryDelivered(delivered) } }
            while let payload = inventory.next(for: subscriber) {
                try await subscriber.stream.send(payload)
                delivered += 1
            }
            if subscriber.heartbeatDue.exchange(false, ordering: .acquiringAndReleasing) {
                let beat = Presence(workerID: subscriber.workerID, heartbeat: true, timestamp: configuration.wallClock.nowMs())
                try await subscriber.stream.sendEnveloped(beat)
            }
            await subscriber.wakeup.wait()
        }
    }

    /// Reads a worker's renewals until the stream ends. Anything but a Presence, or a Presence for another
    /// worker, ends the stream with a clear error; observers send nothing.
    private func readRenewals(of subscriber: InventorySubscriber) async throws(StreamsError) {
        while let bytes = try await subscriber.stream.receive() {
            let message: any EnvelopedMessage
            do {
                message = try Envelope.decode(bytes)
            } catch {
                throw .invalidRequest("invalid worker presence message: \(error.message)")
            }
            guard let presence = message as? Presence else {
                throw .invalidRequest("unexpected worker presence stream message type: *api.\(type(of: message))")
            }
            guard let workerID = subscriber.workerID else {
                throw .invalidRequest("an observer stream carries no presence renewals")
            }
            if presence.heartbeat { continue }
            if let claimed = presence.workerID, claimed != workerID {
                throw .invalidRequest("worker presence renew worker_id mismatch: expected \(workerID) got \(claimed)")
            }
            if inventory.renew(subscriber) == .notOwner {
                throw .invalidRequest("worker \(workerID) is no longer registered by this stream")
            }
        }
    }
}
