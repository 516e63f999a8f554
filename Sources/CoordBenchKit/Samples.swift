/// Latency samples of one workload, and the percentiles a report prints.
public struct Samples: Sendable {
    /// Every sample in nanoseconds, in the order recorded.
    public private(set) var nanoseconds: [UInt64] = []

    /// No samples.
    public init() {}

    /// Records one latency; a negative duration (a clock read on another core) counts as zero.
    public mutating func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else {
            nanoseconds.append(0)
            return
        }
        nanoseconds.append(UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000))
    }

    /// Records one latency in nanoseconds.
    public mutating func record(nanoseconds value: UInt64) { nanoseconds.append(value) }

    /// Adds `other`'s samples.
    public mutating func merge(_ other: Samples) { nanoseconds += other.nanoseconds }

    /// The number of samples.
    public var count: Int { nanoseconds.count }

    /// The value at quantile `q` (0…1) in milliseconds, by nearest rank: the smallest sample with at
    /// least `q` of all samples at or below it. 0 without samples.
    public func percentileMs(_ q: Double) -> Double {
        Self.percentileMs(q, sorted: nanoseconds.sorted())
    }

    /// p50, p99 and max in milliseconds, sorting once.
    public var summaryMs: (p50: Double, p99: Double, max: Double) {
        let sorted = nanoseconds.sorted()
        return (Self.percentileMs(0.50, sorted: sorted), Self.percentileMs(0.99, sorted: sorted), Self.percentileMs(1.0, sorted: sorted))
    }

    private static func percentileMs(_ q: Double, sorted: [UInt64]) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))
        return Double(sorted[rank]) / 1_000_000
    }
}

extension Duration {
    /// The duration in seconds.
    public var seconds: Double {
        let (s, a) = components
        return Double(s) + Double(a) / 1e18
    }
}
