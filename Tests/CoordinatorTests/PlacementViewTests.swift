import CoordTestKit
@testable import Coordinator
import Ownership
import PostgresKit
import StreamCore
import Testing

/// Which daemons are eligible for stores, when owned stores move, and where free ones go: on a manual
/// clock (times in ms), with a 3 s TTL (renewals every 1 s, fresh for 1.5 s, settled after 3 s).
struct PlacementViewTests {
    static let timing = OwnershipTiming(ttlMs: 3_000)

    static func node(_ id: String, ageMs: Int64 = 0, url: Bool = true) -> ClusterNode {
        ClusterNode(nodeID: id, advertiseURL: url ? "ws://127.0.0.1:1/\(id)" : nil, heartbeatAgeMs: ageMs, ownedStores: 0)
    }

    /// `count` stores (from a fixed seed) that `nodes` would place on `preferred`.
    static func stores(preferring preferred: String, among nodes: [String], count: Int) -> [WireUUID] {
        var rng = SplitMix64(seed: 7)
        var found: [WireUUID] = []
        for _ in 0..<10_000 where found.count < count {
            let store = WireUUID(high: rng.next(), low: rng.next())
            if StorePlacement.preferredOwner(of: store, among: nodes) == preferred { found.append(store) }
        }
        return found
    }

    @Test func aPeerIsEligibleOnlyWhileItsHeartbeatIsFreshAndItCanBeReached() {
        var view = PlacementView(timing: Self.timing)
        #expect(view.freshForMs == 1_500 && view.settleMs == 3_000)
        view.update([Self.node("a"), Self.node("b", ageMs: 400), Self.node("c", ageMs: 1_600), Self.node("d", url: false)], readAtMs: 10_000)
        #expect(view.peers(except: "a", nowMs: 10_000, settled: false).map(\.nodeID) == ["b"])
        // The view ages: b's heartbeat is 1,400 ms old at 11,000, 1,600 ms at 11,200.
        #expect(view.peers(except: "a", nowMs: 11_000, settled: false).map(\.nodeID) == ["b"])
        #expect(view.peers(except: "a", nowMs: 11_200, settled: false).isEmpty)
        #expect(view.peers(except: "a", nowMs: 10_000, settled: true).isEmpty, "b has just been seen")
    }

    @Test func ownedStoresMoveOnlyToASettledPeerAndOnlyAfterTheyWereHeldASettleTime() {
        var view = PlacementView(timing: Self.timing)
        let toB = Self.stores(preferring: "b", among: ["a", "b"], count: 3)
        let stay = Self.stores(preferring: "a", among: ["a", "b"], count: 3)
        let held = (toB + stay).map { (store: $0, heldSinceMs: Int64(0)) }
        view.update([Self.node("a")], readAtMs: 4_000)
        #expect(view.handOffs(of: held, selfID: "a", selfEligible: true, nowMs: 4_000, limit: 16).isEmpty, "b is not live")
        view.update([Self.node("a"), Self.node("b")], readAtMs: 5_000)
        view.update([Self.node("a"), Self.node("b", ageMs: 200)], readAtMs: 7_000)
        #expect(view.handOffs(of: held, selfID: "a", selfEligible: true, nowMs: 7_000, limit: 16).isEmpty, "b seen for 2 s only")
        view.update([Self.node("a"), Self.node("b", ageMs: 100)], readAtMs: 8_000)
        let moves = view.handOffs(of: held, selfID: "a", selfEligible: true, nowMs: 8_000, limit: 16)
        #expect(Set(moves.map(\.store)) == Set(toB) && moves.allSatisfy { $0.to.nodeID == "b" })
        // A store taken over 1 s ago stays a while; the limit holds.
        let recent = held.map { (store: $0.store, heldSinceMs: Int64(7_000)) }
        #expect(view.handOffs(of: recent, selfID: "a", selfEligible: true, nowMs: 8_000, limit: 16).isEmpty)
        #expect(view.handOffs(of: held, selfID: "a", selfEligible: true, nowMs: 8_000, limit: 2).count == 2)
        // A daemon that may keep nothing (no advertise URL, or leaving) gives every store to its peers.
        #expect(view.handOffs(of: held, selfID: "a", selfEligible: false, nowMs: 8_000, limit: 16).count == 6)
    }

    @Test func aPeerThatWasAwayStartsItsSettleTimeAgain() {
        var view = PlacementView(timing: Self.timing)
        let toB = Self.stores(preferring: "b", among: ["a", "b"], count: 1).map { (store: $0, heldSinceMs: Int64(0)) }
        view.update([Self.node("a"), Self.node("b")], readAtMs: 1_000)
        view.update([Self.node("a")], readAtMs: 2_000)
        view.update([Self.node("a"), Self.node("b")], readAtMs: 3_000)
        view.update([Self.node("a"), Self.node("b")], readAtMs: 5_000)
        #expect(view.handOffs(of: toB, selfID: "a", selfEligible: true, nowMs: 5_000, limit: 16).isEmpty)
        view.update([Self.node("a"), Self.node("b")], readAtMs: 6_000)
        #expect(view.handOffs(of: toB, selfID: "a", selfEligible: true, nowMs: 6_000, limit: 16).count == 1)
    }

    @Test func aFreeStoreGoesToItsPreferredEligibleDaemon() {
        let nodes = [Self.node("a"), Self.node("b"), Self.node("c", ageMs: 2_000), Self.node("d", url: false)]
        let toB = Self.stores(preferring: "b", among: ["a", "b"], count: 5)
        let toA = Self.stores(preferring: "a", among: ["a", "b"], count: 5)
        for store in toB {
            #expect(PlacementView.placement(of: store, among: nodes, selfID: "a", selfEligible: true, freshForMs: 1_500)?.nodeID == "b")
        }
        for store in toA {
            #expect(PlacementView.placement(of: store, among: nodes, selfID: "a", selfEligible: true, freshForMs: 1_500) == nil)
            #expect(PlacementView.placement(of: store, among: nodes, selfID: "a", selfEligible: false, freshForMs: 1_500)?.nodeID == "b",
                    "a daemon that leaves places nothing on itself")
        }
        #expect(PlacementView.placement(of: toB[0], among: [Self.node("a")], selfID: "a", selfEligible: false, freshForMs: 1_500) == nil,
                "with no daemon eligible, this one serves it")
    }
}
