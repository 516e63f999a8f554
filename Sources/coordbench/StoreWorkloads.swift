import CoordBenchKit
import Foundation
import StreamCore

/// In-process workloads against the durable store itself (no network): what the log and index can do.
enum StoreWorkloads {
    /// `producers` tasks each append `perProducer` entries of `payloadBytes` to their own segment in
    /// chunks of `batch` records, fsync on. Reports entries/s and the latency of each chunk's append.
    static func produce(directory: String, producers: Int, perProducer: Int, batch: Int, payloadBytes: Int) async throws -> WorkloadResult {
        let store = try FileStore(directory: directory)
        let payload = [UInt8](repeating: 0x61, count: payloadBytes)
        let started = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: Samples.self) { group in
            for producer in 0..<producers {
                group.addTask {
                    var samples = Samples()
                    var next: UInt64 = 1
                    while next <= UInt64(perProducer) {
                        let count = min(batch, perProducer - Int(next) + 1)
                        let records = (0..<UInt64(count)).map { Record(sequence: next + $0, payload: payload) }
                        let t0 = ContinuousClock.now
                        _ = try await store.append(AppendRequest(space: "bench", segment: "p\(producer)", records: records))
                        samples.record(ContinuousClock.now - t0)
                        next += UInt64(count)
                    }
                    return samples
                }
            }
            var all = Samples()
            for try await samples in group { all.merge(samples) }
            return all
        }
        let elapsed = ContinuousClock.now - started
        let syncs = store.logMetrics.syncs
        await store.close()
        let entries = producers * perProducer
        return WorkloadResult(
            workload: "store-produce (\(producers)×\(batch)×\(payloadBytes) B)", system: "coordd", operations: entries,
            elapsed: elapsed, latencies: latencies,
            metrics: [Metric("MB/s", Double(entries * payloadBytes) / 1e6 / max(elapsed.seconds, 1e-9))],
            notes: [("fdatasyncs", "\(syncs)")])
    }

    /// Reopens the store in `directory` and reports how long rebuilding its index took, and the resident
    /// memory it added.
    static func reopen(directory: String) throws -> WorkloadResult {
        let before = ProcessStats.memory(getpid())?.rss ?? 0
        let started = ContinuousClock.now
        let store = try FileStore(directory: directory)
        let elapsed = ContinuousClock.now - started
        let added = (ProcessStats.memory(getpid())?.rss ?? 0) - before
        let entries = store.stats().entries
        var samples = Samples()
        samples.record(elapsed)
        return WorkloadResult(workload: "store-reopen", system: "coordd", operations: entries, elapsed: elapsed, latencies: samples,
                              metrics: [Metric("RSS +MB", Double(added) / 1e6),
                                        Metric("bytes/entry", entries > 0 ? Double(added) / Double(entries) : 0)])
    }
}
