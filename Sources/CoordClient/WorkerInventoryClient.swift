import StreamCore
import Synchronization
import Transport

/// What a stream that outlives a reconnect reports about its connection.
public enum ConnectionChange: Sendable, Equatable {
    /// The connection was lost (the error it ended with); the stream is being opened again.
    case lost(StreamsError)
    /// The stream runs again on a new connection: its first message has arrived.
    case restored
}

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

    /// The epoch the revision counts in (nil from a server that sends none).
    public var epoch: UInt64? {
        switch self {
        case .snapshot(let inventory): inventory.epoch
        case .delta(let delta): delta.epoch
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

    /// A new stream replaced the old one after a reconnect: its first snapshot is taken whatever its
    /// revision, since a restarted server counts revisions from zero again.
    func restart() {
        state.withLock { s in
            s.delivered = nil
            s.latest = nil
        }
    }

    /// True once the stream has ended for good.
    var hasEnded: Bool { state.withLock { $0.ended != nil } }

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
///
/// Over a provider that reconnects on its own, a lost connection does not end it: it subscribes again
/// and yields the fresh snapshot (whose revision may be lower, when the server restarted).
public final class InventoryUpdates: AsyncSequence, Sendable {
    public typealias Element = WorkerInventory
    public typealias Failure = StreamsError

    let latest = LatestInventory()
    private let slot: StreamSlot
    private let reader: Task<Void, Never>
    /// Whether a lost stream is replaced (the provider reconnects on its own) rather than ending it.
    let reopens: Bool

    init(
        stream: any BidiStream, reopener: StreamReopener? = nil,
        reopen: (@Sendable () async throws(StreamsError) -> any BidiStream)? = nil,
        onMessage: @escaping @Sendable (any EnvelopedMessage) -> Void = { _ in },
        onReopen: @escaping @Sendable () -> Void = {},
        connectionChanges: (@Sendable (ConnectionChange) -> Void)? = nil
    ) {
        let slot = StreamSlot(stream)
        self.slot = slot
        reopens = reopener != nil && reopen != nil
        let latest = self.latest
        reader = Task {
            var stream = stream
            // Set from a reported loss until a replacement stream delivers a message: a stream opened on a
            // connection the daemon is about to close (while it drains) is not yet "back".
            var lost = false
            while true {
                var ending: StreamsError?
                do throws(StreamsError) {
                    while let bytes = try await stream.receive() {
                        let message = try Envelope.decode(bytes)
                        if lost {
                            lost = false
                            connectionChanges?(.restored)
                        }
                        onMessage(message)
                        if let inventory = message as? WorkerInventory { latest.offer(inventory) }
                    }
                } catch {
                    ending = error
                }
                // A stream its owner gave up on as silent ends however the transport ends it; the
                // silence is the reason, and it is one a new stream can cure.
                if let silence = slot.takeAbandonment(), ending?.isTransient ?? true { ending = silence }
                guard let error = ending, error.isTransient, let reopener, let reopen, !slot.isClosed, !Task.isCancelled
                else {
                    latest.end(ending)
                    return
                }
                slot.setReconnecting(true)
                stream.close(error: nil)
                if !lost { connectionChanges?(.lost(error)) }
                lost = true
                switch await reopener.reopen(isAbandoned: { slot.isClosed }, reopen) {
                case .failure(let failure):
                    latest.end(slot.isClosed ? ending : failure)
                    return
                case .success(let fresh):
                    // Before the slot stops saying "reconnecting": a worker's liveness check must never
                    // see the outage's silence without either.
                    onReopen()
                    guard slot.replace(with: fresh) else {
                        fresh.close(error: nil)
                        latest.end(ending)
                        return
                    }
                    latest.restart()
                    stream = fresh
                }
            }
        }
    }

    deinit {
        reader.cancel()
        slot.close()?.close(error: nil)
    }

    /// The stream now carrying the subscription.
    var stream: any BidiStream { slot.stream }

    /// True while a lost stream is being replaced.
    var isReconnecting: Bool { slot.isReconnecting }

    /// Drops the current stream as silent, with `error` (transient): a new one replaces it as after a
    /// lost connection. A connection can stay up while nothing arrives on it (a peer that stopped
    /// reading, a stalled process on either side); a new stream, perhaps on a new connection, is the cure.
    func abandonSilentStream(_ error: StreamsError) {
        slot.abandon(error)?.close(error: error)
    }

    /// Ends the subscription.
    public func close() {
        slot.close()?.close(error: nil)
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

/// The stream a subscription currently runs on, swapped after a reconnect, and whether its owner
/// closed it.
final class StreamSlot: Sendable {
    private struct State {
        var stream: any BidiStream
        var closed = false
        var reconnecting = false
        /// Why the owner abandoned the current stream, until the reader takes it.
        var abandonment: StreamsError?
    }

    private let state: Mutex<State>

    init(_ stream: any BidiStream) {
        state = Mutex(State(stream: stream))
    }

    var stream: any BidiStream { state.withLock { $0.stream } }
    var isClosed: Bool { state.withLock { $0.closed } }
    var isReconnecting: Bool { state.withLock { $0.reconnecting } }

    func setReconnecting(_ reconnecting: Bool) {
        state.withLock { $0.reconnecting = reconnecting }
    }

    /// Records why the current stream is abandoned and returns it to close (nil when the slot is closed
    /// or already being replaced).
    func abandon(_ error: StreamsError) -> (any BidiStream)? {
        state.withLock { s in
            guard !s.closed, !s.reconnecting, s.abandonment == nil else { return nil }
            s.abandonment = error
            return s.stream
        }
    }

    /// The reason the current stream was abandoned, once.
    func takeAbandonment() -> StreamsError? {
        state.withLock { s in
            defer { s.abandonment = nil }
            return s.abandonment
        }
    }

    /// Installs the replacement; false when the owner closed meanwhile.
    func replace(with stream: any BidiStream) -> Bool {
        state.withLock { s in
            guard !s.closed else { return false }
            s.stream = stream
            s.reconnecting = false
            return true
        }
    }

    /// Marks the slot closed and returns the stream to close (nil when it already was).
    func close() -> (any BidiStream)? {
        state.withLock { s in
            guard !s.closed else { return nil }
            s.closed = true
            return s.stream
        }
    }
}

extension CoordClient {
    /// Registers a worker: its presence lasts while the returned registration lives and renews it every
    /// `heartbeatIntervalMs` (sub-second values use coordd's `heartbeat_interval_ms` extension).
    ///
    /// A worker receives the whole inventory after every change (streamkit's behaviour), which costs
    /// every worker O(workers) bytes per join or leave. With `presenceOnly` (coordd's `presence_only`)
    /// it receives only the server's Presence heartbeats and its ``WorkerRegistration/inventories``
    /// yield nothing: the choice for fleets of many workers that do not watch each other.
    public func registerWorker(
        id: WireUUID, metadata: [String: String] = [:], heartbeatIntervalMs: Int64 = 30_000, presenceOnly: Bool = false,
        connectionChanges: (@Sendable (ConnectionChange) -> Void)? = nil
    ) async throws(StreamsError) -> WorkerRegistration {
        let request = Self.registrationRequest(
            id: id, metadata: metadata, heartbeatIntervalMs: heartbeatIntervalMs, presenceOnly: presenceOnly)
        return registration(request, stream: try await open(request), heartbeatIntervalMs: heartbeatIntervalMs, reconnects: true,
                            connectionChanges: connectionChanges)
    }

    /// The SubscribeWorkers request registering a worker (sub-second intervals in `heartbeat_interval_ms`).
    static func registrationRequest(id: WireUUID, metadata: [String: String], heartbeatIntervalMs: Int64, presenceOnly: Bool)
        -> SubscribeWorkers
    {
        SubscribeWorkers(
            workerID: id, metadata: metadata, heartbeatIntervalSeconds: (heartbeatIntervalMs + 999) / 1_000,
            heartbeatIntervalMs: heartbeatIntervalMs % 1_000 == 0 ? nil : heartbeatIntervalMs, presenceOnly: presenceOnly)
    }

    /// A registration running on `stream`; with `reconnects`, a lost stream is replaced by a new
    /// registration when the provider reconnects, else its loss ends the registration.
    func registration(_ request: SubscribeWorkers, stream: any BidiStream, heartbeatIntervalMs: Int64, reconnects: Bool,
                      connectionChanges: (@Sendable (ConnectionChange) -> Void)? = nil) -> WorkerRegistration
    {
        let client = self
        return WorkerRegistration(
            workerID: request.workerID ?? WireUUID(high: 0, low: 0), stream: stream, intervalMs: heartbeatIntervalMs, clock: SystemMonotonicClock(),
            reopener: reconnects ? StreamReopener(provider: provider) : nil,
            reopen: { () throws(StreamsError) in try await client.open(request) }, connectionChanges: connectionChanges)
    }

    /// Observes the store's worker inventory as full snapshots, latest wins. Over a provider that
    /// reconnects, a lost connection is followed by a fresh snapshot instead of an end; `connectionChanges`
    /// is told when the connection is lost and when the subscription is back.
    public func workers(connectionChanges: (@Sendable (ConnectionChange) -> Void)? = nil) async throws(StreamsError)
        -> InventoryUpdates
    {
        let request = SubscribeWorkers(workerID: nil)
        let client = self
        return InventoryUpdates(
            stream: try await open(request), reopener: StreamReopener(provider: provider),
            reopen: { () throws(StreamsError) in try await client.open(request) }, connectionChanges: connectionChanges)
    }

    /// Observes the inventory as one snapshot then deltas (resuming after `sinceRevision` of `sinceEpoch`
    /// when the server still holds that history). A slow consumer is resynchronised by the server with a
    /// fresh snapshot. Over a provider that reconnects, a lost connection is followed by the deltas after
    /// the last revision received, or by a snapshot when the server no longer holds them or restarted
    /// meanwhile (a new epoch).
    public func workerChanges(sinceRevision: UInt64? = nil, sinceEpoch: UInt64? = nil) -> MessageSequence<InventoryEventMessage> {
        let client = self
        let resume = StreamReopener(provider: provider).map { reopener in
            MessageSequence<InventoryEventMessage>.Resume(reopener: reopener) { last throws(StreamsError) in
                let revision = last.map { $0.event.revision } ?? sinceRevision
                let epoch = last.map { $0.event.epoch } ?? sinceEpoch
                return try await client.open(SubscribeWorkers(workerID: nil, deltas: true, sinceRevision: revision, sinceEpoch: epoch))
            }
        }
        return MessageSequence(
            open: { () throws(StreamsError) in
                try await client.open(
                    SubscribeWorkers(workerID: nil, deltas: true, sinceRevision: sinceRevision, sinceEpoch: sinceEpoch))
            }, resume: resume)
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
