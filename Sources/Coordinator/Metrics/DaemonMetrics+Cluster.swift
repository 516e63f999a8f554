extension DaemonMetrics {
    /// Registers the cluster's gauges, read from `ownerships` at each scrape: the live daemons as the last
    /// renewal round saw them, the stores this daemon owns, and how old that view is.
    func collect(ownerships: StoreOwnerships) {
        let liveNodes = registry.gauge(
            "coordd_cluster_live_nodes", help: "Daemons whose heartbeat PostgreSQL holds within the ownership TTL, as last read.")
        let ownedStores = registry.gauge("coordd_cluster_owned_stores", help: "Stores this daemon owns now.")
        let viewAge = registry.gauge(
            "coordd_cluster_view_age_seconds", help: "How long ago the cluster view (live daemons) was read from PostgreSQL.")
        registry.addCollector {
            let view = ownerships.liveNodes
            liveNodes.set(Double(view?.nodes.count ?? 0))
            ownedStores.set(Double(ownerships.ownedCount))
            viewAge.set(view.map { Double($0.ageMs) / 1_000 } ?? 0)
        }
    }
}
