/// A named number a workload reports beyond throughput and latency (MB/s, deliveries/s, RSS …).
public struct Metric: Sendable, Equatable {
    /// The row label, with its unit: `MB/s`, `RSS MB`.
    public var name: String
    /// The value.
    public var value: Double

    /// Creates a metric.
    public init(_ name: String, _ value: Double) {
        self.name = name
        self.value = value
    }
}

/// What one workload measured on one system.
public struct WorkloadResult: Sendable {
    /// The workload with its sizes, e.g. `lease-renew (50 clients)`; results with the same name are
    /// compared side by side.
    public var workload: String
    /// `coordd`, `etcd` or `redis`.
    public var system: String
    /// Operations completed in the measured interval.
    public var operations: Int
    /// Length of the measured interval.
    public var seconds: Double
    /// False when the workload recorded no latencies (a bulk read): the report then leaves them out.
    public var hasLatencies: Bool
    /// Latency percentiles in milliseconds (0 when the workload has no per-operation latency).
    public var p50Ms: Double
    /// See ``p50Ms``.
    public var p99Ms: Double
    /// See ``p50Ms``.
    public var maxMs: Double
    /// Server CPU time (user + system) per operation in microseconds, when the server's PID is known.
    public var serverCPUMicrosPerOp: Double?
    /// Further numbers, compared across systems like the ones above.
    public var metrics: [Metric]
    /// Text that is not compared (fdatasync counts, errors seen, what a number excludes).
    public var notes: [(String, String)]

    /// Operations per second.
    public var perSecond: Double { seconds > 0 ? Double(operations) / seconds : 0 }

    /// Creates a result from a run's latency samples.
    public init(workload: String, system: String, operations: Int, elapsed: Duration, latencies: Samples,
                serverCPUMicrosPerOp: Double? = nil, metrics: [Metric] = [], notes: [(String, String)] = []) {
        self.workload = workload
        self.system = system
        self.operations = operations
        seconds = elapsed.seconds
        hasLatencies = latencies.count > 0
        (p50Ms, p99Ms, maxMs) = latencies.summaryMs
        self.serverCPUMicrosPerOp = serverCPUMicrosPerOp
        self.metrics = metrics
        self.notes = notes
    }

    /// The numbers a comparison table shows, in row order: throughput, latency, server CPU, then
    /// ``metrics``. A result without a measured interval (the rounds of a fail-over, a run that failed)
    /// has no throughput row.
    public var comparedValues: [Metric] {
        var values = seconds > 0 ? [Metric("ops/s", perSecond)] : []
        if hasLatencies { values += [Metric("p50 ms", p50Ms), Metric("p99 ms", p99Ms), Metric("max ms", maxMs)] }
        if let serverCPUMicrosPerOp { values.append(Metric("server CPU µs/op", serverCPUMicrosPerOp)) }
        return values + metrics
    }
}
