import Coordinator
import Synchronization
import Testing

struct MetricsExpositionTests {
    @Test func aSmallRegistryRendersExactPrometheusText() {
        let registry = MetricsRegistry()
        let requests = registry.counter(
            "test_requests_total", help: "Requests by method.\nSecond line with a \\ backslash.", labelNames: ["method"])
        let temperature = registry.gauge("test_temperature", help: "Temperature.")
        let latency = registry.histogram("test_latency_seconds", help: "Request latency.", upperBounds: [0.1, 1])
        _ = registry.counter("test_idle_total", help: "Never incremented.")
        requests.increment(["GET"])
        requests.increment(["GET"])
        requests.increment(["a\"b\\c\nd"])
        temperature.set(21.5)
        for value in [0.25, 0.5, 3] { latency.observe(value) }

        let expected = """
            # HELP test_idle_total Never incremented.
            # TYPE test_idle_total counter
            test_idle_total 0
            # HELP test_latency_seconds Request latency.
            # TYPE test_latency_seconds histogram
            test_latency_seconds_bucket{le="0.1"} 0
            test_latency_seconds_bucket{le="1"} 2
            test_latency_seconds_bucket{le="+Inf"} 3
            test_latency_seconds_sum 3.75
            test_latency_seconds_count 3
            # HELP test_requests_total Requests by method.\\nSecond line with a \\\\ backslash.
            # TYPE test_requests_total counter
            test_requests_total{method="GET"} 2
            test_requests_total{method="a\\"b\\\\c\\nd"} 1
            # HELP test_temperature Temperature.
            # TYPE test_temperature gauge
            test_temperature 21.5

            """
        #expect(registry.exposition() == expected)
    }

    /// A counter's cell counts into the same sample as the family's increments, and a cell that counted
    /// nothing shows no sample, as an unincremented label set shows none.
    @Test func countsThroughACellAndThroughTheFamilyAddUpInOneSample() {
        let registry = MetricsRegistry()
        let operations = registry.counter("test_operations_total", help: "Operations.", labelNames: ["op", "outcome"])
        let renewed = operations.cell(["renew", "renewed"])
        _ = operations.cell(["renew", "refused"])
        #expect(operations.cell(["renew", "renewed"]) === renewed, "one cell per label set")
        for _ in 0..<3 { renewed.increment() }
        operations.increment(["renew", "renewed"])
        operations.increment(["acquire", "granted"])
        #expect(operations.value(["renew", "renewed"]) == 4)
        #expect(operations.value(["renew", "refused"]) == 0)
        let expected = """
            # HELP test_operations_total Operations.
            # TYPE test_operations_total counter
            test_operations_total{op="acquire",outcome="granted"} 1
            test_operations_total{op="renew",outcome="renewed"} 4

            """
        #expect(registry.exposition() == expected)
    }

    @Test func labelsAreWrittenInDeclaredOrderAndSamplesSortedByValue() {
        let registry = MetricsRegistry()
        let errors = registry.counter("e_total", help: "E.", labelNames: ["code", "error"])
        errors.increment(["transient", "storage_error"], by: 2)
        errors.increment(["permanent", "sequence_gap"])
        #expect(registry.exposition().hasSuffix("""
            e_total{code="permanent",error="sequence_gap"} 1
            e_total{code="transient",error="storage_error"} 2

            """))
    }

    @Test func collectorsRefreshGaugesBeforeEachRendering() {
        let registry = MetricsRegistry()
        let gauge = registry.gauge("g", help: "G.")
        let source = TickSource()
        registry.addCollector { gauge.set(Double(source.next())) }
        #expect(registry.exposition().contains("\ng 1\n"))
        #expect(registry.exposition().contains("\ng 2\n"))
    }

    @Test func aLoadedHistogramReplacesItsState() {
        let registry = MetricsRegistry()
        let histogram = registry.histogram("h_seconds", help: "H.", upperBounds: [1, 2])
        histogram.observe(0.5)
        histogram.load(HistogramSnapshot(upperBounds: [1, 2], counts: [0, 4, 1], sum: 9))
        let text = registry.exposition()
        #expect(text.contains("h_seconds_bucket{le=\"1\"} 0\nh_seconds_bucket{le=\"2\"} 4\nh_seconds_bucket{le=\"+Inf\"} 5\n"))
        #expect(text.contains("h_seconds_sum 9\nh_seconds_count 5\n"))
    }

    @Test func gaugesGoDownAndCanBeReplacedWhole() {
        let registry = MetricsRegistry()
        let gauge = registry.gauge("per_store", help: "P.", labelNames: ["store"])
        gauge.add(3, ["a"])
        gauge.add(-1, ["a"])
        #expect(gauge.value(["a"]) == 2)
        gauge.replaceAll([["b"]: 7])
        let text = registry.exposition()
        #expect(!text.contains("store=\"a\""))
        #expect(text.contains("per_store{store=\"b\"} 7\n"))
    }

    @Test(arguments: [
        (1.0, "1"), (0.0001, "0.0001"), (2.5, "2.5"), (-3.0, "-3"), (Double.infinity, "+Inf"), (-Double.infinity, "-Inf"),
        (1e20, "1e+20"),
    ])
    func sampleValuesUseTheShortestExactText(_ value: Double, _ text: String) {
        let registry = MetricsRegistry()
        registry.gauge("v", help: "V.").set(value)
        #expect(registry.exposition().hasSuffix("\nv \(text)\n"))
    }
}

/// Counts up, for collectors in tests.
private final class TickSource: Sendable {
    private let value = Mutex(0)

    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}
