import PostgresKit

/// The cluster as `/readyz` and `coordctl cluster` show it: one line per live daemon, in logfmt
/// (`cluster node=… self=yes url=… stores=… heartbeat_age_ms=… view_age_ms=…`), from the view the last
/// renewal round read (``StoreOwnerships/liveNodes``).
enum ClusterStatus {
    /// The lines for `ownerships`' view; one saying so before the first renewal round.
    static func readinessLines(_ ownerships: StoreOwnerships) -> [String] {
        guard let view = ownerships.liveNodes else { return ["cluster view=pending"] }
        let me = ownerships.nodeID
        return view.nodes.map { node in
            let id = LogLineFormat.quoteIfNeeded(node.nodeID)
            let url = LogLineFormat.quoteIfNeeded(node.advertiseURL ?? "-")
            return "cluster node=\(id) self=\(node.nodeID == me ? "yes" : "no") url=\(url) stores=\(node.ownedStores)"
                + " heartbeat_age_ms=\(node.heartbeatAgeMs) view_age_ms=\(view.ageMs)"
        }
    }
}
