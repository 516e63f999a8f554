import Inventory
import StreamCore
import Transport

extension Node {
    /// SubscribeWorkers (streamkit v1 §4.3, corrected): a worker registers and renews; everyone receives
    /// the inventory on connect and after every change — full snapshots (latest wins) or, when asked,
    /// deltas — and workers get Presence heartbeats. Every message on this stream is enveloped.
    ///
    /// Two tasks per stream: this one reads the renewals, a child sends what the subscriber's mailbox
    /// holds and the heartbeats the store's timer task marks due. A presence-only worker has only the
    /// first: its heartbeats are offered by the timer task. Workers are many and long-lived, so every
    /// task per stream counts (each costs its allocation slabs for the stream's life).
    func subscribeWorkers(_ request: SubscribeWorkers, on stream: any BidiStream) async throws(StreamsError) {
        let subscriber = try inventory.open(request, stream: stream)
        defer { inventory.close(subscriber) }
        if subscriber.presenceOnly {
            try await stream.send(inventory.heartbeat(for: subscriber))
            try await readRenewals(of: subscriber)
            return
        }
        // Cancelled and awaited when this scope ends, i.e. when the reading does.
        async let _ = sendUntilFailure(to: subscriber)
        do throws(StreamsError) {
            try await readRenewals(of: subscriber)
        } catch {
            // A sender that failed first closed the stream, which ended the read: report its reason.
            throw subscriber.sendFailure.withLock { $0 } ?? error
        }
        if let failure = subscriber.sendFailure.withLock({ $0 }) { throw failure }
    }

    /// Runs the sender; when it fails (the stream ended, or a message was refused), records why and
    /// closes the stream so the reader stops too.
    private func sendUntilFailure(to subscriber: InventorySubscriber) async {
        do throws(StreamsError) {
            try await sendInventory(to: subscriber)
        } catch {
            guard error != .cancelled else { return }
            subscriber.sendFailure.withLock { $0 = error }
            subscriber.stream.close(error: error)
        }
    }

    /// Sends what the subscriber's mailbox holds, and heartbeats, whenever woken and nobody else is
    /// sending to it (``InventoryService/deliver(to:)`` sends on the connection's loop when it can, and
    /// leaves to this task what must wait for room); one sender at a time keeps the mailbox's order.
    private func sendInventory(to subscriber: InventorySubscriber) async throws(StreamsError) {
        while !Task.isCancelled {
            // Held by a delivery on the loop: it looks at the mailbox again before it lets go.
            if subscriber.claim() {
                do throws(StreamsError) {
                    // A change offered while this sends is left to this holder (nothing wakes it).
                    repeat { try await sendClaimed(to: subscriber) } while subscriber.giveBack()
                } catch {
                    subscriber.unclaim()
                    throw error
                }
            }
            await subscriber.wakeup.wait()
        }
    }

    /// Sends a carried message, the mailbox and a due heartbeat to a subscriber whose claim this holds.
    private func sendClaimed(to subscriber: InventorySubscriber) async throws(StreamsError) {
        var delivered = 0
        defer { if delivered > 0 { configuration.metrics.inventoryDelivered(delivered) } }
        if let carried = subscriber.carried.withLock({ $0.take() }) {
            try await subscriber.stream.send(carried)
            delivered += 1
        }
        while let payload = inventory.next(for: subscriber) {
            try await subscriber.stream.send(payload)
            delivered += 1
        }
        if subscriber.heartbeatDue.exchange(false, ordering: .acquiringAndReleasing) {
            try await subscriber.stream.send(inventory.heartbeat(for: subscriber))
        }
    }

    /// Reads a worker's renewals until the stream ends. Anything but a Presence, or a Presence for another
    /// worker, ends the stream with a clear error; observers send nothing.
    private func readRenewals(of subscriber: InventorySubscriber) async throws(StreamsError) {
        while let bytes = try await subscriber.stream.receive() { try renew(subscriber, with: bytes) }
    }

    /// One message on a worker's stream: a renewal of its presence (a client heartbeat is ignored).
    func renew(_ subscriber: InventorySubscriber, with bytes: [UInt8]) throws(StreamsError) {
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
        if presence.heartbeat { return }
        if let claimed = presence.workerID, claimed != workerID {
            throw .invalidRequest("worker presence renew worker_id mismatch: expected \(workerID) got \(claimed)")
        }
        if inventory.renew(subscriber) == .notOwner {
            throw .invalidRequest("worker \(workerID) is no longer registered by this stream")
        }
    }

    /// Serves a presence-only worker's stream at once, on its connection's loop: registers it, answers
    /// with the Presence that acknowledges it, and takes each renewal on the loop as it arrives
    /// (``BidiStream/receiveDirectly(_:)``), so the stream costs no task for its whole life (10,000 workers
    /// held 10,000 tasks, each with its allocation slabs). A stream without a loop, or whose
    /// acknowledgement cannot go at once, is served by a task as ``subscribeWorkers(_:on:)`` serves it.
    func servePresence(_ request: SubscribeWorkers, on stream: any BidiStream, _ context: AtOnceContext) {
        let serving: Operation = { stream throws(StreamsError) in try await self.subscribeWorkers(request, on: stream) }
        guard stream.eventLoop != nil else {
            return context.run({ await self.serveTracked(request, on: stream, started: .now, by: serving, endingWrite: false) },
                               ending: stream)
        }
        let key = ObjectIdentifier(stream)
        guard track(stream, key) else { return context.ended() }
        let name = Self.operationName(of: request)
        let started = ContinuousClock.now
        configuration.metrics.streamStarted(operation: name)
        let subscriber: InventorySubscriber
        do throws(StreamsError) {
            subscriber = try inventory.open(request, stream: stream)
        } catch {
            end(request, named: name, on: stream, with: error, started: started)
            untrack(key)
            return context.ended()
        }
        let finish: @Sendable (StreamsError?) -> Void = { [self] error in
            inventory.close(subscriber)
            end(request, named: name, on: stream, with: error, started: started)
            untrack(key)
            context.ended()
        }
        // The task that serves the rest when the loop cannot: it ends the stream itself, `finish` included.
        let rest: @Sendable (_ acknowledged: Bool) -> Void = { acknowledged in
            let spawned = context.spawn {
                do throws(StreamsError) {
                    if !acknowledged { try await stream.send(self.inventory.heartbeat(for: subscriber)) }
                    try await self.readRenewals(of: subscriber)
                    finish(nil)
                } catch {
                    finish(error)
                }
            }
            if !spawned { finish(.shuttingDown) }
        }
        guard stream.offer(inventory.heartbeat(for: subscriber)) else { return rest(false) }
        let direct = stream.receiveDirectly { [self] message in
            guard let message else {
                finish(nil)
                return false
            }
            do throws(StreamsError) {
                try renew(subscriber, with: message)
                return true
            } catch {
                finish(error)
                return false
            }
        }
        if !direct { rest(true) }
    }
}
