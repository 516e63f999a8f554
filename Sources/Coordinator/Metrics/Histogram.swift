import Synchronization

/// The state of a histogram: per-bucket counts and the sum of observations.
public struct HistogramSnapshot: Sendable, Hashable {
    /// Bucket upper bounds, ascending; the implicit last bucket is `+Inf`.
    public var upperBounds: [Double]
    /// Observations per bucket, not cumulative: one more element than `upperBounds` (the `+Inf` bucket).
    public var counts: [UInt64]
    /// Sum of every observed value.
    public var sum: Double

    /// An empty histogram over `upperBounds`.
    public init(upperBounds: [Double]) {
        self.init(upperBounds: upperBounds, counts: Array(repeating: 0, count: upperBounds.count + 1), sum: 0)
    }

    /// A histogram from its parts; `counts` has one element per bound plus one for `+Inf`.
    public init(upperBounds: [Double], counts: [UInt64], sum: Double) {
        precondition(!upperBounds.isEmpty && zip(upperBounds, upperBounds.dropFirst()).allSatisfy { $0 < $1 },
                     "histogram bounds must be non-empty and strictly ascending: \(upperBounds)")
        precondition(upperBounds.allSatisfy { $0.isFinite }, "histogram bounds must be finite (+Inf is implicit)")
        precondition(counts.count == upperBounds.count + 1, "a histogram needs \(upperBounds.count + 1) counts, got \(counts.count)")
        self.upperBounds = upperBounds
        self.counts = counts
        self.sum = sum
    }

    /// Number of observations.
    public var count: UInt64 { counts.reduce(0, +) }

    /// Adds one observation.
    public mutating func observe(_ value: Double) {
        let bucket = upperBounds.firstIndex { value <= $0 } ?? upperBounds.count
        counts[bucket] &+= 1
        sum += value
    }
}

/// A distribution in fixed buckets (latencies), written as `_bucket{le=…}`, `_sum` and `_count`.
public final class Histogram: MetricFamily {
    public let name: String
    /// The `# HELP` text.
    public let help: String
    private let state: Mutex<HistogramSnapshot>

    init(name: String, help: String, upperBounds: [Double]) {
        self.name = name
        self.help = help
        state = Mutex(HistogramSnapshot(upperBounds: upperBounds))
    }

    /// Records one observation.
    public func observe(_ value: Double) {
        state.withLock { $0.observe(value) }
    }

    /// Replaces the state with one kept elsewhere (a histogram another component records, read at
    /// scrape time). Its bounds must be this histogram's.
    public func load(_ snapshot: HistogramSnapshot) {
        state.withLock { current in
            precondition(snapshot.upperBounds == current.upperBounds, "\(name): loaded histogram has other bounds")
            current = snapshot
        }
    }

    /// The current state.
    public var snapshot: HistogramSnapshot { state.withLock { $0 } }

    public func render(into out: inout String) {
        let snapshot = self.snapshot
        out += PrometheusText.header(name: name, help: help, type: "histogram")
        var cumulative: UInt64 = 0
        for (bound, count) in zip(snapshot.upperBounds, snapshot.counts) {
            cumulative += count
            out += "\(name)_bucket{le=\"\(PrometheusText.format(bound))\"} \(cumulative)\n"
        }
        cumulative += snapshot.counts[snapshot.upperBounds.count]
        out += "\(name)_bucket{le=\"+Inf\"} \(cumulative)\n"
        out += "\(name)_sum \(PrometheusText.format(snapshot.sum))\n"
        out += "\(name)_count \(cumulative)\n"
    }
}
