import StreamCore
import Synchronization
import Transport

/// Opens one ``Node`` per store on first use and routes new streams to it (streamkit v1 §6.9), keeping
/// the open stores a bounded resource.
///
/// - **Bound.** At most `maxOpenStores` stores are open (opening, open, or still closing). Past it a store
///   is opened only after the least recently used idle store is closed; when none is idle the stream
///   fails at once with a transient `store_unavailable` that names the limit.
/// - **Idleness.** A store is idle while its node serves no stream: no request in flight, no worker,
///   observer or segment subscription (streamkit's idle eviction counts only calls in flight and may close
///   a store under its long-lived streams, v1 §5.3). Live leases do not keep a store open: they are in its
///   lease log, and reopening restores each with a full TTL, so closing lengthens a lease by at most one
///   TTL, as a restart does.
/// - **Idle close.** A store idle for `storeIdleCloseMs` on the configuration's monotonic clock is closed
///   (0 = never). The default store stays open, and so does every store of a catalog whose stores do not
///   keep their contents when closed (memory stores).
/// - **Creation.** A stream for a store that does not exist creates it when `autoCreateStores` is on
///   (streamkit's behaviour); otherwise it ends with `store_not_found` and nothing is created. A
///   `store_create` stream creates its store either way.
/// - **Failed opens** end the stream at once with `store_unavailable` and the cause; after three in a
///   row the store is refused for 30 s, then one open is tried again (``StoreOpenCircuit``). A store that
///   another daemon owns (`store_owned_elsewhere`) is refused as such, and that is no failed open.
/// - **Stopped writes.** A store whose writes stopped for good (``StreamStore/writesStopped``: a
///   PostgreSQL transaction failed, e.g. the server restarted) is closed as soon as the manager sees it
///   — the next stream of the store, a stream of it ending, or the sweeper every `storeIdleCheckMs` —
///   even while streams use it (they end with the failure that stopped the writes), and the next stream opens
///   it again, which rebuilds its lease engine and fence counter from what is durable. While it cannot
///   be opened each stream fails with `store_unavailable` and the cause after its one attempt (nothing
///   retries on a timer); an open that keeps failing trips the same circuit.
public final class NodeManager: Sendable {
    /// Opens the store for a store UUID (a directory of files, or memory).
    public typealias StoreFactory = @Sendable (WireUUID) async throws(StreamsError) -> any StreamStore

    private struct Slot {
        enum Phase {
            case opening(Task<Node, any Error>)
            case open(Node)
            case closing(Task<Void, Never>)
        }

        var phase: Phase
        /// Streams routed to the node (or waiting for it to open) that have not ended.
        var uses: Int
        /// When a stream of it last started or ended (monotonic ms).
        var lastUsedMs: Int64
    }

    private struct State {
        var slots: [WireUUID: Slot] = [:]
        /// Stores that hold what an open store costs, or are about to: opening, open or closing.
        var reserved = 0
        var circuit: StoreOpenCircuit
        var closed = false
    }

    /// What a lookup found.
    private enum Step {
        case ready(Node)
        /// Its opening, and whether this lookup started it.
        case opening(Task<Node, any Error>, started: Bool)
        case closing(Task<Void, Never>)
        case refused(StreamsError)
    }

    /// Why an open store is closed.
    private enum CloseReason: String {
        case idle
        /// To make room under the open stores limit.
        case evicted
        /// Its writes stopped after a failure: opening it again rebuilds what the failure left behind.
        case writesStopped = "writes_stopped"
        /// Placement moves it to another daemon.
        case handedOff = "handed_off"
    }

    private let catalog: any StoreCatalog
    private let configuration: NodeConfiguration
    private let state: Mutex<State>
    /// The idle-store sweeper and every stream's serving task: a close cancels and awaits them, so
    /// none outlives the manager.
    private let tasks = OwnedTasks()

    /// Creates a manager over the stores of `catalog`.
    public convenience init(configuration: NodeConfiguration = NodeConfiguration(), catalog: any StoreCatalog) {
        self.init(configuration: configuration, circuit: StoreOpenCircuit.Limits(), catalog: catalog)
    }

    /// Creates a manager that opens stores with `factory`: every store exists once opened, and none is
    /// closed for idleness (nothing says the factory's stores keep their contents).
    public convenience init(configuration: NodeConfiguration = NodeConfiguration(), factory: @escaping StoreFactory) {
        self.init(configuration: configuration,
                  catalog: MadeStoreCatalog(maxStores: configuration.limits.maxOpenStores, make: factory))
    }

    init(configuration: NodeConfiguration, circuit limits: StoreOpenCircuit.Limits, catalog: any StoreCatalog) {
        self.catalog = catalog
        self.configuration = configuration
        state = Mutex(State(circuit: StoreOpenCircuit(limits: limits)))
        startSweeper()
    }

    private var limits: CoordinatorLimits { configuration.limits }
    private var logger: Logger { configuration.logger }

    // MARK: Routing

    /// Serves a new stream whose first message, `request`, the connection has just read, on the caller's
    /// thread (the connection's event loop), when its store is open here: the node answers it at once or
    /// serves it in a task (``Node/serveAtOnce(_:on:)``). False when the store is not open (opening it
    /// means waiting): nothing was done, and the stream is accepted as usual. Never blocks.
    public func serveAtOnce(store: WireUUID, request: [UInt8], stream: any BidiStream) -> Bool {
        let nowMs = configuration.monotonicClock.nowMs()
        let node = state.withLock { s -> Node? in
            guard !s.closed, var slot = s.slots[store], case .open(let node) = slot.phase,
                  !(catalog.keepsContentsWhenClosed && node.store.writesStopped != nil) else { return nil }
            slot.uses += 1
            slot.lastUsedMs = nowMs
            s.slots[store] = slot
            return node
        }
        guard let node else { return false }
        node.serveAtOnce(request, on: stream, Node.AtOnceContext(spawn: { self.tasks.spawn($0) }, ended: { self.release(store, node) }))
        return true
    }

    /// Routes a new server-side stream to its store's node, opening the store on first use (and creating
    /// it, unless stores are created only when asked); the node serves it in its own task. A stream for a
    /// store that does not exist and may not be created so is answered in a task of its own: only a
    /// `store_create` request creates it.
    public func accept(store: WireUUID, stream: any BidiStream) async throws(StreamsError) {
        let known = state.withLock { $0.slots[store] != nil }
        let absent = known ? false : try await !catalog.contains(store)
        if absent && !configuration.autoCreateStores {
            guard tasks.spawn({ await self.serveAbsent(store, stream) }) else { throw .shuttingDown }
            return
        }
        let (node, openedNow) = try await node(for: store, holding: true)
        // Told to a `store_create` on this stream: one stream's opening created the store.
        let created = absent && openedNow
        let serving = tasks.spawn {
            await node.handle(stream, createdStore: created, spawn: { self.tasks.spawn($0) })
            self.release(store, node)
        }
        if !serving {
            release(store, node)
            throw .shuttingDown
        }
    }

    /// The node for `store`, opening it on first use (and creating the store if it does not exist);
    /// concurrent first uses share one opening. The node may be closed once idle.
    public func node(for store: WireUUID) async throws(StreamsError) -> Node {
        try await node(for: store, holding: false).node
    }

    /// The node for `store`, and whether this call started its opening; with `holding`, one use of it
    /// is taken for a stream, which must ``release(_:_:)`` it when it ends, and the node is not closed
    /// until then.
    private func node(for store: WireUUID, holding: Bool) async throws(StreamsError) -> (node: Node, openedNow: Bool) {
        for _ in 0...limits.maxStoreReopenWaits {
            let nowMs = configuration.monotonicClock.nowMs()
            let step = try state.withLock { s throws(StreamsError) -> Step in
                guard !s.closed else { throw StreamsError.shuttingDown }
                return lookUp(store, holding: holding, nowMs: nowMs, in: &s)
            }
            switch step {
            case .ready(let node):
                return (node, false)
            case .opening(let task, let started):
                do {
                    return (try await task.value, started)
                } catch {
                    throw (error as? StreamsError) ?? .storeUnavailable(because: "\(error)")
                }
            case .closing(let task):
                await task.value
            case .refused(let error):
                logger.warn("store refused", ["store": store, "error": error.message])
                throw error
            }
        }
        throw .storeUnavailable(because: "it was closed \(limits.maxStoreReopenWaits + 1) times while this stream waited to open it")
    }

    /// Finds or starts what `store`'s stream needs, under the state lock.
    private func lookUp(_ store: WireUUID, holding: Bool, nowMs: Int64, in s: inout State) -> Step {
        if var slot = s.slots[store] {
            switch slot.phase {
            case .open(let node) where catalog.keepsContentsWhenClosed && node.store.writesStopped != nil:
                // This stream waits for the close, then opens the store again.
                return .closing(startClosing(store, node, .writesStopped, releasingPlace: true, in: &s))
            case .open(let node):
                if holding { slot.uses += 1 }
                slot.lastUsedMs = nowMs
                s.slots[store] = slot
                return .ready(node)
            case .opening(let task):
                if holding { slot.uses += 1 }
                s.slots[store] = slot
                return .opening(task, started: false)
            case .closing(let task):
                return .closing(task)
            }
        }
        if let retryInMs = s.circuit.refusal(for: store, nowMs: nowMs) {
            return .refused(.storeUnavailable(
                because: "its last \(s.circuit.limits.maxFailures) opens failed; next attempt in \(retryInMs) ms"))
        }
        var previous: Task<Void, Never>?
        if s.reserved < limits.maxOpenStores {
            s.reserved += 1
        } else if let victim = leastRecentlyUsedIdle(in: s) {
            // The victim's place under the bound passes to this store once it has closed.
            previous = startClosing(victim.store, victim.node, .evicted, releasingPlace: false, in: &s)
        } else {
            return .refused(.storeUnavailable(
                because: "the open stores limit (\(limits.maxOpenStores)) is reached and every open store is in use"))
        }
        let task = openingTask(for: store, after: previous)
        s.slots[store] = Slot(phase: .opening(task), uses: holding ? 1 : 0, lastUsedMs: nowMs)
        return .opening(task, started: true)
    }

    /// Opens `store` and its node once `previous` (a store closing to make room) has closed, and records
    /// the outcome, once however many streams wait for it: the open node, or the failure in the circuit.
    private func openingTask(for store: WireUUID, after previous: Task<Void, Never>?) -> Task<Node, any Error> {
        Task<Node, any Error> { [self] in
            await previous?.value
            let node: Node
            do throws(StreamsError) {
                let opened = try await catalog.open(store)
                do throws(StreamsError) {
                    node = try await Node(storeID: store, store: opened, configuration: configuration)
                } catch {
                    await opened.close()
                    throw error
                }
            } catch {
                // Owned by another daemon: said as it is, and no failure of the store's open (the owner may
                // release it any moment, and then the next stream takes it over).
                let ownedElsewhere = error.name == StreamsError.storeOwnedElsewhereName
                var failure = error.name == StreamsError.storeUnavailable.name || ownedElsewhere
                    ? error : .storeUnavailable(because: error.message)
                failure.cause = error.cause
                let nowMs = configuration.monotonicClock.nowMs()
                state.withLock { s in
                    if !ownedElsewhere { s.circuit.failed(store, nowMs: nowMs) }
                    s.slots[store] = nil
                    s.reserved -= 1
                }
                if ownedElsewhere {
                    logger.info("store owned elsewhere", ["store": store, "error": failure.message])
                } else {
                    reportOpenFailure(store, failure)
                }
                throw failure
            }
            let managerClosed = state.withLock { s -> Bool in
                s.circuit.succeeded(store)
                guard !s.closed else { return true }
                s.slots[store]?.phase = .open(node)
                return false
            }
            if managerClosed {
                await node.close()
                throw StreamsError.shuttingDown
            }
            logger.info("store open", ["store": store, "storage": node.store.storageKind])
            return node
        }
    }

    /// One warn line and the counters for a store that did not open; the resource that ran out, when
    /// one did, is named in the line and counted by itself too.
    private func reportOpenFailure(_ store: WireUUID, _ failure: StreamsError) {
        let shortage = failure.cause?.shortage
        configuration.metrics.storeOpenFailed(cause: FailureLine.cause(shortage))
        if let shortage {
            configuration.metrics.resourceExhausted(shortage, during: "store_open")
            logger.warn("store open failed", ["store": store, "resource": shortage.rawValue, "error": failure.message])
        } else {
            logger.warn("store open failed", ["store": store, "error": failure.message])
        }
    }

    /// A stream of `store` ended: one use fewer, and the store was used now.
    private func release(_ store: WireUUID, _ node: Node) {
        let nowMs = configuration.monotonicClock.nowMs()
        state.withLock { s in
            guard var slot = s.slots[store], case .open(let current) = slot.phase, current === node else { return }
            slot.uses -= 1
            slot.lastUsedMs = nowMs
            s.slots[store] = slot
            // A stream that failed because the store's writes stopped: close it now rather than at the next stream.
            if catalog.keepsContentsWhenClosed, !s.closed, node.store.writesStopped != nil {
                _ = startClosing(store, node, .writesStopped, releasingPlace: true, in: &s)
            }
        }
    }

    // MARK: Stores that do not exist

    /// Serves a stream for a store that did not exist when it arrived, while stores are created only
    /// when asked: `store_create` creates it, any other request ends with `store_not_found` and nothing
    /// is created.
    private func serveAbsent(_ store: WireUUID, _ stream: any BidiStream) async {
        let metrics = configuration.metrics
        guard let request = await Node.readRequest(from: stream, metrics: metrics) else { return }
        let operation = Node.operationName(of: request)
        metrics.streamStarted(operation: operation)
        do throws(StreamsError) {
            guard request is StoreCreate else {
                logger.info("store not found", ["store": store, "operation": operation])
                throw StreamsError.storeNotFound(store)
            }
            try await create(store, answering: stream)
        } catch {
            metrics.streamFailed(operation: operation, error: error)
            stream.close(error: error)
        }
    }

    /// Creates `store` and answers whether this request created it.
    private func create(_ store: WireUUID, answering stream: any BidiStream) async throws(StreamsError) {
        let created = try await catalog.create(store)
        if created { logger.info("store created", ["store": store]) }
        try await stream.send(StoreCreateResult(storeID: store, created: created))
        stream.close(error: nil)
    }

    // MARK: Closing

    /// The open store used least recently whose node serves nothing, if the catalog's stores may be closed
    /// (never the default store).
    private func leastRecentlyUsedIdle(in s: State) -> (store: WireUUID, node: Node)? {
        guard catalog.keepsContentsWhenClosed else { return nil }
        var best: (store: WireUUID, node: Node, lastUsedMs: Int64)?
        for (store, slot) in s.slots where store != .defaultStore && slot.uses == 0 {
            guard case .open(let node) = slot.phase, node.isIdle else { continue }
            if let current = best, current.lastUsedMs <= slot.lastUsedMs { continue }
            best = (store, node, slot.lastUsedMs)
        }
        return best.map { ($0.store, $0.node) }
    }

    /// Marks `store` closing and closes its node in a task; once closed the slot is gone and, unless the
    /// place passes to a store opening after it, the place under the bound is given back.
    private func startClosing(_ store: WireUUID, _ node: Node, _ reason: CloseReason, releasingPlace: Bool,
                              ending handOffError: StreamsError? = nil, graceMs: Int64 = 0,
                              in s: inout State) -> Task<Void, Never> {
        let idleMs = s.slots[store].map { configuration.monotonicClock.nowMs() - $0.lastUsedMs } ?? 0
        let task = Task { [self] in
            if reason == .writesStopped {
                logger.warn("store writes stopped; closing it to open it again",
                            ["store": store, "error": node.store.writesStopped?.message ?? ""])
            }
            // Streams of a store whose writes stopped end with the reason (transient), others with `shutting_down`.
            let ending = reason == .writesStopped ? node.store.writesStopped ?? .shuttingDown : handOffError ?? .shuttingDown
            await node.close(ending: ending, finishingWritesWithinMs: graceMs)
            state.withLock { s in
                if case .closing? = s.slots[store]?.phase { s.slots[store] = nil }
                if releasingPlace { s.reserved -= 1 }
            }
            logger.info("store closed", ["store": store, "reason": reason.rawValue, "idle_ms": idleMs])
        }
        s.slots[store]?.phase = .closing(task)
        return task
    }

    /// Closes every store that has been idle for at least the idle close time (never the default store,
    /// nor stores that do not keep their contents when closed) and returns them once they are closed.
    /// The manager calls it every `storeIdleCheckMs`; tests call it after moving a manual clock.
    @discardableResult
    public func closeIdleStores() async -> [WireUUID] {
        let idleCloseMs = limits.storeIdleCloseMs
        guard idleCloseMs > 0, catalog.keepsContentsWhenClosed else { return [] }
        let nowMs = configuration.monotonicClock.nowMs()
        let closing = state.withLock { s -> [(store: WireUUID, task: Task<Void, Never>)] in
            guard !s.closed else { return [] }
            var due: [(store: WireUUID, node: Node)] = []
            for (store, slot) in s.slots where store != .defaultStore && slot.uses == 0 && nowMs - slot.lastUsedMs >= idleCloseMs {
                if case .open(let node) = slot.phase, node.isIdle { due.append((store, node)) }
            }
            return due.map { ($0.store, startClosing($0.store, $0.node, .idle, releasingPlace: true, in: &s)) }
        }
        for entry in closing { await entry.task.value }
        return closing.map(\.store).sorted()
    }

    /// Hands `store` to another daemon, if it is open here: new streams of it wait, the writes being
    /// served get up to `graceMs` to commit and answer, then its streams end with `error` (transient, so
    /// their clients reopen them and reach the new owner) and the store closes, which releases its
    /// ownership. Returns once it is closed.
    public func handOff(_ store: WireUUID, ending error: StreamsError, graceMs: Int64) async {
        let closing = state.withLock { s -> Task<Void, Never>? in
            guard !s.closed, case .open(let node)? = s.slots[store]?.phase else { return nil }
            return startClosing(store, node, .handedOff, releasingPlace: true, ending: error, graceMs: graceMs, in: &s)
        }
        await closing?.value
    }

    /// Closes every open store whose writes stopped (``StreamStore/writesStopped``), ending its streams,
    /// and returns them once they are closed; the next stream of each opens it again. The sweeper calls
    /// it every `storeIdleCheckMs`, so a store with only long-lived streams (workers, watchers) comes
    /// back too; a stream of such a store closes it before that.
    @discardableResult
    public func closeStoppedStores() async -> [WireUUID] {
        guard catalog.keepsContentsWhenClosed else { return [] }
        let closing = state.withLock { s -> [(store: WireUUID, task: Task<Void, Never>)] in
            guard !s.closed else { return [] }
            var due: [(store: WireUUID, node: Node)] = []
            for (store, slot) in s.slots {
                if case .open(let node) = slot.phase, node.store.writesStopped != nil { due.append((store, node)) }
            }
            return due.map { ($0.store, startClosing($0.store, $0.node, .writesStopped, releasingPlace: true, in: &s)) }
        }
        for entry in closing { await entry.task.value }
        return closing.map(\.store).sorted()
    }

    /// The task that closes idle stores, and stores whose writes stopped, every `storeIdleCheckMs`, when
    /// stores are ever closed. It holds the manager only while it checks, and ends with it.
    private func startSweeper() {
        guard catalog.keepsContentsWhenClosed else { return }
        let interval = limits.storeIdleCheckMs
        tasks.spawn { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(interval))
                guard let self else { return }
                await self.closeStoppedStores()
                await self.closeIdleStores()
            }
        }
    }

    // MARK: Everything

    /// An in-process provider whose streams are served by this manager.
    public func inProcessProvider(limits: InProcessLimits = InProcessLimits()) -> InProcessProvider {
        InProcessProvider(limits: limits) { store, stream throws(StreamsError) in
            try await self.accept(store: store, stream: stream)
        }
    }

    /// The nodes open now.
    public var openNodes: [Node] {
        state.withLock { s in
            s.slots.values.compactMap { if case .open(let node) = $0.phase { return node } else { return nil } }
        }
    }

    /// Stores opening, open or closing: what counts against the open stores limit.
    public var reservedStores: Int { state.withLock { $0.reserved } }

    /// Streams of `store` being served; nil when it is not open.
    func useCount(of store: WireUUID) -> Int? {
        state.withLock { s in
            guard let slot = s.slots[store], case .open = slot.phase else { return nil }
            return slot.uses
        }
    }

    /// Closes every node (ending its streams) and its store, then cancels and awaits every task the
    /// manager started (the sweeper, streams' serving tasks). Idempotent; later streams are refused.
    public func close() async {
        let pending = state.withLock { s -> [Slot.Phase] in
            guard !s.closed else { return [] }
            s.closed = true
            defer { s.slots = [:] }
            return s.slots.values.map(\.phase)
        }
        for phase in pending {
            switch phase {
            case .open(let node): await node.close()
            // An opening that finishes now closes its node itself (the manager is closed).
            case .opening(let task): _ = try? await task.value
            case .closing(let task): await task.value
            }
        }
        // Bounded: a serving task that ignores cancellation must not hold up the daemon's shutdown.
        let stuck = await tasks.cancelAndWait(upTo: .seconds(2))
        if stuck > 0 { logger.warn("stream tasks still running after the stores closed", ["count": stuck]) }
    }
}
