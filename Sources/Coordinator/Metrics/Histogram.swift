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

/// A distribution in fixed buckets (latencies), written as `_bucket{le=…}`, `_sum` and `_count`, with
/// optional labels (one distribution per label values).
public final class Histogram: MetricFamily {
    public let name: String
    /// The `# HELP` text.
    public let help: String
    /// The label names, in order; empty for one unlabeled distribution.
    public let labelNames: [String]
    private let upperBounds: [Double]
    private let state: Mutex<[[String]: HistogramSnapshot]>

    init(name: String, help: String, labelNames: [String], upperBounds: [Double]) {
        for label in labelNames {
            precondition(PrometheusText.isValidLabelName(label) && label != "le", "invalid histogram label name \(label.debugDescription)")
        }
        self.name = name
        self.help = help
        self.labelNames = labelNames
        self.upperBounds = upperBounds
        // An unlabeled histogram is always shown, empty until its first observation.
        state = Mutex(labelNames.isEmpty ? [[]: HistogramSnapshot(upperBounds: upperBounds)] : [:])
    }

    /// Records one observation in the distribution of `labelValues` (one per label name, in order).
    public func observe(_ value: Double, _ labelValues: [String] = []) {
        precondition(labelValues.count == labelNames.count, "\(name) has labels \(labelNames), got \(labelValues.count) values")
        let bounds = upperBounds
        state.withLock { $0[labelValues, default: HistogramSnapshot(upperBounds: bounds)].observe(value) }
    }

    /// Replaces the state of an unlabeled histogram with one kept elsewhere (a histogram another
    /// component records, read at scrape time). Its bounds must be this histogram's.
    public func load(_ snapshot: HistogramSnapshot) {
        precondition(labelNames.isEmpty, "\(name): only an unlabeled histogram is loaded")
        precondition(snapshot.upperBounds == upperBounds, "\(name): loaded histogram has other bounds")
        state.withLock { $0[[]] = snapshot }
    }

    /// The current state of the distribution of `labelValues` (empty if nothing was observed there).
    public func snapshot(_ labelValues: [String] = []) -> HistogramSnapshot {
        state.withLock { $0[labelValues] } ?? HistogramSnapshot(upperBounds: upperBounds)
    }

    /// The current state of an unlabeled histogram.
    public var snapshot: HistogramSnapshot { snapshot([]) }

    public func render(into out: inout String) {
        let distributions = state.withLock { $0 }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        out += PrometheusText.header(name: name, help: help, type: "histogram")
        for (labelValues, snapshot) in distributions {
            let labels = PrometheusText.labels(labelNames, labelValues)
            var cumulative: UInt64 = 0
            for (bound, count) in zip(snapshot.upperBounds, snapshot.counts) {
                cumulative += count
                out += "\(name)_bucket" + PrometheusText.labels(labelNames + ["le"], labelValues + [PrometheusText.format(bound)])
                    + " \(cumulative)\n"
            }
            cumulative += snapshot.counts[snapshot.upperBounds.count]
            out += "\(name)_bucket" + PrometheusText.labels(labelNames + ["le"], labelValues + ["+Inf"]) + " \(cumulative)\n"
            out += "\(name)_sum\(labels) \(PrometheusText.format(snapshot.sum))\n"
            out += "\(name)_count\(labels) \(cumulative)\n"
        }
    }
}
