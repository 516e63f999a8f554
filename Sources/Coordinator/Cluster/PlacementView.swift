import Ownership
import PostgresKit
import StreamCore

/// Where stores belong among the live daemons, as one daemon sees them (`docs/cluster.md`, "Placement").
/// Pure: fed the live nodes each renewal round reads, asked on the daemon's monotonic clock.
///
/// A store belongs to the daemon ``StorePlacement`` prefers among the *eligible* daemons: those with an
/// advertise URL (others cannot forward to a daemon without one) and a *fresh* heartbeat. A free store is
/// placed on its preferred daemon at once; an owned store is handed to it only once that daemon has been
/// eligible for ``settleMs`` and the store has been with its owner as long, so a daemon that starts and
/// fails at once is handed nothing, and a store does not bounce while two daemons' views differ.
struct PlacementView: Sendable {
    /// Hand-offs started per renewal round at most, so a daemon that joins takes its share over a few
    /// rounds rather than every client of the moving stores reconnecting in one burst.
    static let maxHandOffsPerRound = 16
    /// How long a hand-off lets the writes being served commit and answer before the store's streams end.
    static let handOffGraceMs: Int64 = 1_000

    let timing: OwnershipTiming
    /// When each eligible node was first seen eligible without a break, by node id.
    private var eligibleSinceMs: [String: Int64] = [:]
    private var nodes: [ClusterNode] = []
    private var readAtMs: Int64 = 0

    init(timing: OwnershipTiming) {
        self.timing = timing
    }

    /// A heartbeat younger than this is fresh: one renewal interval and half another for a slow round.
    /// A daemon that died stops being fresh at half the TTL, well before its ownerships expire (a TTL after
    /// its last renewal), so the stores it held are placed on the daemons still running.
    var freshForMs: Int64 { timing.renewIntervalMs * 3 / 2 }

    /// How long a daemon must have been eligible before owned stores move to it, and a store held by its
    /// owner before it may move again: one TTL.
    var settleMs: Int64 { timing.ttlMs }

    /// Records the live nodes a renewal round read at `readAtMs`.
    mutating func update(_ nodes: [ClusterNode], readAtMs: Int64) {
        var since: [String: Int64] = [:]
        for node in nodes where Self.eligible(node, ageMs: node.heartbeatAgeMs, freshForMs: freshForMs) {
            since[node.nodeID] = eligibleSinceMs[node.nodeID] ?? readAtMs
        }
        eligibleSinceMs = since
        self.nodes = nodes
        self.readAtMs = readAtMs
    }

    /// The other daemons eligible at `nowMs`; with `settled`, only those eligible for ``settleMs``.
    func peers(except selfID: String, nowMs: Int64, settled: Bool) -> [ClusterPeer] {
        nodes.compactMap { node in
            guard let peer = Self.eligiblePeer(node, except: selfID, ageMs: node.heartbeatAgeMs + max(0, nowMs - readAtMs),
                                               freshForMs: freshForMs),
                  let since = eligibleSinceMs[node.nodeID], !settled || nowMs - since >= settleMs
            else { return nil }
            return peer
        }
    }

    /// The owned stores (each with when it was taken over) that belong to another settled daemon now, and
    /// that daemon; at most `limit`, and none taken over less than ``settleMs`` ago. `selfEligible`: this
    /// daemon may keep stores (it has an advertise URL and is not leaving).
    func handOffs(of owned: [(store: WireUUID, heldSinceMs: Int64)], selfID: String, selfEligible: Bool, nowMs: Int64,
                  limit: Int) -> [(store: WireUUID, to: ClusterPeer)] {
        let peers = peers(except: selfID, nowMs: nowMs, settled: true)
        guard !peers.isEmpty, limit > 0 else { return [] }
        let byID = Dictionary(peers.map { ($0.nodeID, $0) }, uniquingKeysWith: { first, _ in first })
        let candidates = peers.map(\.nodeID) + (selfEligible ? [selfID] : [])
        var moves: [(store: WireUUID, to: ClusterPeer)] = []
        // Sorted, so which stores go first does not depend on a dictionary's order.
        for held in owned.sorted(by: { $0.store.description < $1.store.description }) where nowMs - held.heldSinceMs >= settleMs {
            guard let preferred = StorePlacement.preferredOwner(of: held.store, among: candidates), let peer = byID[preferred]
            else { continue }
            moves.append((held.store, peer))
            if moves.count == limit { break }
        }
        return moves
    }

    /// Where a free store goes: the daemon preferred among the eligible `nodes` (read fresh from
    /// PostgreSQL, each with its heartbeat's age) and this one when `selfEligible`; nil when that is this
    /// daemon, or
    /// when no daemon is eligible (this one then serves it anyway: placement is a preference, serving
    /// comes first).
    static func placement(of store: WireUUID, among nodes: [ClusterNode], selfID: String, selfEligible: Bool,
                          freshForMs: Int64) -> ClusterPeer? {
        var peers: [String: ClusterPeer] = [:]
        for node in nodes {
            if let peer = eligiblePeer(node, except: selfID, ageMs: node.heartbeatAgeMs, freshForMs: freshForMs) { peers[node.nodeID] = peer }
        }
        let candidates = Array(peers.keys) + (selfEligible ? [selfID] : [])
        return StorePlacement.preferredOwner(of: store, among: candidates).flatMap { peers[$0] }
    }

    /// `node` as a peer stores may be placed on: another daemon, with an advertise URL, whose heartbeat
    /// (`ageMs` old now) is fresh; else nil.
    private static func eligiblePeer(_ node: ClusterNode, except selfID: String, ageMs: Int64, freshForMs: Int64) -> ClusterPeer? {
        guard node.nodeID != selfID, eligible(node, ageMs: ageMs, freshForMs: freshForMs), let url = node.advertiseURL else { return nil }
        return ClusterPeer(nodeID: node.nodeID, advertiseURL: url)
    }

    /// Eligible for stores: reachable (an advertise URL) with a heartbeat `ageMs` old, fresh.
    private static func eligible(_ node: ClusterNode, ageMs: Int64, freshForMs: Int64) -> Bool {
        node.advertiseURL != nil && ageMs <= freshForMs
    }
}
