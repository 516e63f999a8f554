extension DaemonMetrics {
    /// Registers the cluster's gauges, read from `ownerships` at each scrape: the live daemons as the last
    /// renewal round saw them, the stores this daemon owns, how old that view is, and the hand-offs it started.
    func collect(ownerships: StoreOwnerships) {
        let liveNodes = registry.gauge(
            "coordd_cluster_live_nodes", help: "Daemons whose heartbeat PostgreSQL holds within the ownership TTL, as last read.")
        let ownedStores = registry.gauge("coordd_cluster_owned_stores", help: "Stores this daemon owns now.")
        let viewAge = registry.gauge(
            "coordd_cluster_view_age_seconds", help: "How long ago the cluster view (live daemons) was read from PostgreSQL.")
        let handOffs = registry.counter(
            "coordd_cluster_handoffs_total", help: "Stores this daemon handed to the daemon placement prefers.")
        registry.addCollector {
            handOffs.setTotal(Double(ownerships.handOffCount))
            let view = ownerships.liveNodes
            liveNodes.set(Double(view?.nodes.count ?? 0))
            ownedStores.set(Double(ownerships.ownedCount))
            viewAge.set(view.map { Double($0.ageMs) / 1_000 } ?? 0)
        }
    }
}
