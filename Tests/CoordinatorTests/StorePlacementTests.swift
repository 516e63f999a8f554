import CorePrimitives
import Coordinator
import StreamCore
import Testing

/// Rendezvous placement: the same answer everywhere, an even spread, and the fewest moves when daemons
/// join or leave.
struct StorePlacementTests {
    static func stores(_ count: Int, seed: UInt64) -> [WireUUID] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in WireUUID.random(using: &generator) }
    }

    @Test func theAnswerDependsOnTheNodesNotOnTheirOrder() {
        let nodes = ["coordd-1", "coordd-2", "coordd-3"]
        for store in Self.stores(200, seed: 1) {
            let owner = StorePlacement.preferredOwner(of: store, among: nodes)
            #expect(owner == StorePlacement.preferredOwner(of: store, among: nodes.reversed()))
            #expect(owner == StorePlacement.ranking(of: store, among: nodes.shuffled()).first)
        }
        #expect(StorePlacement.preferredOwner(of: .random(), among: [String]()) == nil)
    }

    @Test func storesSpreadEvenlyOverSimilarlyNamedNodes() {
        let nodes = (1...3).map { "coordd-\($0)" }
        var owned: [String: Int] = [:]
        for store in Self.stores(3_000, seed: 2) {
            owned[StorePlacement.preferredOwner(of: store, among: nodes)!, default: 0] += 1
        }
        // 1,000 each expected; a binomial spread stays well within ±10 % (σ ≈ 26).
        for node in nodes { #expect((900...1_100).contains(owned[node] ?? 0), "\(node) owns \(owned[node] ?? 0)") }
    }

    @Test func aJoinMovesOnlyStoresToTheNewNodeAndALeaveOnlyTheLeaversStores() {
        let before = ["a", "b", "c"]
        let joined = before + ["d"]
        var movedToNew = 0
        for store in Self.stores(2_000, seed: 3) {
            let old = StorePlacement.preferredOwner(of: store, among: before)!
            let new = StorePlacement.preferredOwner(of: store, among: joined)!
            #expect(new == old || new == "d", "a store moved between two old nodes")
            if new == "d" { movedToNew += 1 }
            // Leaving: only b's stores move, each to its second choice.
            let left = StorePlacement.preferredOwner(of: store, among: ["a", "c"])!
            if old != "b" { #expect(left == old) }
            if old == "b" { #expect(left == StorePlacement.ranking(of: store, among: before)[1]) }
        }
        // About a quarter of the stores move to the new node.
        #expect((400...600).contains(movedToNew), "\(movedToNew) of 2,000 moved")
    }
}
