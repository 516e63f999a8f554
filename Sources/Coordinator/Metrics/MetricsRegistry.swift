import Synchronization

/// The daemon's metrics: families registered once at start, rendered in the Prometheus text
/// exposition format 0.0.4 on every scrape. Handed to whoever records, never global.
public final class MetricsRegistry: Sendable {
    private let families = Mutex<[String: any MetricFamily]>([:])
    private let collectors = Mutex<[@Sendable () -> Void]>([])

    /// An empty registry.
    public init() {}

    /// Registers a counter. Registering a name twice is a programmer error.
    public func counter(_ name: String, help: String, labelNames: [String] = []) -> CounterFamily {
        register(CounterFamily(name: name, help: help, labelNames: labelNames))
    }

    /// Registers a gauge.
    public func gauge(_ name: String, help: String, labelNames: [String] = []) -> GaugeFamily {
        register(GaugeFamily(name: name, help: help, labelNames: labelNames))
    }

    /// Registers a histogram with fixed bucket upper bounds (ascending; `+Inf` is implicit), with one
    /// distribution per values of `labelNames` when there are any.
    public func histogram(_ name: String, help: String, labelNames: [String] = [], upperBounds: [Double]) -> Histogram {
        register(Histogram(name: name, help: help, labelNames: labelNames, upperBounds: upperBounds))
    }

    /// Adds a step run before each rendering, which refreshes gauges and loaded histograms from the
    /// state they describe (open connections, workers, the logs' fsync counts), so nothing has to be
    /// kept up to date between scrapes.
    public func addCollector(_ collect: @escaping @Sendable () -> Void) {
        collectors.withLock { $0.append(collect) }
    }

    /// The exposition: collectors run first, then every family in name order.
    public func exposition() -> String {
        for collect in collectors.withLock({ $0 }) { collect() }
        let sorted = families.withLock { $0.values.sorted { $0.name < $1.name } }
        var out = ""
        for family in sorted { family.render(into: &out) }
        return out
    }

    private func register<F: MetricFamily>(_ family: F) -> F {
        precondition(PrometheusText.isValidMetricName(family.name), "invalid Prometheus metric name \(family.name.debugDescription)")
        families.withLock { families in
            precondition(families[family.name] == nil, "metric \(family.name) registered twice")
            families[family.name] = family
        }
        return family
    }
}
