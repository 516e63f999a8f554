import Inventory
import StreamCore
import Synchronization
import Transport

/// Named limits of the inventory shell beyond the engine's own.
public struct InventoryServiceLimits: Sendable {
    /// The engine's limits (TTL floor, workers, metadata, history, backlog).
    public var engine = InventoryLimits()
    /// Open SubscribeWorkers streams (workers and observers) per store.
    public var maxSubscribers = 100_000
    /// Heartbeats due within this many milliseconds of each other go out together (up to this much
    /// early): 10,000 workers registered at different moments would otherwise wake the store's timer
    /// task for nearly every millisecond. Small against the shortest period (100 ms). coordd's choice.
    public var heartbeatCoalescingMs: Int64 = 20

    /// The default limits.
    public init() {}
}

/// One SubscribeWorkers stream as the shell tracks it.
final class InventorySubscriber: Sendable {
    let id: StreamID
    /// The worker this stream registered, or nil for an observer.
    let workerID: WireUUID?
    /// A worker that receives no inventory (coordd's `presence_only`): it has no sender task, and its
    /// heartbeats are offered to its stream by the store's timer task.
    let presenceOnly: Bool
    let stream: any BidiStream
    /// Its stream's event loop (fixed for the stream's life), read once: a fan-out looks at it for
    /// every subscriber.
    let loop: EventLoop?
    /// Why its sender stopped, when it failed first (the reader then reports this, not its own end).
    let sendFailure = Mutex<StreamsError?>(nil)
    /// What it is due, under its own lock: its sender takes from it without touching the store's
    /// lock, which every sender of a fan-out contended for. Fed (in revision order) only under the
    /// store's lock. Nil for a presence-only worker.
    let mailbox: Mutex<SubscriberMailbox<EncodedOnce>?>
    /// Signalled when its mailbox has something or a heartbeat is due.
    let wakeup = Wakeup()
    let heartbeatDue = Atomic<Bool>(false)
    /// Set while its sender task or a delivery on its connection's loop sends its messages: one at a
    /// time, so the stream's order is the mailbox's order.
    private let delivering = Atomic<Bool>(false)
    /// A message taken from the mailbox that the connection could not take at once: its sender task
    /// sends it first.
    let carried = Mutex<[UInt8]?>(nil)

    init(id: StreamID, workerID: WireUUID?, presenceOnly: Bool, mode: SubscriberMailbox<EncodedOnce>.Mode,
         stream: any BidiStream) {
        self.id = id
        self.workerID = workerID
        self.presenceOnly = presenceOnly
        self.stream = stream
        loop = stream.eventLoop
        mailbox = Mutex(presenceOnly ? nil : SubscriberMailbox(mode: mode))
    }

    /// Takes the right to send its messages; false while someone else has it.
    func claim() -> Bool {
        delivering.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }

    /// Gives the right back.
    func unclaim() {
        delivering.store(false, ordering: .releasing)
    }

    /// Gives the right back after sending, and takes it again when the mailbox got something meanwhile:
    /// whoever offered that found the right held and left the sending to the holder. True when the
    /// caller holds the right again and must send what came.
    ///
    /// Nothing is stranded: the mailbox's lock orders this look after the offer, or the offerer's claim
    /// after this give-back (which then succeeds).
    func giveBack() -> Bool {
        unclaim()
        return hasMail && claim()
    }

    /// True while its mailbox holds something to send.
    var hasMail: Bool { mailbox.withLock { !($0?.isEmpty ?? true) } }
}

/// The shell around the pure ``WorkerRegistry`` for one store (streamkit v1 §4.3, corrected): it feeds
/// registrations, renewals, stream ends and sweeps to the engine, encodes each new revision ONCE (a
/// snapshot and a delta), and offers those shared bytes to every subscriber's latest-wins mailbox.
final class InventoryService: Sendable {
    private struct State {
        var registry: WorkerRegistry
        var heartbeats = HeartbeatSchedule()
        var subscribers: [StreamID: InventorySubscriber] = [:]
        var nextStreamID: UInt64 = 0
        var closed = false
    }

    let limits: InventoryServiceLimits
    /// Which history the revisions count in: chosen when the store's node opens, so a client resuming
    /// "after revision N" of an earlier run (revisions restart at 0) gets a snapshot, not deltas of a
    /// different history that happen to follow N. Below 2^53, so JSON readers with doubles keep it exact.
    let epoch = UInt64.random(in: 1..<(1 << 53))
    private let state: Mutex<State>
    private let wallClock: any WallClock
    private let monotonicClock: any MonotonicClock
    private let events: StoreEventLog
    /// The sweep-and-heartbeat timer: woken when a new stream may bring an earlier deadline.
    private let timer: DeadlineWaiter
    /// Told about each presence that ended (stream closed, replaced, evicted), outside the lock.
    private let presenceObservers = Mutex<[@Sendable (StreamID) -> Void]>([])

    init(limits: InventoryServiceLimits, wallClock: any WallClock, monotonicClock: any MonotonicClock,
         events: StoreEventLog = .silent) {
        self.limits = limits
        self.wallClock = wallClock
        self.monotonicClock = monotonicClock
        self.events = events
        timer = DeadlineWaiter(clock: monotonicClock)
        state = Mutex(State(registry: WorkerRegistry(limits: limits.engine)))
    }

    /// Calls `observer` with the stream of every worker presence that ends from now on.
    func observePresenceEnded(_ observer: @escaping @Sendable (StreamID) -> Void) {
        presenceObservers.withLock { $0.append(observer) }
    }

    private func presenceEnded(_ stream: StreamID) {
        for observer in presenceObservers.withLock({ $0 }) { observer(stream) }
    }

    /// The stream that currently holds `worker`'s presence, if it is registered.
    func presence(of worker: WireUUID) -> StreamID? {
        state.withLock { $0.registry.owner(of: WorkerID(worker)) }
    }

    var now: InventoryInstant {
        InventoryInstant(monotonicMs: monotonicClock.nowMs(), wallMs: wallClock.nowMs())
    }

    // MARK: Streams

    /// Adds a stream: registers its worker (one change, fanned out to everyone, the new stream included)
    /// or seeds an observer with the current snapshot — or, for a delta subscriber resuming from a
    /// retained revision, with just the deltas after it.
    ///
    /// A presence-only worker (coordd's `presence_only`) gets no mailbox: joins and leaves are not fanned
    /// out to it, and its first message is the Presence that acknowledges the registration (sent by
    /// the stream's handler).
    func open(_ request: SubscribeWorkers, stream: any BidiStream) throws(StreamsError) -> InventorySubscriber {
        if request.presenceOnly {
            guard request.workerID != nil else {
                throw StreamsError.invalidRequest("presence_only needs a worker_id: an observer that receives nothing is pointless")
            }
            guard !request.deltas, request.sinceRevision == nil else {
                throw StreamsError.invalidRequest("presence_only excludes deltas and since_revision: a presence-only worker receives no inventory")
            }
        }
        let mode: SubscriberMailbox<EncodedOnce>.Mode = request.deltas
            ? .deltas(maxBacklog: limits.engine.maxSubscriberBacklog) : .snapshots
        let heartbeatMs = InventoryLimits.heartbeatPeriodMs(
            intervalSeconds: request.heartbeatIntervalSeconds, intervalMs: request.heartbeatIntervalMs)
        let now = self.now
        // Workers get a heartbeat at once and then every period (streamkit v1 §4.3); observers none.
        let beats = request.workerID != nil && heartbeatMs > 0
        let (subscriber, wake, replaced) = try state.withLock { s throws(StreamsError) in
            guard !s.closed else { throw StreamsError.shuttingDown }
            guard s.subscribers.count < limits.maxSubscribers else {
                throw StreamsError.limitExceeded("too many worker inventory subscribers (limit \(limits.maxSubscribers))")
            }
            s.nextStreamID += 1
            let subscriber = InventorySubscriber(
                id: StreamID(s.nextStreamID), workerID: request.workerID, presenceOnly: request.presenceOnly, mode: mode,
                stream: stream)
            var wake: [InventorySubscriber] = [subscriber]
            var replaced: InventorySubscriber?
            if let workerID = request.workerID {
                let renewMs = InventoryLimits.renewIntervalMs(heartbeatPeriodMs: heartbeatMs)
                switch s.registry.register(id: WorkerID(workerID), metadata: request.metadata ?? [:],
                                           renewIntervalMs: renewMs, stream: subscriber.id, now: now) {
                case .rejected(let rejection):
                    throw StreamsError.limitExceeded(rejection.message)
                case .accepted(let change, let prior):
                    let payloads = encode(change)
                    wake += Self.fanOut(payloads, revision: change.snapshot.revision, to: &s)
                    subscriber.mailbox.withLock { $0?.seed(revision: change.snapshot.revision, snapshot: payloads.snapshot) }
                    replaced = prior.flatMap { s.subscribers[$0] }
                }
            } else if request.deltas, let since = request.sinceRevision, request.sinceEpoch.map({ $0 == epoch }) ?? true,
                      let deltas = s.registry.deltas(since: since) {
                let encoded = deltas.map { ($0.revision, encode($0)) }
                subscriber.mailbox.withLock { $0?.seed(since: since, deltas: encoded) }
            } else {
                let current = s.registry.snapshot(builtAt: now)
                subscriber.mailbox.withLock { $0?.seed(revision: current.revision, snapshot: encode(current)) }
            }
            if beats { s.heartbeats.add(subscriber.id, periodMs: heartbeatMs, nowMs: now.monotonicMs) }
            if beats && !request.presenceOnly { subscriber.heartbeatDue.store(true, ordering: .releasing) }
            s.subscribers[subscriber.id] = subscriber
            return (subscriber, wake, replaced)
        }
        if let replaced {
            replaced.stream.close(error: .workerReplaced)
            presenceEnded(replaced.id)
        }
        if let workerID = request.workerID { events.workerJoined(workerID, replaced: replaced != nil) }
        deliver(to: wake)
        timer.wake()
        return subscriber
    }

    /// The next message due on a subscriber's stream.
    func next(for subscriber: InventorySubscriber) -> [UInt8]? {
        // Taken under the lock, encoded (at most once per revision, shared by all) outside it.
        subscriber.mailbox.withLock { $0?.next()?.payload }?.bytes
    }

    /// A worker's renewal: the server's clock sets `last_seen_at` and the deadline; no fan-out.
    func renew(_ subscriber: InventorySubscriber) -> RenewResult {
        guard let workerID = subscriber.workerID else { return .notOwner }
        let now = self.now
        return state.withLock { s in s.registry.renew(id: WorkerID(workerID), stream: subscriber.id, now: now) }
    }

    /// Removes an ended stream; if it still owned its worker, that is one change fanned out to the rest.
    func close(_ subscriber: InventorySubscriber) {
        let now = self.now
        let (wake, ended) = state.withLock { s -> ([InventorySubscriber], Bool) in
            s.subscribers[subscriber.id] = nil
            s.heartbeats.remove(subscriber.id)
            guard let change = s.registry.streamEnded(subscriber.id, now: now) else { return ([], false) }
            return (Self.fanOut(encode(change), revision: change.snapshot.revision, to: &s), true)
        }
        deliver(to: wake)
        if ended {
            presenceEnded(subscriber.id)
            if let workerID = subscriber.workerID { events.workerLeft(workerID) }
        }
    }

    /// Evicts every worker past its TTL in one change, and ends their streams with
    /// `worker presence expired` so the workers learn it (streamkit evicts silently).
    /// Returns the next deadline (monotonic ms).
    @discardableResult
    func sweep() -> Int64? {
        let now = self.now
        let (wake, evicted, next) = state.withLock { s -> ([InventorySubscriber], [InventorySubscriber], Int64?) in
            let result = s.registry.sweep(now: now)
            guard let change = result.change else { return ([], [], result.nextDeadlineMs) }
            let wake = Self.fanOut(encode(change), revision: change.snapshot.revision, to: &s)
            return (wake, result.evicted.compactMap { s.subscribers[$0.stream] }, result.nextDeadlineMs)
        }
        deliver(to: wake)
        for subscriber in evicted {
            subscriber.stream.close(error: .presenceExpired)
            presenceEnded(subscriber.id)
            if let workerID = subscriber.workerID { events.workerEvicted(workerID) }
        }
        return next
    }

    /// Marks every worker stream whose heartbeat is due (or due within `heartbeatCoalescingMs`) and
    /// wakes its sender. Returns the next due time (monotonic ms).
    @discardableResult
    func beat() -> Int64? {
        let horizonMs = monotonicClock.nowMs() + limits.heartbeatCoalescingMs
        let (due, next) = state.withLock { s -> ([InventorySubscriber], Int64?) in
            let due = s.heartbeats.takeDue(nowMs: horizonMs).compactMap { s.subscribers[$0] }
            return (due, s.heartbeats.nextDueMs())
        }
        for subscriber in due {
            if subscriber.presenceOnly {
                // Dropped when the connection is backed up: a keepalive is not worth waiting for.
                _ = subscriber.stream.offer(heartbeat(for: subscriber))
            } else {
                subscriber.heartbeatDue.store(true, ordering: .releasing)
                subscriber.wakeup.signal()
            }
        }
        return next
    }

    /// The enveloped server heartbeat for a worker's stream, stamped with the server's clock.
    func heartbeat(for subscriber: InventorySubscriber) -> [UInt8] {
        Presence(workerID: subscriber.workerID, heartbeat: true, timestamp: wallClock.nowMs()).enveloped()
    }

    /// Sweeps and sends heartbeats whenever the earliest deadline or heartbeat is due, and sweeps at
    /// least every `sweepIntervalMs`; a new stream wakes it, since it may bring an earlier one. One
    /// task per store serves every worker. Runs until cancelled.
    func runTimers() async {
        while !Task.isCancelled {
            let nextDeadline = sweep()
            let nextBeat = beat()
            let latest = monotonicClock.nowMs() + limits.engine.sweepIntervalMs
            await timer.wait(untilMs: [nextDeadline, nextBeat, latest].compactMap { $0 }.min() ?? latest)
        }
    }

    /// Ends every stream and refuses new ones.
    func closeAll() {
        let all = state.withLock { s -> [InventorySubscriber] in
            s.closed = true
            return Array(s.subscribers.values)
        }
        for subscriber in all { subscriber.stream.close(error: .shuttingDown) }
        timer.wake()
    }

    /// Counts for GetStatus and metrics: workers, observers, revision.
    var counts: (workers: Int, observers: Int, revision: UInt64) {
        state.withLock { s in
            (s.registry.count, s.subscribers.values.filter { $0.workerID == nil }.count, s.registry.current.revision)
        }
    }

    /// The current snapshot.
    var current: InventorySnapshot { state.withLock { $0.registry.current } }

    /// The earliest presence deadline (monotonic ms), nil with no worker registered: where a renewal shows.
    var nextPresenceDeadlineMs: Int64? { state.withLock { $0.registry.nextDeadlineMs } }

    /// The longest mailbox queue of any subscriber (bounded by `maxSubscriberBacklog` + 1).
    var largestBacklog: Int {
        state.withLock { s in s.subscribers.values.map { $0.mailbox.withLock { $0?.queuedCount ?? 0 } }.max() ?? 0 }
    }

    // MARK: Delivery

    /// Gets each subscriber's new messages on their way: the subscribers whose connection has an event
    /// loop are delivered to on that loop, one closure per loop for all of them, so a change costs no
    /// task wake-up per subscriber and both loops share the sending; the others' sender tasks are woken.
    /// A subscriber someone is delivering to already is left to them: every holder of the claim looks
    /// at the mailbox again after giving it back. Waking its sender instead cost a task wake-up for
    /// nothing whenever changes came faster than a loop sent them (the sender found the claim held).
    func deliver(to subscribers: [InventorySubscriber]) {
        // A daemon has a few loops (one per core): a list searched by identity beats hashing.
        var byLoop: [(loop: EventLoop, subscribers: [InventorySubscriber])] = []
        for subscriber in subscribers {
            guard let loop = subscriber.loop else {
                subscriber.wakeup.signal()
                continue
            }
            guard subscriber.claim() else { continue }
            if let index = byLoop.firstIndex(where: { $0.loop === loop }) {
                byLoop[index].subscribers.append(subscriber)
            } else {
                byLoop.append((loop, [subscriber]))
            }
        }
        for (loop, batch) in byLoop {
            let accepted = loop.execute { [self] in
                for subscriber in batch { deliverOnLoop(subscriber) }
            }
            if !accepted {
                for subscriber in batch {
                    subscriber.unclaim()
                    subscriber.wakeup.signal()
                }
            }
        }
    }

    /// Sends what a claimed subscriber's mailbox holds, on its connection's loop, without waiting. What
    /// the connection cannot take now goes to its sender task (which waits for room), as do heartbeats.
    private func deliverOnLoop(_ subscriber: InventorySubscriber) {
        var delivered = 0
        defer { if delivered > 0 { events.metrics.inventoryDelivered(delivered) } }
        if subscriber.carried.withLock({ $0 != nil }) {
            // An earlier message waits for room in the sender task: everything after it goes after it.
            subscriber.unclaim()
            subscriber.wakeup.signal()
            return
        }
        repeat {
            while let payload = next(for: subscriber) {
                guard subscriber.stream.offer(payload) else {
                    subscriber.carried.withLock { $0 = payload }
                    subscriber.unclaim()
                    subscriber.wakeup.signal()
                    return
                }
                delivered += 1
            }
        } while subscriber.giveBack()
        if subscriber.heartbeatDue.load(ordering: .acquiring) { subscriber.wakeup.signal() }
    }

    // MARK: Encoding and fan-out

    private static func fanOut(_ payloads: (snapshot: EncodedOnce, delta: EncodedOnce), revision: UInt64, to s: inout State)
        -> [InventorySubscriber]
    {
        var wake: [InventorySubscriber] = []
        wake.reserveCapacity(s.subscribers.count)
        for subscriber in s.subscribers.values where !subscriber.presenceOnly {
            subscriber.mailbox.withLock { $0?.offer(revision: revision, snapshot: payloads.snapshot, delta: payloads.delta) }
            wake.append(subscriber)
        }
        return wake
    }

    private func encode(_ change: InventoryChange) -> (snapshot: EncodedOnce, delta: EncodedOnce) {
        (encode(change.snapshot), encode(change.delta))
    }

    /// The enveloped WorkerInventory of a snapshot, encoded when first needed.
    func encode(_ snapshot: InventorySnapshot) -> EncodedOnce {
        let epoch = self.epoch
        return EncodedOnce {
            WorkerInventory(workers: snapshot.workers.map(Self.info), timestamp: snapshot.timestampMs,
                            revision: snapshot.revision, epoch: epoch).enveloped()
        }
    }

    /// The enveloped WorkerInventoryDelta of a change, encoded when first needed.
    func encode(_ delta: InventoryDelta) -> EncodedOnce {
        let epoch = self.epoch
        return EncodedOnce {
            WorkerInventoryDelta(revision: delta.revision, joined: delta.joined.map(Self.info),
                                 left: delta.left.map(WireUUID.init), updated: delta.updated.map(Self.info), epoch: epoch).enveloped()
        }
    }

    private static func info(_ entry: WorkerEntry) -> WorkerInfo {
        WorkerInfo(workerID: WireUUID(entry.id), metadata: entry.metadata, lastSeenAt: entry.lastSeenAtMs)
    }
}

/// A message encoded at most once, by whichever subscriber needs it first, and shared by all the others.
/// Revisions that every mailbox skips (latest wins) are never encoded at all — during a connection storm
/// of 10,000 workers that is most of them.
final class EncodedOnce: Sendable {
    private let encode: @Sendable () -> [UInt8]
    private let encoded = Mutex<[UInt8]?>(nil)

    init(_ encode: @escaping @Sendable () -> [UInt8]) {
        self.encode = encode
    }

    /// The encoded bytes (encoding them under the lock the first time, so concurrent takers wait for
    /// the one encoding instead of repeating it).
    var bytes: [UInt8] {
        encoded.withLock { cached in
            if let cached { return cached }
            let bytes = encode()
            cached = bytes
            return bytes
        }
    }
}

extension WorkerID {
    /// The engine's id for a wire UUID (the same 16 bytes).
    init(_ uuid: WireUUID) { self.init(high: uuid.high, low: uuid.low) }
}

extension WireUUID {
    /// The wire UUID of an engine id (the same 16 bytes).
    init(_ id: WorkerID) { self.init(high: id.high, low: id.low) }
}
