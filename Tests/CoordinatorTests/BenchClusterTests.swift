import CoordBenchKit
import Testing

/// coordbench's reading of a cluster: the `/readyz` detail lines and `--cluster-urls`.
@Suite struct BenchClusterTests {
    @Test func readyzClusterLinesNameEachDaemonAndWhichAnswered() {
        let body = """
            ready
            cluster node=node-a self=no url=ws://127.0.0.1:7071 stores=2 heartbeat_age_ms=840 view_age_ms=1210
            cluster node="node b" self=yes url=- stores=0 heartbeat_age_ms=10 view_age_ms=1210
            """
        let lines = ClusterStatusLine.parse(readyz: body)
        #expect(lines == [
            ClusterStatusLine(nodeID: "node-a", isSelf: false, url: "ws://127.0.0.1:7071", stores: 2),
            ClusterStatusLine(nodeID: "node b", isSelf: true, url: nil, stores: 0),
        ])
    }

    @Test func aPendingViewHasNoDaemons() {
        #expect(ClusterStatusLine.parse(readyz: "ready\ncluster view=pending\n").isEmpty)
        #expect(ClusterStatusLine.parse(readyz: "ready\n").isEmpty)
    }

    @Test func clusterURLsAreTrimmedAndChecked() throws {
        #expect(try ClusterURLs.parse("ws://127.0.0.1:7070, ws://127.0.0.1:7071/streamz,ws://localhost:7072/")
            == ["ws://127.0.0.1:7070", "ws://127.0.0.1:7071", "ws://localhost:7072"])
        #expect(throws: ClusterURLError(text: "http://127.0.0.1:7070", reason: "not ws://HOST:PORT")) {
            try ClusterURLs.parse("ws://127.0.0.1:7070,http://127.0.0.1:7070")
        }
        #expect(throws: ClusterURLError(text: "ws://127.0.0.1", reason: "not ws://HOST:PORT")) { try ClusterURLs.parse("ws://127.0.0.1") }
        #expect(throws: ClusterURLError(text: " , ", reason: "no URL given")) { try ClusterURLs.parse(" , ") }
    }

    @Test func hostPortOfAURL() {
        #expect(ClusterURLs.hostPort(of: "ws://127.0.0.1:7070") == "127.0.0.1:7070")
        #expect(ClusterURLs.hostPort(of: "ws://127.0.0.1:0") == nil)
        #expect(ClusterURLs.hostPort(of: "wss://127.0.0.1:7070") == nil)
    }
}

/// A result measured without an interval, such as fail-over rounds.
@Suite struct BenchRoundsTests {
    @Test func resultsWithoutAnIntervalShowNoRate() {
        var times = Samples()
        for seconds in [7, 9, 8] { times.record(.seconds(seconds)) }
        let rounds = WorkloadResult(workload: "fail-over", system: "coordd-cluster", operations: 3, elapsed: .zero, latencies: times)
        #expect(rounds.comparedValues.map(\.name) == ["p50 ms", "p99 ms", "max ms"])
        #expect(rounds.comparedValues.first { $0.name == "p50 ms" }?.value == 8_000)
        let timed = WorkloadResult(workload: "w", system: "coordd", operations: 10, elapsed: .seconds(2), latencies: times)
        #expect(timed.comparedValues.first?.name == "ops/s" && timed.comparedValues.first?.value == 5)
    }
}
