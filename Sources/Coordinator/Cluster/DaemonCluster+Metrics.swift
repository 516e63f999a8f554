extension DaemonCluster {
    /// Adds `coordd_forwarded_streams` to `registry`: the streams forwarded now, read at each scrape.
    public func report(to registry: MetricsRegistry) {
        let forwarded = registry.gauge(
            "coordd_forwarded_streams", help: "Streams forwarded to the daemons that serve their stores.")
        let forwarder = forwarder
        registry.addCollector { forwarded.set(Double(forwarder.forwardedCount)) }
    }
}
