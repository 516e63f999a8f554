import StreamCore

/// Which stores' opens fail fast after failing repeatedly (streamkit v1 §6.9): after
/// ``Limits/maxFailures`` failures in a row, streams for that store are refused at once for
/// ``Limits/failureWindowMs`` instead of each retrying an open that keeps failing (a damaged data
/// directory replayed again and again); then one open is tried again. Pure: times are parameters.
struct StoreOpenCircuit {
    /// The circuit's bounds: streamkit's values.
    struct Limits: Sendable {
        /// Failures in a row that open the circuit (`maxFailures`).
        var maxFailures = 3
        /// How long an open circuit refuses (`failureWindow`, 30 s).
        var failureWindowMs: Int64 = 30_000
        /// Stores with failures remembered, the least recently failed forgotten first
        /// (`defaultMaxFailureEntries`).
        var maxEntries = 1_024
    }

    private struct Record {
        var failures: Int
        var lastFailureMs: Int64
        /// Orders records by their last failure, for eviction.
        var sequence: UInt64
    }

    let limits: Limits
    private var records: [WireUUID: Record] = [:]
    private var nextSequence: UInt64 = 0

    init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Stores with failures remembered.
    var count: Int { records.count }

    /// The milliseconds until `store` may be opened again, or nil when an open may be tried now (the
    /// circuit is closed, or its window has passed and this is the half-open attempt).
    func refusal(for store: WireUUID, nowMs: Int64) -> Int64? {
        guard let record = records[store], record.failures >= limits.maxFailures else { return nil }
        let remaining = record.lastFailureMs + limits.failureWindowMs - nowMs
        return remaining > 0 ? remaining : nil
    }

    /// An open of `store` failed: one more in a row (a failed half-open attempt opens the window again).
    mutating func failed(_ store: WireUUID, nowMs: Int64) {
        nextSequence += 1
        let failures = (records[store]?.failures ?? 0) + 1
        records[store] = Record(failures: failures, lastFailureMs: nowMs, sequence: nextSequence)
        if records.count > limits.maxEntries, let oldest = records.min(by: { $0.value.sequence < $1.value.sequence }) {
            records[oldest.key] = nil
        }
    }

    /// An open of `store` succeeded: its failures are forgotten.
    mutating func succeeded(_ store: WireUUID) {
        records[store] = nil
    }
}
