import StreamCore
import CoordTestKit
import Testing

struct SyncLatencyHistogramTests {
    @Test func callsLandInTheFirstBucketTheyFitAndTheSlowestOverflow() {
        var histogram = SyncLatencyHistogram()
        histogram.record(nanoseconds: 50_000)  // 50 µs ≤ 100 µs
        histogram.record(nanoseconds: 100_000)  // exactly 100 µs: bounds are inclusive
        histogram.record(nanoseconds: 3_000_000)  // 3 ms ≤ 5 ms
        histogram.record(nanoseconds: 20_000_000_000)  // 20 s: past every bound
        let bounds = SyncLatencyHistogram.upperBoundsSeconds
        #expect(histogram.counts[0] == 2)
        #expect(histogram.counts[bounds.firstIndex(of: 0.005)!] == 1)
        #expect(histogram.counts[bounds.count] == 1)
        #expect(histogram.count == 4)
        #expect(histogram.sumNanoseconds == 20_003_150_000)
    }

    @Test func histogramsOfSeveralLogsAddUp() {
        var a = SyncLatencyHistogram()
        var b = SyncLatencyHistogram()
        a.record(nanoseconds: 1_000)
        b.record(nanoseconds: 2_000_000)
        a.add(b)
        #expect(a.count == 2)
        #expect(a.sumNanoseconds == 2_001_000)
    }

    @Test func aFileStoreRecordsOneSyncPerCommittedBatch() async throws {
        let directory = try TemporaryDirectory(prefix: "coordd-sync")
        defer { directory.remove() }
        let store = try FileStore(directory: directory.path + "/store")
        _ = try await store.append(AppendRequest(space: "s", segment: "g", records: [Record(sequence: 1, payload: [1])]))
        let metrics = store.logMetrics
        #expect(metrics.syncLatency.count >= 1)
        #expect(metrics.syncLatency.count <= UInt64(metrics.syncs))
        await store.close()
    }
}
