import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing
import Transport

/// coordd's `produce_batches` stream: records many to a message, committed exactly as the same records one
/// per message on a `Produce` stream would be; and the SDK's fall-back to `Produce` for a server without it.
/// (`ProduceTests` runs streamkit's produce behaviours both ways.)
@Suite(.serialized, .timeLimit(.minutes(1))) struct ProduceBatchesTests {
    static let configurations = [
        Configuration(store: .file, transport: .webSocket), Configuration(store: .memory, transport: .inProcess),
        Configuration(store: .file, transport: .webSocketTLS),
    ]

    /// Sends `messages` on a fresh `produce_batches` stream to s/g, half-closes, and reads its statuses; the
    /// error that ended it, if any, is thrown after the statuses before it were collected into `statuses`.
    private static func produce(_ messages: [[UInt8]], on harness: Harness, statuses: inout [SegmentStatus])
        async throws(StreamsError)
    {
        let stream = try await harness.client.open(ProduceBatches(Produce(space: "s", segment: "g")))
        defer { stream.close(error: nil) }
        for message in messages { try await stream.send(message) }
        stream.closeSend(error: nil)
        while let status = try await stream.receive(SegmentStatus.self) { statuses.append(status) }
    }

    @Test(arguments: configurations)
    func theRecordsOfAllBatchesAreChunkedAsOneProducesRecordsAre(_ configuration: Configuration) async throws {
        var limits = StoreLimits()
        limits.chunkMaxRecords = 4
        let harness = try await Harness(configuration, limits: limits)
        let batches = [makeRecords(3), [], makeRecords(3, from: 4), makeRecords(1, from: 7)]
        var statuses: [SegmentStatus] = []
        try await Self.produce(batches.map { RecordBatch(records: $0).encoded() }, on: harness, statuses: &statuses)
        #expect(statuses.map(\.lastSequence) == [4, 7], "a chunk of 4 across two batches, the rest at the end")

        let entries = try await harness.client.consumeSegment(ConsumeSegment(space: "s", segment: "g")).collect()
        #expect(entries.map(\.sequence) == Array(1...7))
        #expect(entries.map(\.payload) == makeRecords(7).map(\.payload))
        #expect(entries.map(\.trx.number) == [1, 1, 1, 1, 2, 2, 2])
        await harness.shutdown()
    }

    /// Anything but the encoders' form (spaces, metadata, members in another order) is read by the parser,
    /// giving the same records.
    @Test(arguments: configurations)
    func aBatchInAnyValidFormIsRead(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let message = #"{ "records" : [ {"payload":"aGk=","sequence":1,"metadata":{"k":"v"}}, {"sequence":2,"payload":null} ] }"#
        var statuses: [SegmentStatus] = []
        try await Self.produce([Array(message.utf8)], on: harness, statuses: &statuses)
        #expect(statuses.map(\.lastSequence) == [2])
        let entries = try await harness.client.consumeSegment(ConsumeSegment(space: "s", segment: "g")).collect()
        #expect(entries.map(\.payload) == [Array("hi".utf8), nil])
        #expect(entries.map(\.metadata) == [["k": "v"], nil])
        await harness.shutdown()
    }

    /// A batch that is not one ends the stream with a permanent error: chunks committed before it stay, the
    /// records waiting for their chunk are not written, and the next produce carries on from the last
    /// committed record.
    @Test(arguments: configurations)
    func aMalformedBatchEndsTheStreamAndKeepsOnlyTheChunksCommittedBeforeIt(_ configuration: Configuration) async throws {
        var limits = StoreLimits()
        limits.chunkMaxRecords = 2
        let harness = try await Harness(configuration, limits: limits)
        for (index, bad) in [#"{"records":[{"sequence":"four"}]}"#, #"[{"sequence":4,"payload":null}]"#,
                             #"{"records":{"sequence":4}}"#, #"{"sequence":4,"payload":null}"#,
                             "{not json"].enumerated() {
            let first = UInt64(1 + 2 * index)
            let messages = [RecordBatch(records: makeRecords(2, from: first)).encoded(),
                            RecordBatch(records: makeRecords(1, from: first + 2)).encoded(), Array(bad.utf8)]
            var statuses: [SegmentStatus] = []
            let error = await StreamsError.of { try await Self.produce(messages, on: harness, statuses: &statuses) }
            #expect(error?.code == .permanent, "\(bad): \(String(describing: error))")
            #expect(statuses.map(\.lastSequence) == [first + 1], "\(bad): the first chunk was committed")
            #expect(try await harness.client.peek(space: "s", segment: "g").sequence == first + 1,
                    "\(bad): the record waiting for its chunk was not written")
        }
        await harness.shutdown()
    }

    @Test(arguments: ExtensionlessProvider.Server.allCases)
    func theClientFallsBackToProduceOnceForAServerWithoutBatches(_ server: ExtensionlessProvider.Server) async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess))
        let provider = ExtensionlessProvider(harness.provider, refusing: [ProduceBatches.self], as: server)
        let client = CoordClient(provider: provider, store: harness.store)
        #expect(try await client.produce(space: "s", segment: "g", records: makeRecords(3)).map(\.lastSequence) == [3])
        #expect(try await client.produce(space: "s", segment: "g", records: makeRecords(2, from: 4)).map(\.lastSequence) == [5])
        #expect(provider.opened(ProduceBatches.self) == 1, "refused once, then every produce of the client is a Produce")
        #expect(provider.opened(Produce.self) == 2)
        let entries = try await client.consumeSegment(ConsumeSegment(space: "s", segment: "g")).collect()
        #expect(entries.map(\.sequence) == Array(1...5))
        #expect(Set(entries.map(\.trx.number)) == [1, 2], "one chunk per produce")
        await harness.shutdown()
    }

    /// A produce the daemon refuses for itself (an empty space) is not taken for a refusal of the stream:
    /// it is not tried again as a `Produce`, and the client keeps using batches.
    @Test func aRefusedProduceDoesNotTurnTheClientAwayFromBatches() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .webSocket))
        let provider = ExtensionlessProvider(harness.provider, refusing: [])
        let client = CoordClient(provider: provider, store: harness.store)
        await #expect(throws: StreamsError.invalidProduceArgs) {
            try await client.produce(space: "", segment: "g", records: makeRecords(1))
        }
        #expect(provider.opened(ProduceBatches.self) == 1 && provider.opened(Produce.self) == 0)
        try await client.produce(space: "s", segment: "g", records: makeRecords(1))
        #expect(provider.opened(ProduceBatches.self) == 2, "the next produce is batched again")
        #expect(provider.opened(Produce.self) == 0)
        await harness.shutdown()
    }

    /// Metrics and logs name both produce streams `produce`: what operators count does not depend on how a
    /// client sends its records.
    @Test func bothProduceStreamsAreCountedAsProduce() async throws {
        let metrics = DaemonMetrics()
        var node = NodeConfiguration()
        node.metrics = metrics
        let harness = try await Harness(Configuration(store: .memory, transport: .webSocket), node: node)
        for way in ProduceWay.allCases {
            try await harness.client(producing: way).produce(space: "s", segment: way.rawValue, records: makeRecords(2))
        }
        #expect(metrics.streams.value(["produce"]) == 2)
        #expect(metrics.streams.value(["produce_batches"]) == 0)
        #expect(metrics.producedEntries.value([]) == 4)
        await harness.shutdown()
    }
}
