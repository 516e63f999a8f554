/// Latency samples of one workload, and the summary a report prints.
struct Samples {
    private(set) var nanoseconds: [UInt64] = []

    mutating func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        nanoseconds.append(UInt64(max(seconds, 0)) * 1_000_000_000 + UInt64(max(attoseconds, 0) / 1_000_000_000))
    }

    mutating func merge(_ other: Samples) { nanoseconds += other.nanoseconds }

    var count: Int { nanoseconds.count }

    /// The value at quantile `q` (0…1) in milliseconds, nearest-rank.
    func percentileMs(_ q: Double) -> Double {
        guard !nanoseconds.isEmpty else { return 0 }
        let sorted = nanoseconds.sorted()
        let rank = min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))
        return Double(sorted[rank]) / 1_000_000
    }
}

/// One row of a report: a workload's throughput and latency on one system.
struct Result {
    var workload: String
    var system: String
    var operations: Int
    var seconds: Double
    var p50Ms: Double
    var p99Ms: Double
    var maxMs: Double
    var extra: [(String, String)] = []

    var perSecond: Double { seconds > 0 ? Double(operations) / seconds : 0 }

    init(workload: String, system: String, operations: Int, elapsed: Duration, latencies: Samples,
         extra: [(String, String)] = []) {
        self.workload = workload
        self.system = system
        self.operations = operations
        let (s, a) = elapsed.components
        seconds = Double(s) + Double(a) / 1e18
        p50Ms = latencies.percentileMs(0.50)
        p99Ms = latencies.percentileMs(0.99)
        maxMs = latencies.percentileMs(1.0)
        self.extra = extra
    }
}
