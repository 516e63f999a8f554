import CorePrimitives
import StreamCore

/// Which daemon should own a store: rendezvous (highest-random-weight) hashing of the store id over the
/// live daemons' node ids. Pure and deterministic: every daemon that sees the same live nodes computes
/// the same preferred owner, with no coordination, and the hash is spelled out here (FNV-1a, then the
/// SplitMix64 finaliser) so it is the same in every process and every version.
///
/// Rendezvous hashing moves the fewest stores: when a daemon joins, only the stores that now prefer it
/// move (about 1/n of them); when one leaves, only its own stores move, each to its next choice.
public enum StorePlacement {
    /// The preferred owner of `store` among `nodes` (node ids), nil when there are none. Ties (equal
    /// weights, which needs a 64-bit collision) go to the smaller node id.
    public static func preferredOwner(of store: WireUUID, among nodes: some Sequence<String>) -> String? {
        var best: (node: String, weight: UInt64)?
        for node in nodes {
            let weight = self.weight(store: store, node: node)
            if let current = best, current.weight > weight || (current.weight == weight && current.node < node) { continue }
            best = (node, weight)
        }
        return best?.node
    }

    /// The nodes in the order `store` prefers them: its owner first, then whom it moves to if that one
    /// leaves, and so on.
    public static func ranking(of store: WireUUID, among nodes: some Sequence<String>) -> [String] {
        nodes.map { (node: $0, weight: weight(store: store, node: $0)) }
            .sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.node < $1.node }
            .map(\.node)
    }

    /// The weight of `node` for `store`: FNV-1a over the store's 16 bytes and the node id's UTF-8, mixed
    /// by SplitMix64's finaliser (FNV alone spreads similar ids such as `coordd-1`, `coordd-2` poorly).
    static func weight(store: WireUUID, node: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in store.bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        hash = (hash ^ 0xFF) &* 0x0000_0100_0000_01B3  // a separator no UTF-8 byte equals
        for byte in node.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        var mixer = SplitMix64(seed: hash)
        return mixer.next()
    }
}
