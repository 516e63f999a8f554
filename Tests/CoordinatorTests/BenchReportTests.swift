import CoordBenchKit
import Foundation
import Testing

/// coordbench's percentiles, comparison tables and marker scanning.
@Suite struct BenchReportTests {
    private func samples(_ milliseconds: [Int]) -> Samples {
        var samples = Samples()
        for value in milliseconds { samples.record(.milliseconds(value)) }
        return samples
    }

    @Test func percentilesAreNearestRank() {
        let hundred = samples(Array((1...100).reversed()))
        #expect(hundred.percentileMs(0.50) == 50)
        #expect(hundred.percentileMs(0.99) == 99)
        #expect(hundred.percentileMs(1.0) == 100)
        #expect(hundred.percentileMs(0.001) == 1)
        let summary = hundred.summaryMs
        #expect(summary.p50 == 50 && summary.p99 == 99 && summary.max == 100)
    }

    @Test func aSmallSampleHasItsMaximumAsP99() {
        let ten = samples([5, 1, 9, 3, 7, 2, 8, 4, 6, 10])
        #expect(ten.percentileMs(0.99) == 10)
        #expect(ten.percentileMs(0.5) == 5)
    }

    @Test func noSamplesGiveZero() {
        #expect(Samples().percentileMs(0.99) == 0)
        #expect(Samples().summaryMs.max == 0)
    }

    @Test func aNegativeDurationCountsAsZero() {
        var samples = Samples()
        samples.record(.milliseconds(-3))
        #expect(samples.nanoseconds == [0])
    }

    @Test(arguments: [
        (200.0, 100.0, "2.00×"),
        (1.0, 4.0, "0.250×"),
        (12_346.0, 10.0, "1235×"),
        (5.0, 0.0, "–"),
    ])
    func ratiosAreCoorddOverPeer(_ coordd: Double, _ peer: Double, _ text: String) {
        #expect(Report.ratio(coordd, peer) == text)
    }

    @Test func aMissingValueHasNoRatio() {
        #expect(Report.ratio(nil, 3) == "–")
        #expect(Report.ratio(3, nil) == "–")
    }

    @Test(arguments: [(123_456.7, "123457"), (12.345, "12.3"), (1.2345, "1.23"), (0.012345, "0.0123"), (0, "0")])
    func numbersKeepThreeSignificantDigits(_ value: Double, _ text: String) {
        #expect(Report.format(value) == text)
    }

    private func result(_ system: String, operations: Int, p99Ms: Int, metrics: [Metric] = []) -> WorkloadResult {
        WorkloadResult(workload: "w", system: system, operations: operations, elapsed: .seconds(1),
                       latencies: samples([p99Ms]), metrics: metrics)
    }

    @Test func theComparisonHasAColumnPerSystemThenRatios() {
        let table = Report.comparisonTable([
            result("redis", operations: 50, p99Ms: 4),
            result("coordd", operations: 100, p99Ms: 2, metrics: [Metric("MB/s", 9)]),
            result("etcd", operations: 10, p99Ms: 20),
        ])
        let lines = table.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(lines[0] == ["metric", "coordd", "etcd", "redis", "coordd÷etcd", "coordd÷redis"])
        #expect(lines[1] == ["ops/s", "100", "10.0", "50.0", "10.0×", "2.00×"])
        #expect(lines[3] == ["p99", "ms", "2.00", "20.0", "4.00", "0.100×", "0.500×"])
        // A metric only coordd reports has no peer value and no ratio.
        #expect(lines.last == ["MB/s", "9.00", "–", "–", "–", "–"])
    }

    @Test func eachCoorddSystemIsComparedWithEverySystemRightOfIt() {
        let table = Report.comparisonTable([
            result("etcd", operations: 10, p99Ms: 20),
            result("coordd-postgres", operations: 40, p99Ms: 5),
            result("coordd", operations: 80, p99Ms: 2),
        ])
        let lines = table.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(lines[0] == ["metric", "coordd", "coordd-postgres", "etcd",
                             "coordd÷coordd-postgres", "coordd÷etcd", "coordd-postgres÷etcd"])
        #expect(lines[1] == ["ops/s", "80.0", "40.0", "10.0", "2.00×", "8.00×", "4.00×"])
    }

    @Test func markdownHasTheSameRowsAsTheTextTable() {
        var withNote = result("etcd", operations: 10, p99Ms: 20)
        withNote.notes = [("op", "one put")]
        let text = Report.markdown([result("coordd", operations: 100, p99Ms: 2), withNote])
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "#### w")
        #expect(lines[2] == "| metric | coordd | etcd | coordd÷etcd |")
        #expect(lines[3] == "|---|---:|---:|---:|")
        #expect(lines[4] == "| ops/s | 100 | 10.0 | 10.0× |")
        #expect(lines.last == "- etcd: op=one put")
    }

    @Test func aSavedRunReadsBackToTheSameTables() throws {
        var coordd = result("coordd", operations: 100, p99Ms: 2, metrics: [Metric("MB/s", 9)])
        coordd.serverCPUMicrosPerOp = 12.5
        coordd.notes = [("op", "one renewal")]
        let results = [coordd, result("redis", operations: 40, p99Ms: 3)]
        let restored = try Report.results(fromJSON: Data(Report.json(results).utf8))
        #expect(Report.comparison(restored) == Report.comparison(results))
    }

    @Test func withoutCoorddThereAreNoRatios() {
        let table = Report.comparisonTable([result("etcd", operations: 10, p99Ms: 1)])
        #expect(table.split(separator: "\n")[0].split(separator: " ") == ["metric", "etcd"])
    }

    @Test func resultsAreGroupedByWorkloadInRunOrder() {
        var a = result("coordd", operations: 1, p99Ms: 1)
        a.workload = "second"
        var b = result("coordd", operations: 1, p99Ms: 1)
        b.workload = "first"
        let text = Report.comparison([b, a, result("etcd", operations: 1, p99Ms: 1)])
        let titles = text.split(separator: "\n").filter { $0.hasPrefix("## ") }
        #expect(titles == ["## first", "## second", "## w"])
    }

    @Test func theLastRevisionOfAnInventoryIsFound() {
        let snapshot = #"{"$type":"streamkit://api/v1/worker_inventory","content":{"workers":[{"worker_id":"a","metadata":{"revision":"9"},"last_seen_at":1}],"timestamp":5,"revision":1234}}"#
        #expect(MarkerScan.lastRevision(Array(snapshot.utf8)) == 1234)
        let delta = #"{"$type":"coordd://api/v1/worker_inventory_delta","content":{"revision":77,"joined":[],"left":["b"]}}"#
        #expect(MarkerScan.lastRevision(Array(delta.utf8)) == 77)
        #expect(MarkerScan.lastRevision(Array(#"{"workers":[]}"#.utf8)) == nil)
    }

    @Test func theHeaderRevisionOfAnEtcdWatchResponseIsFound() {
        let message = #"{"result":{"header":{"cluster_id":"1","revision":"42","raft_term":"2"},"events":[{"kv":{"key":"YQ==","mod_revision":"42"}}]}}"#
        #expect(MarkerScan.firstQuotedRevision(Array(message.utf8)) == 42)
        #expect(MarkerScan.firstQuotedRevision(Array(#"{"result":{}}"#.utf8)) == nil)
    }

    @Test func theSequenceBeforeTheSeparatorIsFound() {
        #expect(MarkerScan.leadingNumber(Array("17|+{}".utf8)) == 17)
        #expect(MarkerScan.leadingNumber(Array("|x".utf8)) == nil)
        #expect(MarkerScan.leadingNumber(Array("12x|".utf8)) == nil)
        #expect(MarkerScan.leadingNumber(Array("99999999999999999999|".utf8)) == nil)
    }
}
