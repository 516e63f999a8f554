import Ownership
import PostgresKit
import StreamCore
import Synchronization

/// The stores this daemon owns on PostgreSQL, and the loop that keeps them (`docs/cluster.md`).
///
/// Opening a store first takes it over (``StoreOwnershipSQL``): a store another live daemon owns is
/// refused with the transient `store_owned_elsewhere`. Each owned store has an ``OwnershipTerm`` on the
/// daemon's monotonic clock; ``run(onStepDown:)`` renews every store whose renewal is due in one
/// statement (with this node's heartbeat), and steps a store down — its writes stopped with the reason,
/// then `onStepDown` closes it through the node manager's stopped-store path, ending its streams with
/// that transient error and dropping its in-memory state — as soon as its safe deadline passes or a
/// renewal finds its epoch taken. Renewals run in tasks of their own, so a renewal that hangs on
/// PostgreSQL never delays a step-down. Closing a store releases its ownership (``PostgresStore/close()``).
public final class StoreOwnerships: Sendable {
    private struct Owned {
        var store: PostgresStore
        var term: OwnershipTerm
        /// When it was taken over (the daemon's monotonic clock): a store moves again only after a while.
        var heldSinceMs: Int64
    }

    private struct State {
        var nodeID: String?
        /// Where other daemons reach this one, recorded with the heartbeat.
        var advertiseURL: String?
        var owned: [WireUUID: Owned] = [:]
        /// When this node's heartbeat is due next (with or without stores to renew).
        var heartbeatAtMs: Int64 = .min
        /// The identity changed since the last round started: the next round goes at once.
        var announce = false
        var renewing = false
        /// The live daemons as the last renewal round read them (this one included once its heartbeat
        /// was recorded); empty until then.
        var liveNodes: [ClusterNode] = []
        /// When (this daemon's monotonic clock) that round committed; nil before the first.
        var liveNodesReadAtMs: Int64?
        /// Which stores belong elsewhere, from those rounds.
        var placement: PlacementView
        /// Stores being handed to another daemon: their new streams are refused (transient) meanwhile.
        var handingOff: [WireUUID: ClusterPeer] = [:]
        /// The daemon drains: it has left the cluster's live nodes, takes no store over and hands none off.
        var leaving = false
        var handOffsStarted = 0

        /// Where `store` is, as far as this daemon alone knows: handing off, owned here, or nil (ask
        /// PostgreSQL). A closed store (handed off, idle) is no longer served here, though the next round
        /// drops it.
        func knownPosition(of store: WireUUID) -> StorePosition? {
            if let peer = handingOff[store] { return .handingOff(to: peer) }
            if let owned = owned[store], !owned.store.isClosed { return .ownedHere }
            return nil
        }
    }

    /// A renewal round: the ownerships it renews, and when it was started.
    private struct Round {
        var sql: StoreOwnershipSQL
        var owners: [OwnerEpoch]
        var startedAtMs: Int64
    }

    /// The TTL, margin and renewal cadence.
    public let timing: OwnershipTiming
    private let pool: PostgresPool
    /// The daemon's monotonic clock, which terms and the routes remembered are timed on.
    let clock: any MonotonicClock
    private let logger: Logger
    private let state: Mutex<State>
    private let waiter: DeadlineWaiter
    /// Renewal rounds and step-down closes.
    private let tasks = OwnedTasks()

    /// Ownerships over `pool`'s database, timed on `clock`. Stores open only once the node id is known
    /// (`nodeID`, or ``identify(as:advertiseURL:)`` later: the default id names the port the listener bound).
    public init(pool: PostgresPool, nodeID: String?, timing: OwnershipTiming, advertiseURL: String?,
                clock: any MonotonicClock, logger: Logger) {
        self.pool = pool
        self.timing = timing
        self.clock = clock
        self.logger = logger
        state = Mutex(State(nodeID: nodeID, advertiseURL: advertiseURL, placement: PlacementView(timing: timing)))
        waiter = DeadlineWaiter(clock: clock)
    }

    /// This daemon's node id, once known.
    public var nodeID: String? { state.withLock { $0.nodeID } }

    /// Where other daemons reach this one (`--advertise-url`, or the listener's address), once known.
    public var advertiseURL: String? { state.withLock { $0.advertiseURL } }

    /// Sets the node id and the advertise URL where they are not set yet (a later call changes nothing)
    /// and has the heartbeat sent at once.
    public func identify(as nodeID: String, advertiseURL: String?) {
        state.withLock { s in
            if s.nodeID == nil { s.nodeID = nodeID }
            if s.advertiseURL == nil { s.advertiseURL = advertiseURL }
            // Recorded at once: other daemons forward to this one only once its row names its URL.
            s.announce = true
        }
        waiter.wake()
    }

    /// True while this daemon owns `store`.
    public func owns(_ store: WireUUID) -> Bool {
        state.withLock { $0.owned[store].map { !$0.store.isClosed } ?? false }
    }

    /// True while this daemon owns `store`, has not closed it and is not handing it off: what
    /// ``whereIs(_:)`` answers as ``StorePosition/ownedHere`` without reading PostgreSQL.
    func servesHere(_ store: WireUUID) -> Bool {
        state.withLock { s in
            if case .ownedHere? = s.knownPosition(of: store) { return true }
            return false
        }
    }

    /// Where a new stream of `store` goes, from what this daemon holds and, unless it owns the store, its
    /// owner row and the daemons eligible for it, read from PostgreSQL now in one round trip.
    func whereIs(_ store: WireUUID) async throws(StreamsError) -> StorePosition {
        let (nodeID, advertiseURL, freshForMs, known) = state.withLock { s -> (String?, String?, Int64, StorePosition?) in
            (s.nodeID, s.advertiseURL, s.placement.freshForMs, s.knownPosition(of: store))
        }
        if let known { return known }
        guard let nodeID else { return .free(placeOn: nil) }
        let sql = StoreOwnershipSQL(node: nodeID, ttlMs: timing.ttlMs)
        let (owner, nodes) = try await pool.run { s throws(StreamsError) in
            let owner = try sql.foreignOwner(of: store, on: s)
            return (owner, owner == nil ? try sql.liveNodes(maxAgeMs: freshForMs, countingStores: false, on: s) : [])
        }
        if let owner { return .ownedElsewhere(owner) }
        let leaving = state.withLock { $0.leaving }
        return .free(placeOn: PlacementView.placement(of: store, among: nodes, selfID: nodeID,
                                                      selfEligible: advertiseURL != nil && !leaving, freshForMs: freshForMs))
    }

    /// Leaves the cluster's live nodes, for a drain: this daemon's row is removed (so no daemon places a
    /// store on it), and it takes no store over from now on. Its stores stay owned, and renewed, until
    /// each closes and releases its ownership.
    public func leave() async {
        guard let nodeID = state.withLock({ s -> String? in
            s.leaving = true
            return s.nodeID
        }) else { return }
        let sql = StoreOwnershipSQL(node: nodeID, ttlMs: timing.ttlMs)
        do {
            try await pool.run { s throws(StreamsError) in try sql.leave(on: s) }
        } catch {
            // The row then ages out within the placement's freshness (TTL/2).
            logger.warn("leaving the cluster not recorded", ["error": error.message])
        }
    }

    /// The live daemons of the cluster as the last renewal round read them (every renewal interval, TTL/3),
    /// by node id, and how long ago that was: a view that ages while PostgreSQL cannot be reached. Nil
    /// before the first round.
    public var liveNodes: (nodes: [ClusterNode], ageMs: Int64)? {
        let nowMs = clock.nowMs()
        return state.withLock { s in s.liveNodesReadAtMs.map { (s.liveNodes, max(0, nowMs - $0)) } }
    }

    /// How many stores this daemon owns now.
    public var ownedCount: Int { state.withLock { $0.owned.count } }

    /// How many hand-offs this daemon has started.
    public var handOffCount: Int { state.withLock { $0.handOffsStarted } }

    /// The stores owned now, with their epochs.
    public var owned: [OwnerEpoch] {
        state.withLock { s in s.owned.values.map(\.store.owner) }.sorted { $0.store.description < $1.store.description }
    }

    // MARK: Taking over

    /// Takes `store` over and opens it under the new epoch; another live owner's store is refused with
    /// `store_owned_elsewhere`, naming it.
    public func open(_ store: WireUUID) async throws(StreamsError) -> PostgresStore {
        guard let nodeID else {
            throw .storeUnavailable(because: "this daemon's cluster node id is not known yet (the listener is not bound)")
        }
        guard !state.withLock({ $0.leaving }) else {
            throw .storeUnavailable(because: "this daemon is shutting down and takes no store over")
        }
        let sql = StoreOwnershipSQL(node: nodeID, ttlMs: timing.ttlMs)
        // Read before the statement: PostgreSQL's expiry is later than this + TTL in real time.
        let startedAtMs = clock.nowMs()
        let owner: OwnerEpoch
        let advertiseURL = self.advertiseURL
        // With the node's row (its heartbeat and advertise URL), so a daemon that finds this ownership can
        // always find where to forward the store's streams.
        let outcome = try await pool.transaction { s throws(StreamsError) in
            try sql.heartbeat(advertiseURL: advertiseURL, on: s)
            return try sql.takeOver(store, on: s)
        }
        switch outcome {
        case .ownedElsewhere(let other): throw other.refusal(of: store)
        case .owned(let taken): owner = taken
        }
        let opened: PostgresStore
        do {
            opened = try await PostgresStore.open(owner: owner, pool: pool)
        } catch {
            _ = try? await pool.run { s throws(StreamsError) in try StoreOwnershipSQL.release(owner, on: s) }
            throw error
        }
        state.withLock { s in
            s.owned[store] = Owned(store: opened, term: OwnershipTerm(takenOverAtMs: startedAtMs, timing: timing),
                                   heldSinceMs: startedAtMs)
        }
        logger.info("store taken over", ["store": store, "node": nodeID, "epoch": owner.epoch])
        waiter.wake()
        return opened
    }

    // MARK: Keeping

    /// Keeps the owned stores until the calling task is cancelled: renews them when due, and steps each
    /// down when its deadline passes or its epoch is lost, then calls `onStepDown` (which closes the
    /// stores whose writes stopped). A store that belongs to another daemon (``PlacementView``) is handed
    /// to it through `onHandOff`, which returns once the store has closed and released its ownership.
    ///
    /// The keeping runs at high priority, and so do the renewals and hand-offs it starts (tasks inherit
    /// it): a keeper starved by a burst of the daemon's own work would miss a renewal and step down from
    /// stores it serves (seen under load with a 3 s TTL). It is a timer and one small transaction per
    /// round, so it takes little from the rest.
    public func run(onStepDown: @escaping @Sendable () async -> Void,
                    onHandOff: @escaping @Sendable (WireUUID, ClusterPeer) async -> Void = { _, _ in }) async {
        let keeper = Task(priority: .high) { await keep(onStepDown: onStepDown, onHandOff: onHandOff) }
        await withTaskCancellationHandler { await keeper.value } onCancel: { keeper.cancel() }
    }

    private func keep(onStepDown: @escaping @Sendable () async -> Void,
                      onHandOff: @escaping @Sendable (WireUUID, ClusterPeer) async -> Void) async {
        while !Task.isCancelled {
            let nowMs = clock.nowMs()
            let (steppedDown, round, wakeAtMs) = plan(nowMs: nowMs)
            for (store, reason) in steppedDown { stepDown(store, reason) }
            if !steppedDown.isEmpty { tasks.spawn(onStepDown) }
            if let round { tasks.spawn { await self.renew(round) } }
            for (store, peer) in startHandOffs(nowMs: nowMs) {
                logger.info("store handed off", ["store": store, "to": peer.nodeID])
                tasks.spawn {
                    await onHandOff(store, peer)
                    self.state.withLock { s in
                        s.handingOff[store] = nil
                        if s.owned[store]?.store.isClosed == true { s.owned[store] = nil }
                    }
                }
            }
            await waiter.wait(untilMs: wakeAtMs)
        }
        _ = await tasks.cancelAndWait(upTo: .seconds(2))
    }

    /// The owned stores to hand to another daemon now, marked as moving.
    private func startHandOffs(nowMs: Int64) -> [(store: WireUUID, to: ClusterPeer)] {
        state.withLock { s in
            guard let nodeID = s.nodeID, !s.leaving else { return [] }
            let held = s.owned.filter { s.handingOff[$0.key] == nil }.map { (store: $0.key, heldSinceMs: $0.value.heldSinceMs) }
            let moves = s.placement.handOffs(
                of: held, selfID: nodeID, selfEligible: s.advertiseURL != nil, nowMs: nowMs,
                limit: PlacementView.maxHandOffsPerRound - s.handingOff.count)
            for move in moves { s.handingOff[move.store] = move.to }
            s.handOffsStarted += moves.count
            return moves
        }
    }

    /// Decides, for every owned store at `nowMs`: those to step down (removed here), the renewal round to
    /// start, if any, and when to look again.
    private func plan(nowMs: Int64) -> ([(PostgresStore, StepDownReason)], Round?, Int64) {
        state.withLock { s in
            var steppedDown: [(PostgresStore, StepDownReason)] = []
            var due: [WireUUID] = []
            var wakeAtMs = nowMs + timing.renewIntervalMs
            for (id, owned) in s.owned {
                // Closed (idle, evicted, writes stopped, shutdown): the close released it.
                if owned.store.isClosed {
                    s.owned[id] = nil
                    continue
                }
                switch owned.term.decision(nowMs: nowMs) {
                case .stepDown(let reason):
                    s.owned[id] = nil
                    steppedDown.append((owned.store, reason))
                case .renew: due.append(id)
                case .serve(let untilMs): wakeAtMs = min(wakeAtMs, untilMs)
                }
            }
            guard let nodeID = s.nodeID, !s.renewing else { return (steppedDown, nil, wakeAtMs) }
            guard !due.isEmpty || nowMs >= s.heartbeatAtMs || s.announce else {
                return (steppedDown, nil, min(wakeAtMs, s.heartbeatAtMs))
            }
            s.announce = false
            s.renewing = true
            for id in due { s.owned[id]?.term.renewalStarted(atMs: nowMs) }
            let owners = due.compactMap { s.owned[$0]?.store.owner }
            return (steppedDown, Round(sql: StoreOwnershipSQL(node: nodeID, ttlMs: timing.ttlMs), owners: owners, startedAtMs: nowMs),
                    wakeAtMs)
        }
    }

    /// Sends one renewal round (with the heartbeat) and records what it found.
    private func renew(_ round: Round) async {
        let (advertiseURL, leaving) = state.withLock { ($0.advertiseURL, $0.leaving) }
        let result: Result<Set<WireUUID>, StreamsError>
        var liveNodes: [ClusterNode]?
        do {
            let (renewed, nodes) = try await pool.transaction { s throws(StreamsError) in
                (try round.sql.renew(round.owners, advertiseURL: advertiseURL, heartbeat: !leaving, on: s), try round.sql.liveNodes(on: s))
            }
            result = .success(renewed)
            liveNodes = nodes
        } catch {
            result = .failure(error)
        }
        let nowMs = clock.nowMs()
        state.withLock { s in
            s.renewing = false
            if let liveNodes {
                s.liveNodes = liveNodes
                s.liveNodesReadAtMs = nowMs
                s.placement.update(liveNodes, readAtMs: nowMs)
            }
            for owner in round.owners {
                // Only the term of the same epoch: the store may have been closed and taken over again.
                guard var owned = s.owned[owner.store], owned.store.owner == owner else { continue }
                switch result {
                case .success(let renewed) where renewed.contains(owner.store): owned.term.renewalCommitted()
                case .success: owned.term.renewalLost()
                case .failure: owned.term.renewalFailed(atMs: nowMs)
                }
                s.owned[owner.store] = owned
            }
            switch result {
            case .success: s.heartbeatAtMs = round.startedAtMs + timing.renewIntervalMs
            case .failure: s.heartbeatAtMs = nowMs + timing.retryIntervalMs
            }
        }
        if case .failure(let error) = result {
            // A heartbeat alone fails every retry interval while PostgreSQL is away, which `/readyz` reports already.
            if round.owners.isEmpty {
                logger.debug("node heartbeat not recorded", ["error": error.message])
            } else {
                logger.warn("store ownership not renewed", ["stores": round.owners.count, "error": error.message])
            }
        }
        waiter.wake()
    }

    /// Stops `store`'s writes with the reason, so its node is closed and its streams end with it.
    private func stepDown(_ store: PostgresStore, _ reason: StepDownReason) {
        let owner = store.owner
        let error: StreamsError
        switch reason {
        case .deadlinePassed:
            error = .storage("node \(owner.node) stepped down from store \(owner.store) (epoch \(owner.epoch)): its ownership "
                             + "was not renewed in time; the store takes no more writes until it is opened again")
        case .lost:
            error = .ownershipLost(owner)
        }
        store.stopWrites(because: error)
        logger.warn("store ownership given up", ["store": owner.store, "epoch": owner.epoch, "reason": "\(reason)", "error": error.message])
    }
}

/// Where a new stream's store is, for routing (``OwnershipRouter``).
enum StorePosition: Sendable {
    /// This daemon owns it.
    case ownedHere
    /// This daemon is handing it to `peer`: its new streams wait for the move.
    case handingOff(to: ClusterPeer)
    /// Another live daemon owns it.
    case ownedElsewhere(ForeignOwner)
    /// No daemon owns it: placement prefers `placeOn`, or this daemon when nil.
    case free(placeOn: ClusterPeer?)
}
