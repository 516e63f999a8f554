import StreamCore

/// The daemon's metric series, registered in one ``MetricsRegistry``: what nodes count as they serve
/// (it is their ``NodeMetrics``) and what is read from live state at scrape time.
public final class DaemonMetrics: NodeMetrics {
    /// The registry holding every series below.
    public let registry: MetricsRegistry
    /// Streams served, by operation.
    public let streams: CounterFamily
    /// Streams ended with an error, by code (`transient`, `permanent`) and error name.
    public let errors: CounterFamily
    /// Entries committed by produce streams.
    public let producedEntries: CounterFamily
    /// Payload bytes of those entries.
    public let producedBytes: CounterFamily
    /// Inventory messages handed to subscribers' streams.
    public let inventoryDeliveries: CounterFamily
    /// Open WebSocket connections.
    public let connections: GaugeFamily
    /// Streams being served now.
    public let openStreams: GaugeFamily
    /// Stores with an open node.
    public let openStores: GaugeFamily
    /// Registered workers, over every store.
    public let workers: GaugeFamily
    /// Inventory observers, over every store.
    public let observers: GaugeFamily
    /// Live leases, over every store.
    public let leasesHeld: GaugeFamily
    /// Latency of the durable logs' `fdatasync` per write batch, over every file store.
    public let fsyncDuration: Histogram

    /// Registers the series in `registry`.
    public init(registry: MetricsRegistry = MetricsRegistry()) {
        self.registry = registry
        streams = registry.counter("coordd_streams_total", help: "Streams served, by operation.", labelNames: ["operation"])
        errors = registry.counter(
            "coordd_stream_errors_total", help: "Streams ended with an error, by error code and name.",
            labelNames: ["code", "error"])
        producedEntries = registry.counter("coordd_produced_entries_total", help: "Entries committed by produce streams.")
        producedBytes = registry.counter(
            "coordd_produced_bytes_total", help: "Payload bytes of the entries committed by produce streams.")
        inventoryDeliveries = registry.counter(
            "coordd_inventory_deliveries_total", help: "Worker inventory snapshots and deltas handed to subscriber streams.")
        connections = registry.gauge("coordd_connections", help: "Open client connections.")
        openStreams = registry.gauge("coordd_streams_open", help: "Streams being served.")
        openStores = registry.gauge("coordd_stores_open", help: "Stores with an open node.")
        workers = registry.gauge("coordd_workers", help: "Registered workers.")
        observers = registry.gauge("coordd_observers", help: "Worker inventory observers.")
        leasesHeld = registry.gauge("coordd_leases_held", help: "Live leases.")
        fsyncDuration = registry.histogram(
            "coordd_fsync_duration_seconds", help: "Time the durable log's fdatasync of one write batch took.",
            upperBounds: SyncLatencyHistogram.upperBoundsSeconds)
    }

    /// Reads the gauges and the fsync histogram from `nodes` and the connection count at every scrape.
    public func collect(from nodes: NodeManager, connections connectionCount: @escaping @Sendable () -> Int) {
        registry.addCollector { [self] in
            let open = nodes.openNodes
            var streams = 0, workers = 0, observers = 0, leases = 0
            var fsync = SyncLatencyHistogram()
            for node in open {
                streams += node.openStreamCount
                let presence = node.inventory.counts
                workers += presence.workers
                observers += presence.observers
                leases += node.leases.count
                if let file = node.store as? FileStore { fsync.add(file.logMetrics.syncLatency) }
            }
            connections.set(Double(connectionCount()))
            openStreams.set(Double(streams))
            openStores.set(Double(open.count))
            self.workers.set(Double(workers))
            self.observers.set(Double(observers))
            leasesHeld.set(Double(leases))
            fsyncDuration.load(Self.snapshot(of: fsync))
        }
    }

    /// The log's histogram in the registry's units (seconds).
    static func snapshot(of latency: SyncLatencyHistogram) -> HistogramSnapshot {
        HistogramSnapshot(upperBounds: SyncLatencyHistogram.upperBoundsSeconds, counts: latency.counts,
                          sum: Double(latency.sumNanoseconds) / 1e9)
    }

    // MARK: NodeMetrics

    public func streamStarted(operation: String) {
        streams.increment([operation])
    }

    public func streamFailed(operation: String, error: StreamsError) {
        errors.increment([error.code == .transient ? "transient" : "permanent", error.name])
    }

    public func produced(entries: Int, payloadBytes: Int) {
        producedEntries.increment(by: Double(entries))
        producedBytes.increment(by: Double(payloadBytes))
    }

    public func inventoryDelivered(_ count: Int) {
        inventoryDeliveries.increment(by: Double(count))
    }
}
