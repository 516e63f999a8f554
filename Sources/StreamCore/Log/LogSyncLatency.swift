#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// How long durable flushes took, in fixed buckets: a file store's `fdatasync` calls, a PostgreSQL store's
/// write transactions (for the daemon's latency histograms).
public struct SyncLatencyHistogram: Sendable, Hashable {
    /// Bucket upper bounds in seconds, ascending. Fixed so histograms of several logs add up; they
    /// span a fast NVMe flush (~100 µs) to a stalled disk (10 s).
    public static let upperBoundsSeconds: [Double] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    /// Calls per bucket (not cumulative): `counts[i]` took at most `upperBoundsSeconds[i]` and more than
    /// the bound before; the last element counts calls slower than every bound.
    public var counts: [UInt64]
    /// Total time spent in the calls, in nanoseconds.
    public var sumNanoseconds: UInt64

    /// An empty histogram.
    public init() {
        counts = Array(repeating: 0, count: Self.upperBoundsSeconds.count + 1)
        sumNanoseconds = 0
    }

    /// Number of calls recorded.
    public var count: UInt64 { counts.reduce(0, +) }

    /// Records one call of `nanoseconds`.
    public mutating func record(nanoseconds: UInt64) {
        let seconds = Double(nanoseconds) / 1e9
        let bucket = Self.upperBoundsSeconds.firstIndex { seconds <= $0 } ?? Self.upperBoundsSeconds.count
        counts[bucket] &+= 1
        sumNanoseconds &+= nanoseconds
    }

    /// Adds another histogram's calls to this one.
    public mutating func add(_ other: SyncLatencyHistogram) {
        for i in counts.indices { counts[i] &+= other.counts[i] }
        sumNanoseconds &+= other.sumNanoseconds
    }
}

/// A live latency histogram of one durable writer: a log's flushes, recorded by its writer thread, or a
/// PostgreSQL store's transactions; read by metrics. A lock is cheap here: it is taken once per flush,
/// which itself takes far longer.
public final class LogSyncLatency: Sendable {
    private let histogram = Mutex(SyncLatencyHistogram())

    /// An empty histogram.
    public init() {}

    /// Runs `sync` and records how long it took, whether it failed or not.
    func measure(_ sync: () throws(IOError) -> Void) throws(IOError) {
        let start = Self.monotonicNanoseconds()
        defer { record(since: start) }
        try sync()
    }

    /// Runs `work` (a transaction that ends with its commit) and records how long it took.
    public func measure<T>(_ work: () async -> T) async -> T {
        let start = Self.monotonicNanoseconds()
        defer { record(since: start) }
        return await work()
    }

    /// The calls recorded so far.
    public var snapshot: SyncLatencyHistogram { histogram.withLock { $0 } }

    private func record(since start: UInt64) {
        let elapsed = Self.monotonicNanoseconds() &- start
        histogram.withLock { $0.record(nanoseconds: elapsed) }
    }

    private static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
