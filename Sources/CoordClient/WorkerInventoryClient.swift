import StreamCore
import Synchronization
import Transport

/// A message of a SubscribeWorkers stream, as `workerChanges()` yields it.
public enum InventoryEvent: Sendable, Equatable {
    /// The whole inventory (first, and whenever the server resynchronises a slow subscriber).
    case snapshot(WorkerInventory)
    /// The change of one revision.
    case delta(WorkerInventoryDelta)

    /// The revision the event brings the subscriber to.
    public var revision: UInt64 {
        switch self {
        case .snapshot(let inventory): inventory.revision ?? 0
        case .delta(let delta): delta.revision
        }
    }
}

/// The latest inventory seen on a stream: a reader task keeps replacing it, so a slow consumer skips
/// intermediate revisions and never sees an older revision after a newer one.
final class LatestInventory: Sendable {
    private struct State {
        var latest: WorkerInventory?
        var delivered: UInt64?
        var ended: StreamsError??
        var endWaiters: [CheckedContinuation<StreamsError?, Never>] = []
    }

    private let state = Mutex(State())
    let wakeup = Wakeup()

    func offer(_ inventory: WorkerInventory) {
        let accepted = state.withLock { s -> Bool in
            let revision = inventory.revision ?? 0
            if let delivered = s.delivered, revision <= delivered, inventory.revision != nil { return false }
            if let held = s.latest?.revision, let new = inventory.revision, new <= held { return false }
            s.latest = inventory
            return true
        }
        if accepted { wakeup.signal() }
    }

    func end(_ error: StreamsError?) {
        let waiters = state.withLock { s -> [CheckedContinuation<StreamsError?, Never>] in
            guard s.ended == nil else { return [] }
            s.ended = .some(error)
            defer { s.endWaiters = [] }
            return s.endWaiters
        }
        wakeup.signal()
        for waiter in waiters { waiter.resume(returning: error) }
    }

    /// Waits for the end of the stream; returns its error (nil for a clean end).
    func waitEnded() async -> StreamsError? {
        await withCheckedContinuation { (continuation: CheckedContinuation<StreamsError?, Never>) in
            let ended = state.withLock { s -> StreamsError?? in
                if let ended = s.ended { return .some(ended) }
                s.endWaiters.append(continuation)
                return nil
            }
            if let ended { continuation.resume(returning: ended) }
        }
    }

    /// The next inventory, waiting for one; nil at a clean end.
    func next() async throws(StreamsError) -> WorkerInventory? {
        while true {
            let (item, ended) = state.withLock { s -> (WorkerInventory?, StreamsError??) in
                guard let latest = s.latest else { return (nil, s.ended) }
                s.latest = nil
                s.delivered = latest.revision
                return (latest, nil)
            }
            if let item { return item }
            if let ended {
                if let error = ended { throw error }
                return nil
            }
            if Task.isCancelled { throw .cancelled }
            await wakeup.wait()
        }
    }
}

/// Full inventories of a store, newest first-come: an `AsyncSequence` that never yields an older revision
/// after a newer one and keeps only the latest while its consumer is busy. Iteration ends with the stream
/// (an error, or `close`).
public final class InventoryUpdates: AsyncSequence, Sendable {
    public typealias Element = WorkerInventory
    public typealias Failure = StreamsError

    let latest = LatestInventory()
    let stream: any BidiStream
    private let reader: Task<Void, Never>

    init(stream: any BidiStream, onMessage: @escaping @Sendable (any EnvelopedMessage) -> Void = { _ in }) {
        self.stream = stream
        let latest = self.latest
        reader = Task {
            do throws(StreamsError) {
                while let bytes = try await stream.receive() {
                    let message = try Envelope.decode(bytes)
                    onMessage(message)
                    if let inventory = message as? WorkerInventory { latest.offer(inventory) }
                }
                latest.end(nil)
            } catch {
                latest.end(error)
            }
        }
    }

    deinit {
        reader.cancel()
        stream.close(error: nil)
    }

    /// Ends the subscription.
    public func close() {
        stream.close(error: nil)
    }

    public func makeAsyncIterator() -> Iterator { Iterator(latest: latest) }

    /// Yields the newest inventory not yet yielded.
    public struct Iterator: AsyncIteratorProtocol, Sendable {
        let latest: LatestInventory

        public mutating func next() async throws(StreamsError) -> WorkerInventory? {
            try await latest.next()
        }
    }
}

/// A registered worker: renews its presence in the background until `close()`, and fails when the
/// server ends the stream (replaced, evicted, shut down) or nothing arrives for 3 × the heartbeat
/// interval.
public final class WorkerRegistration: Sendable {
    /// The worker's id.
    public let workerID: WireUUID
    /// The inventories this worker receives (it is an observer too).
    public let inventories: InventoryUpdates
    private let renewer: Task<Void, Never>
    private let liveness: Liveness

    /// When the last message arrived, and how the registration ended.
    private final class Liveness: Sendable {
        let lastArrivalMs: Atomic<Int64>
        let outcome = Mutex<StreamsError??>(nil)

        init(nowMs: Int64) { lastArrivalMs = Atomic(nowMs) }

        func settle(_ error: StreamsError?) {
            outcome.withLock { if $0 == nil { $0 = .some(error) } }
        }
    }

    init(workerID: WireUUID, stream: any BidiStream, intervalMs: Int64, clock: any MonotonicClock,
         wallClock: any WallClock = SystemWallClock()) {
        self.workerID = workerID
        let liveness = Liveness(nowMs: clock.nowMs())
        self.liveness = liveness
        inventories = InventoryUpdates(stream: stream) { _ in liveness.lastArrivalMs.store(clock.nowMs(), ordering: .releasing) }
        renewer = Task {
            while !Task.isCancelled {
                let silence = clock.nowMs() - liveness.lastArrivalMs.load(ordering: .acquiring)
                if silence > 3 * intervalMs {
                    let error = StreamsError.streamClosed("worker heartbeat lost after \(silence) ms")
                    liveness.settle(error)
                    stream.close(error: error)
                    return
                }
                do {
                    try await stream.sendEnveloped(Presence(workerID: workerID, heartbeat: false, timestamp: wallClock.nowMs()))
                } catch {
                    return
                }
                try? await Task.sleep(for: .milliseconds(intervalMs))
            }
        }
    }

    /// Deregisters: ends the stream (the server removes the worker and tells observers).
    public func close() {
        liveness.settle(nil)
        renewer.cancel()
        inventories.close()
    }

    /// Waits until the registration ends; returns why (nil after `close()`).
    public func waitUntilEnded() async -> StreamsError? {
        let streamError = await inventories.latest.waitEnded()
        liveness.settle(streamError)
        return liveness.outcome.withLock { $0 ?? nil }
    }

    deinit {
        renewer.cancel()
    }
}

extension CoordClient {
    /// Registers a worker: its presence lasts while the returned registration lives and renews it every
    /// `heartbeatIntervalMs` (sub-second values use coordd's `heartbeat_interval_ms` extension).
    public func registerWorker(
        id: WireUUID, metadata: [String: String] = [:], heartbeatIntervalMs: Int64 = 30_000
    ) async throws(StreamsError) -> WorkerRegistration {
        let seconds = (heartbeatIntervalMs + 999) / 1_000
        let request = SubscribeWorkers(
            workerID: id, metadata: metadata, heartbeatIntervalSeconds: seconds,
            heartbeatIntervalMs: heartbeatIntervalMs % 1_000 == 0 ? nil : heartbeatIntervalMs)
        let stream = try await open(request)
        return WorkerRegistration(workerID: id, stream: stream, intervalMs: heartbeatIntervalMs, clock: SystemMonotonicClock())
    }

    /// Observes the store's worker inventory as full snapshots, latest wins.
    public func workers() async throws(StreamsError) -> InventoryUpdates {
        InventoryUpdates(stream: try await open(SubscribeWorkers(workerID: nil)))
    }

    /// Observes the inventory as one snapshot then deltas (resuming after `sinceRevision` when the server
    /// still holds that history). A slow consumer is resynchronised by the server with a fresh snapshot.
    public func workerChanges(sinceRevision: UInt64? = nil) -> MessageSequence<InventoryEventMessage> {
        sequence(SubscribeWorkers(workerID: nil, deltas: true, sinceRevision: sinceRevision))
    }
}

/// An enveloped inventory message decoded as an ``InventoryEvent``.
public struct InventoryEventMessage: WireMessage, Equatable {
    /// The event.
    public var event: InventoryEvent

    public init(fields: JSONFields) throws(StreamsError) {
        guard case .string(let type)? = fields.members["$type"], let content = fields.members["content"] else {
            throw .malformed("expected an enveloped inventory message")
        }
        switch type {
        case WorkerInventory.discriminator: event = .snapshot(try WorkerInventory(fields: JSONFields(content)))
        case WorkerInventoryDelta.discriminator: event = .delta(try WorkerInventoryDelta(fields: JSONFields(content)))
        default: throw .malformed("unexpected worker stream message type: \(type)")
        }
    }

    public func write(to w: inout JSONWriter) {
        switch event {
        case .snapshot(let inventory): w.raw(inventory.enveloped())
        case .delta(let delta): w.raw(delta.enveloped())
        }
    }
}
