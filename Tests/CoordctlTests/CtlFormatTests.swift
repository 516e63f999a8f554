import StreamCore
import Testing

@testable import coordctl

struct CtlFormatTests {
    @Test func tablesPadEveryColumnButTheLast() {
        let text = CtlFormat.table(["KEY", "HOLDER", "FENCE"], [["partition-1", "me", "3"], ["p2", "someone-else", "12"]])
        #expect(text == """
            KEY          HOLDER        FENCE
            partition-1  me            3
            p2           someone-else  12

            """)
    }

    @Test(arguments: [
        ([UInt8]("hello world".utf8), "hello world"), ([UInt8]("tab\there".utf8), "tab\there"), ([], ""),
        ([0xFF, 0x00], "base64:/wA="), ([UInt8]("two\nlines".utf8), "base64:dHdvCmxpbmVz"), ([UInt8]("ünï".utf8), "ünï"),
    ])
    func payloadsAreTextWhenPrintableAndBase64Otherwise(_ bytes: [UInt8], _ shown: String) {
        #expect(CtlFormat.payload(bytes) == shown)
    }

    @Test(arguments: [(Int64(0), "1970-01-01T00:00:00.000Z"), (1_767_225_600_123, "2026-01-01T00:00:00.123Z")])
    func timesAreUTCWithMilliseconds(_ ms: Int64, _ text: String) {
        #expect(CtlFormat.time(ms) == text)
    }

    @Test func workersAreATableSortedAsTheServerSendsThem() {
        let id = WireUUID("00000000-0000-4000-8000-00000000000a")!
        let inventory = WorkerInventory(
            workers: [WorkerInfo(workerID: id, metadata: ["zone": "a", "role": "indexer"], lastSeenAt: 1_767_225_600_000)],
            timestamp: 1_767_225_601_000, revision: 7)
        #expect(CtlFormat.workers(inventory) == """
            WORKER                                LAST SEEN                 METADATA
            00000000-0000-4000-8000-00000000000a  2026-01-01T00:00:00.000Z  role=indexer,zone=a

            """)
        #expect(CtlFormat.inventoryHeader(inventory) == "revision 7 at 2026-01-01T00:00:01.000Z: 1 worker\n")
        #expect(CtlFormat.workers(WorkerInventory(workers: [], timestamp: 0)) == "no workers registered\n")
    }

    @Test func leaseResultsReadAsSentences() {
        let granted = LeaseResult(ok: true, fence: 3, holder: "me", expiresAt: 1_767_225_630_000, ttlMs: 30_000)
        #expect(CtlFormat.lease("acquired", key: "p1", holder: "me", granted)
            == "acquired \"p1\" for holder me, fence 3, expires 2026-01-01T00:00:30.000Z (ttl 30s)\n")
    }

    @Test func leaseListsShowPresenceBoundLeasesByWorker() {
        let worker = WireUUID("00000000-0000-4000-8000-00000000000b")!
        let text = CtlFormat.leases([
            LeaseInfo(key: "a", holder: "h1", fence: 1, expiresAt: 1_767_225_600_000, ttlMs: 1_500),
            LeaseInfo(key: "b", holder: "h2", fence: 9, expiresAt: 0, ttlMs: 30_000, workerID: worker),
        ])
        #expect(text == """
            KEY  HOLDER  FENCE  EXPIRES                                           TTL
            a    h1      1      2026-01-01T00:00:00.000Z                          1500ms
            b    h2      9      with worker 00000000-0000-4000-8000-00000000000b  30s

            """)
        #expect(CtlFormat.leases([]) == "no leases\n")
    }

    @Test func produceSummariesNameTheSequencesWritten() {
        let status = SegmentStatus(space: "s", segment: "g", firstSequence: 1, firstTimestamp: 1, lastSequence: 7, lastTimestamp: 2)
        #expect(CtlFormat.produced(space: "s", segment: "g", count: 3, last: status) == "produced 3 records to s/g: sequences 5-7\n")
        #expect(CtlFormat.produced(space: "s", segment: "g", count: 1, last: status) == "produced 1 record to s/g: sequence 7\n")
        #expect(CtlFormat.produced(space: "s", segment: "g", count: 0, last: nil) == "nothing produced (standard input had no lines)\n")
    }

    @Test func jsonLinesAreTheWireEncodingOnOneLine() {
        #expect(CtlFormat.jsonLine(["space": "or\"ders"]) == "{\"space\":\"or\\\"ders\"}\n")
        #expect(CtlFormat.jsonLine(LeaseResult(ok: true, fence: 2)) == "{\"ok\":true,\"fence\":2}\n")
    }
}

struct CtlClusterFormatTests {
    @Test func logfmtFieldsUnquoteValuesAndKeepTheirOrder() {
        let fields = CtlFormat.logfmtFields(#"cluster node="a b" self=yes url=- empty="" esc="x\"y\\z""#)
        #expect(fields.map(\.key) == ["cluster", "node", "self", "url", "empty", "esc"])
        #expect(fields.map(\.value) == ["", "a b", "yes", "-", "", #"x"y\z"#])
    }

    @Test func theClusterIsATableOrJSONLines() {
        let nodes = [
            CtlFormat.logfmtFields("cluster node=n1 self=yes url=ws://h1:7070 stores=3 heartbeat_age_ms=120 view_age_ms=5"),
            CtlFormat.logfmtFields("cluster node=n2 self=no url=- stores=0 heartbeat_age_ms=900 view_age_ms=5"),
        ]
        #expect(CtlFormat.cluster(nodes, readiness: "ready") == """
            server: ready
            NODE  SELF  URL           STORES  HEARTBEAT AGE MS
            n1    yes   ws://h1:7070  3       120
            n2    no    -             0       900

            """)
        #expect(CtlFormat.clusterJSON(nodes).split(separator: "\n").first
                == #"{"node":"n1","self":"yes","url":"ws://h1:7070","stores":"3","heartbeat_age_ms":"120","view_age_ms":"5"}"#)
    }
}
