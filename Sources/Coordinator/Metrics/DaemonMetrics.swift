import StreamCore
import Transport

/// The daemon's metric series, registered in one ``MetricsRegistry``: what nodes count as they serve
/// (it is their ``NodeMetrics``), what the listener and connections report (``ServerEventLog``), and
/// what is read from live state at scrape time (gauges, the process's figures).
public final class DaemonMetrics: Sendable {
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
    /// Open WebSocket connections (plain HTTP requests such as scrapes are not counted).
    public let connections: GaugeFamily
    /// WebSocket connections opened and closed.
    public let connectionsOpened: CounterFamily
    public let connectionsClosed: CounterFamily
    /// Streams being served now.
    public let openStreams: GaugeFamily
    /// Stores with an open node.
    public let openStores: GaugeFamily
    /// Registered workers, over every store.
    public let workers: GaugeFamily
    /// Inventory observers, over every store.
    public let observers: GaugeFamily
    /// Worker presence changes, by change (`joined`, `replaced`, `left`, `evicted`).
    public let workerPresenceChanges: CounterFamily
    /// Live leases, over every store.
    public let leasesHeld: GaugeFamily
    /// Lease operations by operation and outcome.
    public let leaseOperations: CounterFamily
    /// The lease outcomes counted on every request of a busy store (a renewal, a grant, a release),
    /// counted through their cells.
    private let hotLeaseOutcomes: [(operation: String, outcome: String, cell: CounterCell)]
    /// ``inventoryDeliveries``' one sample, counted by every subscriber's connection loop on every change.
    private let inventoryDeliveryCell: CounterCell
    /// Latency of the durable logs' `fdatasync` per write batch, over every file store.
    public let fsyncDuration: Histogram
    /// Latency of PostgreSQL write transactions (one group-commit batch each), over every PostgreSQL store.
    public let postgresTransactionDuration: Histogram
    /// Time from a stream's request to its end, by operation (subscriptions are not observed).
    public let operationDuration: Histogram
    /// Committed bytes in the log files of each open file store (its lease log included).
    public let storeDiskBytes: GaugeFamily
    /// System resources that ran out, by resource and by what was being done.
    public let resourceExhaustion: CounterFamily
    /// Stores that did not open, by cause (a resource, or `error`).
    public let storeOpenFailures: CounterFamily
    /// `accept` failures, by errno name.
    public let acceptFailures: CounterFamily
    /// Connections and requests refused for their credentials, by reason.
    public let authRejections: CounterFamily
    /// Server-side TLS handshakes that failed.
    public let tlsHandshakeFailures: CounterFamily
    /// Connections closed because their peer did not read, by the bound passed.
    public let slowClientsClosed: CounterFamily
    /// `coordd_build_info{version}`, always 1.
    public let buildInfo: GaugeFamily
    private let process: ProcessMetrics

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
        inventoryDeliveryCell = inventoryDeliveries.cell([])
        connections = registry.gauge("coordd_connections", help: "Open client WebSocket connections.")
        connectionsOpened = registry.counter("coordd_connections_opened_total", help: "Client WebSocket connections opened.")
        connectionsClosed = registry.counter("coordd_connections_closed_total", help: "Client WebSocket connections closed.")
        openStreams = registry.gauge("coordd_streams_open", help: "Streams being served.")
        openStores = registry.gauge("coordd_stores_open", help: "Stores with an open node.")
        workers = registry.gauge("coordd_workers", help: "Registered workers.")
        observers = registry.gauge("coordd_observers", help: "Worker inventory observers.")
        workerPresenceChanges = registry.counter(
            "coordd_worker_presence_changes_total", help: "Worker presence changes: joined, replaced, left, evicted.",
            labelNames: ["change"])
        leasesHeld = registry.gauge("coordd_leases_held", help: "Live leases.")
        leaseOperations = registry.counter(
            "coordd_lease_operations_total", help: "Lease operations by operation and outcome.",
            labelNames: ["operation", "outcome"])
        let leaseOperations = leaseOperations
        hotLeaseOutcomes = [("renew", "renewed"), ("acquire", "granted"), ("release", "released")].map { hot in
            (hot.0, hot.1, leaseOperations.cell([hot.0, hot.1]))
        }
        fsyncDuration = registry.histogram(
            "coordd_fsync_duration_seconds", help: "Time the durable log's fdatasync of one write batch took.",
            upperBounds: SyncLatencyHistogram.upperBoundsSeconds)
        postgresTransactionDuration = registry.histogram(
            "coordd_postgres_transaction_duration_seconds",
            help: "Time one PostgreSQL write transaction (a group-commit batch) took, its commit included.",
            upperBounds: SyncLatencyHistogram.upperBoundsSeconds)
        // The fsync span (a fast flush to a stalled disk) is also an operation's: a durable one waits for one.
        operationDuration = registry.histogram(
            "coordd_operation_duration_seconds",
            help: "Time from a stream's request to its end, by operation; subscriptions are not observed.",
            labelNames: ["operation"], upperBounds: SyncLatencyHistogram.upperBoundsSeconds)
        storeDiskBytes = registry.gauge(
            "coordd_store_disk_bytes",
            help: "Bytes in the log files of an open file store, its lease log included: data and reserved zeros.",
            labelNames: ["store"])
        resourceExhaustion = registry.counter(
            "coordd_resource_exhaustion_total",
            help: "Operations that failed because a system resource ran out (disk, descriptors, threads, memory).",
            labelNames: ["resource", "during"])
        storeOpenFailures = registry.counter(
            "coordd_store_open_failures_total", help: "Stores that could not be opened, by cause.", labelNames: ["cause"])
        acceptFailures = registry.counter(
            "coordd_accept_failures_total", help: "accept failures of the listener, by errno; each pauses accepting.",
            labelNames: ["errno"])
        authRejections = registry.counter(
            "coordd_auth_rejections_total", help: "Connections and /metrics requests refused for their credentials, by reason.",
            labelNames: ["reason"])
        tlsHandshakeFailures = registry.counter("coordd_tls_handshake_failures_total", help: "Server-side TLS handshakes that failed.")
        slowClientsClosed = registry.counter(
            "coordd_slow_clients_closed_total", help: "Connections closed because their peer did not read what was sent.",
            labelNames: ["reason"])
        // Every reason shows from the first scrape, at 0, so a rate over it starts from a value.
        for reason in SlowConnectionClose.Reason.allCases { slowClientsClosed.increment([reason.rawValue], by: 0) }
        buildInfo = registry.gauge("coordd_build_info", help: "The running build; always 1.", labelNames: ["version"])
        buildInfo.set(1, [BuildInfo.version])
        process = ProcessMetrics(registry: registry)
        registry.addCollector { [process] in process.collect() }
    }

    /// Reads the gauges and the fsync histogram from `nodes` and the WebSocket connection count at
    /// every scrape. A store's disk bytes are the figure its logs keep as they write (no file is
    /// looked at); only open file stores have one.
    public func collect(from nodes: NodeManager, connections connectionCount: @escaping @Sendable () -> Int) {
        registry.addCollector { [self] in
            let open = nodes.openNodes
            var streams = 0, workers = 0, observers = 0, leases = 0
            var fsync = SyncLatencyHistogram()
            var transactions = SyncLatencyHistogram()
            var diskBytes: [[String]: Double] = [:]
            for node in open {
                streams += node.openStreamCount
                let presence = node.inventory.counts
                workers += presence.workers
                observers += presence.observers
                leases += node.leases.count
                let storage = node.store.storageMetrics
                if let latency = storage.syncLatency { fsync.add(latency) }
                if let latency = storage.transactionLatency { transactions.add(latency) }
                if let bytes = storage.bytes { diskBytes[[node.storeID.description]] = Double(bytes) }
            }
            connections.set(Double(connectionCount()))
            openStreams.set(Double(streams))
            openStores.set(Double(open.count))
            self.workers.set(Double(workers))
            self.observers.set(Double(observers))
            leasesHeld.set(Double(leases))
            fsyncDuration.load(Self.snapshot(of: fsync))
            postgresTransactionDuration.load(Self.snapshot(of: transactions))
            storeDiskBytes.replaceAll(diskBytes)
        }
    }

    /// The log's histogram in the registry's units (seconds).
    static func snapshot(of latency: SyncLatencyHistogram) -> HistogramSnapshot {
        HistogramSnapshot(upperBounds: SyncLatencyHistogram.upperBoundsSeconds, counts: latency.counts,
                          sum: Double(latency.sumNanoseconds) / 1e9)
    }
}

extension DaemonMetrics: NodeMetrics {
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
        // A cell: one atomic add, not the family's lock, which both loops would take for every subscriber.
        inventoryDeliveryCell.add(UInt64(count))
    }

    public func operationFinished(operation: String, seconds: Double) {
        operationDuration.observe(seconds, [operation])
    }

    public func leaseOperation(_ operation: String, outcome: String) {
        // Short names compare as two machine words: cheaper than hashing both into the family's table.
        for hot in hotLeaseOutcomes where hot.operation == operation && hot.outcome == outcome {
            return hot.cell.increment()
        }
        leaseOperations.increment([operation, outcome])
    }

    public func workerPresence(_ change: WorkerPresenceChange) {
        workerPresenceChanges.increment([change.rawValue])
    }

    public func resourceExhausted(_ resource: ResourceShortage, during: String) {
        resourceExhaustion.increment([resource.rawValue, during])
    }

    public func storeOpenFailed(cause: String) {
        storeOpenFailures.increment([cause])
    }
}
