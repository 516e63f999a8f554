import StreamCore
import Synchronization
import Transport

/// Serves one store: dispatches each new stream on its first message (streamkit v1 §3.1, §8.6).
public final class Node: Sendable {
    /// The store UUID this node serves.
    public let storeID: WireUUID
    /// The store beneath it.
    public let store: any StreamStore
    let configuration: NodeConfiguration
    let segmentSubscriptions: SegmentSubscriptionHub
    let inventory: InventoryService
    let leases: LeaseService
    /// Partition assignment groups of this store (`Assignments/`).
    let assignments: AssignmentService
    /// Lines and counters of what happens in this store.
    let events: StoreEventLog
    private let timers: [Task<Void, Never>]
    /// How many tasks of a node sleep on its monotonic clock between deadlines (the presence sweep, the
    /// lease ticker, the assignment timer): a test on a manual clock waits until all of them are parked.
    static let timersOnTheClock = 3
    private let streams = Mutex<[ObjectIdentifier: any BidiStream]>([:])
    let closing = Atomic<Bool>(false)
    /// What the streams of a closing node end with, and what a stream arriving then is refused with.
    private let ending = Mutex<StreamsError?>(nil)
    /// Requests that may write (produce, lease acquire, renew, release) being served now: a hand-off
    /// lets them finish and answer before it ends the streams.
    private let writesInFlight = Atomic<Int>(0)
    /// Woken when the last write in flight of a closing node finishes.
    private let writesDrained: DeadlineWaiter

    init(storeID: WireUUID, store: any StreamStore, configuration: NodeConfiguration) async throws(StreamsError) {
        self.storeID = storeID
        self.store = store
        self.configuration = configuration
        writesDrained = DeadlineWaiter(clock: configuration.monotonicClock)
        segmentSubscriptions = SegmentSubscriptionHub(limits: configuration.limits)
        let events = StoreEventLog(store: storeID, logger: configuration.logger, metrics: configuration.metrics)
        self.events = events
        let inventory = InventoryService(limits: configuration.inventory, wallClock: configuration.wallClock,
                                         monotonicClock: configuration.monotonicClock, events: events)
        self.inventory = inventory
        let leases = try await LeaseService(store: store, inventory: inventory, limits: configuration.leases,
                                      wallClock: configuration.wallClock, monotonicClock: configuration.monotonicClock,
                                      events: events)
        self.leases = leases
        let assignments = try await AssignmentService(
            limits: configuration.assignments, leases: leases, inventory: inventory, wallClock: configuration.wallClock,
            monotonicClock: configuration.monotonicClock, events: events)
        self.assignments = assignments
        timers = [Task { await inventory.runTimers() }, Task { await leases.runTicker() }, Task { await assignments.runTimer() }]
        assert(timers.count == Self.timersOnTheClock)
    }

    /// Serves one stream to its end: reads the enveloped request, runs the operation, and ends the
    /// stream — cleanly, or with the operation's error (typed, with code and name).
    public func handle(_ stream: any BidiStream) async {
        await handle(stream, createdStore: false)
    }

    /// Serves one stream; `createdStore` tells a `store_create` on it that opening the store for this
    /// stream created it. With `spawn` (the tasks of the node's owner), a lease stream is served on its
    /// connection's loop, as if it had come to an open store (``serveOnLoop(_:on:spawn:)``).
    func handle(_ stream: any BidiStream, createdStore: Bool,
                spawn: (@Sendable (@escaping @Sendable () async -> Void) -> Bool)? = nil) async {
        let key = ObjectIdentifier(stream)
        guard track(stream, key) else { return }
        defer { untrack(key) }
        guard let request = await Self.readRequest(from: stream, metrics: configuration.metrics) else { return }
        if let spawn, await serveOnLoop(request, on: stream, spawn: spawn) { return }
        let writes = Self.mayWrite(request)
        if writes { beginWrite() }
        await serve(request, on: stream, started: .now, by: serving(request, createdStore: createdStore),
                    endingWrite: writes)
    }

    /// Serves `request`, read from `stream` already, to the stream's end with `operation`: counts it,
    /// times it, and ends the stream cleanly or with the operation's error (typed, with code and name).
    /// `endingWrite`: the request was counted as a write in flight (``beginWrite()``), ended here.
    /// `countedStart`: the stream was counted as started already, before it was handed to this task.
    func serve(_ request: any EnvelopedMessage, on stream: any BidiStream, started: ContinuousClock.Instant,
               by operation: Operation, endingWrite: Bool, countedStart: Bool = false) async {
        defer { if endingWrite { endWrite() } }
        let name = Self.operationName(of: request)
        if !countedStart { configuration.metrics.streamStarted(operation: name) }
        do {
            try await operation(stream)
            end(request, named: name, on: stream, with: nil, started: started)
        } catch {
            end(request, named: name, on: stream, with: error, started: started)
        }
    }

    /// Ends a served stream cleanly, or with `error` counted as the operation's failure, and times a
    /// one-answer operation.
    func end(_ request: any EnvelopedMessage, named name: String, on stream: any BidiStream, with error: StreamsError?,
             started: ContinuousClock.Instant) {
        if let error {
            configuration.metrics.streamFailed(operation: name, error: error)
            events.storageFailed(error, during: name)
        }
        stream.close(error: error)
        if !Self.isSubscription(request) { finished(name, since: started) }
    }

    /// Records how long a one-answer operation took.
    func finished(_ operation: String, since started: ContinuousClock.Instant) {
        let took = started.duration(to: .now)
        configuration.metrics.operationFinished(
            operation: operation, seconds: Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18)
    }

    /// Counts a request that may write as in flight: a hand-off waits for it.
    func beginWrite() {
        writesInFlight.add(1, ordering: .sequentiallyConsistent)
    }

    /// Ends what ``beginWrite()`` counted; the last one to end wakes a closing node's hand-off.
    func endWrite() {
        if writesInFlight.subtract(1, ordering: .sequentiallyConsistent).newValue == 0,
           closing.load(ordering: .sequentiallyConsistent) {
            writesDrained.wake()
        }
    }

    /// True for the requests whose streams last as long as their client wants (worker inventory and
    /// segment status subscriptions): their duration says nothing about the daemon's speed.
    static func isSubscription(_ request: any EnvelopedMessage) -> Bool {
        request is SubscribeWorkers || request is SubscribeToSegmentStatus || request is SubscribeAssignments
            || isLeaseStream(request)
    }

    /// True for the one-answer requests that may write to the store.
    static func mayWrite(_ request: any EnvelopedMessage) -> Bool {
        request is Produce || request is ProduceBatches || request is LeaseAcquire || request is LeaseRenew || request is LeaseRelease
    }

    /// Reads and decodes a stream's first message, the request. A stream that ends first or whose first
    /// message is no request is counted, ended with `invalid_request` (streamkit's texts), and nil returned.
    static func readRequest(from stream: any BidiStream, metrics: any NodeMetrics) async -> (any EnvelopedMessage)? {
        do throws(StreamsError) {
            guard let first = try await stream.receive() else {
                throw StreamsError.invalidRequest("EOF")
            }
            return try Envelope.decode(first)
        } catch {
            refuseRequest(error, on: stream, metrics: metrics)
            return nil
        }
    }

    /// Ends a stream whose first message could not be read as a request, and counts it.
    static func refuseRequest(_ error: StreamsError, on stream: any BidiStream, metrics: any NodeMetrics) {
        let reported = error.name == StreamsError.malformed("").name ? .invalidRequest(error.message) : error
        metrics.streamStarted(operation: invalidOperation)
        metrics.streamFailed(operation: invalidOperation, error: reported)
        stream.close(error: reported)
    }

    /// An operation served on a stream.
    typealias Operation = @Sendable (any BidiStream) async throws(StreamsError) -> Void

    /// The operation that serves `request`. Chosen synchronously so the choice holds no async frame
    /// of its own: an async `switch` over every operation took the sum of all their frames (3 KB) for
    /// the whole life of every stream, which 10,000 long-lived worker streams felt.
    func serving(_ request: any EnvelopedMessage, createdStore: Bool) -> Operation {
        if let decide = leaseStreamMessages(of: request) {
            return { stream throws(StreamsError) in try await self.inOrder(on: stream, decide: decide) }
        }
        switch request {
        case let r as Produce: return { stream throws(StreamsError) in try await self.produce(r, batched: false, on: stream) }
        case let r as ProduceBatches:
            return { stream throws(StreamsError) in try await self.produce(r.target, batched: true, on: stream) }
        case let r as Peek: return { stream throws(StreamsError) in try await self.peek(r, on: stream) }
        case let r as ConsumeSegment: return { stream throws(StreamsError) in try await self.consumeSegment(r, on: stream) }
        case let r as ConsumeSpace: return { stream throws(StreamsError) in try await self.consumeSpace(r, on: stream) }
        case let r as Consume: return { stream throws(StreamsError) in try await self.consume(r, on: stream) }
        case is GetSpaces: return { stream throws(StreamsError) in try await self.sendNames(self.store.spaces(), on: stream) }
        case let r as GetSegments:
            return { stream throws(StreamsError) in try await self.sendNames(self.store.segments(space: r.space), on: stream) }
        case is GetStatus: return { stream throws(StreamsError) in try await stream.send(self.status()) }
        case let r as SubscribeToSegmentStatus: return { stream throws(StreamsError) in try await self.subscribe(r, on: stream) }
        case let r as SubscribeWorkers: return { stream throws(StreamsError) in try await self.subscribeWorkers(r, on: stream) }
        case let r as LeaseAcquire where AssignmentKeys.refusal(r.terms.key) != nil:
            return AssignmentKeys.refusing(r.terms.key)
        case let r as LeaseRenew where AssignmentKeys.refusal(r.terms.key) != nil:
            return AssignmentKeys.refusing(r.terms.key)
        case let r as LeaseRelease where AssignmentKeys.refusal(r.key) != nil:
            return AssignmentKeys.refusing(r.key)
        case let r as SubscribeAssignments:
            return { stream throws(StreamsError) in try await self.subscribeAssignments(r, on: stream) }
        case let r as AssignmentList:
            return { stream throws(StreamsError) in for info in self.assignments.list(r) { try await stream.send(info) } }
        case let r as LeaseAcquire: return { stream throws(StreamsError) in try await stream.send(self.leases.acquire(r)) }
        case let r as LeaseRenew: return { stream throws(StreamsError) in try await stream.send(self.leases.renew(r)) }
        case let r as LeaseRelease: return { stream throws(StreamsError) in try await stream.send(self.leases.release(r)) }
        case let r as LeaseWatch: return { stream throws(StreamsError) in try await self.leases.watch(r, on: stream) }
        case is StoreCreate:
            // The store exists, since this node serves it; it is new if opening it for this stream made it.
            let answer = StoreCreateResult(storeID: storeID, created: createdStore)
            return { stream throws(StreamsError) in try await stream.send(answer) }
        case let r as LeaseList:
            let maxList = configuration.limits.maxLeaseList
            let limit = r.limit == 0 ? maxList : Int(min(r.limit, UInt64(maxList)))
            return { stream throws(StreamsError) in
                for info in self.leases.list(prefix: r.prefix, limit: limit) { try await stream.send(info) }
            }
        default:
            // Registered types that do not open a stream (streamkit's text names the Go type).
            let error = StreamsError.invalidRequest("invalid request msg type: *api.\(type(of: request))")
            return { _ throws(StreamsError) in throw error }
        }
    }

    /// Records a stream so `close()` can end it; false (and the stream ended) when the node is already
    /// closing.
    func track(_ stream: any BidiStream, _ key: ObjectIdentifier) -> Bool {
        let accepted = streams.withLock { streams -> Bool in
            guard !closing.load(ordering: .acquiring) else { return false }
            streams[key] = stream
            return true
        }
        if !accepted { stream.close(error: closingError) }
        return accepted
    }

    /// The error a stream that arrives while the node closes is refused with: the one its streams end
    /// with (a store whose writes stopped says why; a hand-off says where the store goes).
    var closingError: StreamsError { ending.withLock { $0 } ?? .shuttingDown }

    /// Forgets a stream ``track(_:_:)`` recorded, once it has ended.
    func untrack(_ key: ObjectIdentifier) {
        streams.withLock { _ = $0.removeValue(forKey: key) }
    }

    /// What GetStatus answers.
    func status() async throws(StreamsError) -> StoreStatus {
        let stats = try await store.stats()
        let presence = inventory.counts
        return StoreStatus(
            storeID: storeID, storage: store.storageKind, spaces: UInt64(stats.spaces), segments: UInt64(stats.segments),
            entries: UInt64(stats.entries), payloadBytes: UInt64(stats.payloadBytes), workers: UInt64(presence.workers),
            observers: UInt64(presence.observers), leases: UInt64(leases.count), inventoryRevision: presence.revision)
    }

    /// Returns once no request that may write is being served (the node is closing, so no new one
    /// starts), or when the node's clock passes `graceMs` from now.
    private func writesFinished(withinMs graceMs: Int64) async {
        let deadlineMs = configuration.monotonicClock.nowMs() + graceMs
        // A wake left from an earlier write's end only makes the loop look again.
        while writesInFlight.load(ordering: .sequentiallyConsistent) > 0 {
            if await writesDrained.wait(untilMs: deadlineMs) != .woken { return }
        }
    }

    /// Open streams (for metrics and tests).
    public var openStreamCount: Int { streams.withLock { $0.count } }

    /// Messages that have arrived on the open streams so far, read or not (for tests that must know a
    /// client's messages reached the node).
    var openStreamArrivals: UInt64 { streams.withLock { $0.values.reduce(0) { $0 + $1.arrivals } } }

    /// True when the node serves nothing: no stream at all, so no request in flight and no worker,
    /// observer or segment subscription. Live leases do not count: they are in the store's lease log.
    var isIdle: Bool {
        guard openStreamCount == 0, segmentSubscriptions.count == 0 else { return false }
        let presence = inventory.counts
        return presence.workers == 0 && presence.observers == 0
    }

    /// Ends every stream with `error` (`server shutting down` unless told otherwise) and closes the store.
    ///
    /// With `finishingWritesWithinMs` (a hand-off), new streams are refused at once, and the requests that
    /// may write and are being served get up to that long to commit and answer before the streams end,
    /// so a client is not left guessing whether its last write took.
    public func close(ending error: StreamsError = .shuttingDown, finishingWritesWithinMs graceMs: Int64 = 0) async {
        ending.withLock { $0 = $0 ?? error }
        closing.store(true, ordering: .sequentiallyConsistent)
        if graceMs > 0 { await writesFinished(withinMs: graceMs) }
        let open = streams.withLock { Array($0.values) }
        for stream in open { stream.close(error: error) }
        segmentSubscriptions.closeAll()
        inventory.closeAll()
        for timer in timers { timer.cancel() }
        // Awaited, so no timer task outlives its node.
        for timer in timers { await timer.value }
        await store.close()
    }
}
