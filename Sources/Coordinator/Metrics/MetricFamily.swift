import Synchronization

/// One named metric with its samples, able to write itself in the Prometheus text format.
public protocol MetricFamily: AnyObject, Sendable {
    /// The metric name, e.g. `coordd_streams_total`.
    var name: String { get }
    /// Appends the family's `# HELP`, `# TYPE` and sample lines.
    func render(into out: inout String)
}

/// Samples keyed by label values, shared by counters and gauges.
final class LabeledValues: Sendable {
    let labelNames: [String]
    private let values = Mutex<[[String]: Double]>([:])

    init(labelNames: [String]) {
        for label in labelNames {
            precondition(PrometheusText.isValidLabelName(label), "invalid Prometheus label name \(label.debugDescription)")
        }
        self.labelNames = labelNames
    }

    func check(_ labelValues: [String], of name: String) {
        precondition(labelValues.count == labelNames.count,
                     "\(name) has labels \(labelNames), got \(labelValues.count) values")
    }

    func update(_ labelValues: [String], _ change: (inout Double) -> Void) {
        values.withLock { change(&$0[labelValues, default: 0]) }
    }

    func replaceAll(_ samples: [[String]: Double]) {
        values.withLock { $0 = samples }
    }

    func value(_ labelValues: [String]) -> Double {
        values.withLock { $0[labelValues] ?? 0 }
    }

    /// Samples sorted by label values so the exposition is the same on every scrape, each with what
    /// `adding` holds for it added (kept elsewhere: a counter's cells). A family without labels always
    /// shows its one sample, 0 until it changes.
    func render(name: String, adding: [[String]: Double] = [:], into out: inout String) {
        var samples = values.withLock { $0 }
        for (labelValues, value) in adding { samples[labelValues, default: 0] += value }
        if labelNames.isEmpty, samples.isEmpty { samples[[]] = 0 }
        for (labelValues, value) in samples.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            out += name + PrometheusText.labels(labelNames, labelValues) + " " + PrometheusText.format(value) + "\n"
        }
    }
}

/// A value that only goes up (requests, bytes), with optional labels.
public final class CounterFamily: MetricFamily {
    public let name: String
    /// The `# HELP` text.
    public let help: String
    private let samples: LabeledValues
    /// Samples counted through cells, which their owners increment with no lookup.
    private let cells = Mutex<[[String]: CounterCell]>([:])

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        samples = LabeledValues(labelNames: labelNames)
    }

    /// The cell of the sample with `labelValues`, for a caller that counts it often: incrementing a cell
    /// takes no lock and hashes no label values. Counts through the cell and through ``increment(_:by:)``
    /// add up in the one sample.
    public func cell(_ labelValues: [String]) -> CounterCell {
        samples.check(labelValues, of: name)
        return cells.withLock { cells in
            if let cell = cells[labelValues] { return cell }
            let cell = CounterCell()
            cells[labelValues] = cell
            return cell
        }
    }

    /// Adds `amount` (≥ 0) to the sample with `labelValues` (one per label name, in order).
    public func increment(_ labelValues: [String] = [], by amount: Double = 1) {
        samples.check(labelValues, of: name)
        precondition(amount >= 0, "counter \(name) cannot go down (increment by \(amount))")
        samples.update(labelValues) { $0 += amount }
    }

    /// Sets the sample to a total kept elsewhere that only grows (the CPU time the kernel counts),
    /// read at scrape time.
    public func setTotal(_ total: Double, _ labelValues: [String] = []) {
        samples.check(labelValues, of: name)
        samples.update(labelValues) { $0 = total }
    }

    /// The sample's current value (0 if it was never incremented).
    public func value(_ labelValues: [String] = []) -> Double {
        samples.value(labelValues) + (cells.withLock { $0[labelValues] }?.value ?? 0)
    }

    public func render(into out: inout String) {
        out += PrometheusText.header(name: name, help: help, type: "counter")
        // A cell counted nothing yet shows no sample, as an unincremented label set shows none.
        let counted = cells.withLock { $0 }.compactMapValues { $0.value > 0 ? $0.value : nil }
        samples.render(name: name, adding: counted, into: &out)
    }
}

/// One sample of a ``CounterFamily``, found once and then counted with one atomic add.
public final class CounterCell: Sendable {
    private let count = Atomic<UInt64>(0)

    init() {}

    /// Adds one.
    public func increment() { add(1) }

    /// Adds `amount`.
    public func add(_ amount: UInt64) { count.add(amount, ordering: .relaxed) }

    var value: Double { Double(count.load(ordering: .relaxed)) }
}

/// A value that goes up and down (open connections, workers), with optional labels.
public final class GaugeFamily: MetricFamily {
    public let name: String
    /// The `# HELP` text.
    public let help: String
    private let samples: LabeledValues

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        samples = LabeledValues(labelNames: labelNames)
    }

    /// Sets the sample with `labelValues`.
    public func set(_ value: Double, _ labelValues: [String] = []) {
        samples.check(labelValues, of: name)
        samples.update(labelValues) { $0 = value }
    }

    /// Adds `delta` (which may be negative) to the sample with `labelValues`.
    public func add(_ delta: Double, _ labelValues: [String] = []) {
        samples.check(labelValues, of: name)
        samples.update(labelValues) { $0 += delta }
    }

    /// Replaces every sample at once (label sets missing from `samples` disappear).
    public func replaceAll(_ samples: [[String]: Double]) {
        for labelValues in samples.keys { self.samples.check(labelValues, of: name) }
        self.samples.replaceAll(samples)
    }

    /// The sample's current value (0 if it was never set).
    public func value(_ labelValues: [String] = []) -> Double { samples.value(labelValues) }

    public func render(into out: inout String) {
        out += PrometheusText.header(name: name, help: help, type: "gauge")
        samples.render(name: name, into: &out)
    }
}
