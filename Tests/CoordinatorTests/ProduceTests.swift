import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing
import Transport

/// streamkit v1 §8.1 (core / produce / transactions), over every configuration.
@Suite(.serialized) struct ProduceTests {
    @Test(arguments: Configuration.all)
    func multiplexedPeeksOnDifferentSegmentsEachReturnTheirEmptyEntry(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<8 {
                group.addTask {
                    let entry = try await client.peek(space: "s", segment: "seg-\(i)")
                    #expect(entry == Entry.empty(space: "s", segment: "seg-\(i)"))
                }
            }
            try await group.waitForAll()
        }
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all, ProduceWay.allCases)
    func producingFiveRecordsYieldsExactlyOneStatus(_ configuration: Configuration, _ way: ProduceWay) async throws {
        let harness = try await Harness(configuration)
        let statuses = try await harness.client(producing: way).produce(space: "s", segment: "g", records: makeRecords(5))
        #expect(statuses.count == 1)
        #expect(statuses.first?.firstSequence == 1 && statuses.first?.lastSequence == 5)
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all, ProduceWay.allCases)
    func aProduceOfMoreThanOneChunkGetsOneStatusPerChunk(_ configuration: Configuration, _ way: ProduceWay) async throws {
        let harness = try await Harness(configuration)
        let statuses = try await harness.client(producing: way).produce(space: "s", segment: "g", records: makeRecords(25_000, size: 1))
        #expect(statuses.map(\.lastSequence) == [10_000, 20_000, 25_000])
        #expect(statuses.allSatisfy { $0.firstSequence == 1 })
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all, ProduceWay.allCases)
    func largeRecordsAreChunkedByBytesSoEveryChunkFitsOneLogAppend(_ configuration: Configuration, _ way: ProduceWay) async throws {
        let harness = try await Harness(configuration)
        let statuses = try await harness.client(producing: way).produce(space: "s", segment: "g", records: makeRecords(17, size: 512 << 10))
        #expect(statuses.map(\.lastSequence) == [16, 17], "a chunk closes once it holds 8 MiB")
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all, ProduceWay.allCases)
    func largeRecordsAreAllConsumable(_ configuration: Configuration, _ way: ProduceWay) async throws {
        let harness = try await Harness(configuration)
        try await harness.client(producing: way).produce(space: "s", segment: "g", records: makeRecords(50, size: 8_192))
        let entries = try await harness.client.consumeSegment(ConsumeSegment(space: "s", segment: "g")).collect()
        #expect(entries.count == 50)
        #expect(entries.allSatisfy { $0.payload?.count == 8_192 })
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all, ProduceWay.allCases)
    func eachProduceHasItsOwnTRXSharedByItsEntriesWithIncreasingNumbers(_ configuration: Configuration, _ way: ProduceWay) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client(producing: way)
        try await client.produce(space: "s", segment: "g", records: makeRecords(3))
        try await client.produce(space: "s", segment: "g", records: makeRecords(2, from: 4))
        let entries = try await client.consumeSegment(ConsumeSegment(space: "s", segment: "g")).collect()
        #expect(entries.count == 5)
        #expect(Set(entries[0..<3].map(\.trx.id)).count == 1 && entries[0].trx.id != nil)
        #expect(entries[3].trx.id == entries[4].trx.id && entries[3].trx.id != entries[0].trx.id)
        #expect(entries.map(\.trx.number) == [1, 1, 1, 2, 2])
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all, ProduceWay.allCases)
    func payloadAndMetadataArePersistedAndPeekShowsThem(_ configuration: Configuration, _ way: ProduceWay) async throws {
        let harness = try await Harness(configuration)
        let record = Record(sequence: 1, payload: Array("hello".utf8), metadata: ["k": "v", "type": "order"])
        try await harness.client(producing: way).produce(space: "s", segment: "g", records: [record])
        let head = try await harness.client.peek(space: "s", segment: "g")
        #expect(head.sequence == 1 && head.payload == Array("hello".utf8) && head.metadata == ["k": "v", "type": "order"])
        #expect(head.timestamp == harness.wallClock.nowMs())
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all, ProduceWay.allCases)
    func aSequenceGapEndsTheProduceWithATypedPermanentErrorAndKeepsEarlierChunks(_ configuration: Configuration, _ way: ProduceWay) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client(producing: way)
        try await client.produce(space: "s", segment: "g", records: makeRecords(3))
        do throws(StreamsError) {
            try await client.produce(space: "s", segment: "g", records: makeRecords(2, from: 7))
            Issue.record("a gap must be refused")
        } catch {
            #expect(error == .sequenceGap(expected: 4, got: 7))
            #expect(error.code == .permanent && error.name == "sequence_gap")
        }
        #expect(try await client.peek(space: "s", segment: "g").sequence == 3)
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all, ProduceWay.allCases)
    func concurrentProducersOfTheSameSequencesLeaveExactlyOneCopy(_ configuration: Configuration, _ way: ProduceWay) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client(producing: way)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask { _ = try? await client.produce(space: "s", segment: "g", records: makeRecords(25)) }
            }
            try await group.waitForAll()
        }
        let entries = try await client.consumeSegment(ConsumeSegment(space: "s", segment: "g")).collect()
        #expect(entries.map(\.sequence) == Array(1...25))
        await harness.shutdown()
    }

    /// 8 producers race for 2,000 sequences: each peeks the head and tries to write the next batch; every
    /// sequence is written exactly once and every loser gets a permanent sequence error.
    /// (Only as the SDK produces: the sequences are checked by the store, whichever stream brought them.)
    @Test(arguments: Configuration.all)
    func racingProducersGetExactlyOneWinnerPerSequence(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        let target: UInt64 = 2_000
        let outcomes = try await withThrowingTaskGroup(of: (wins: Int, losses: Int).self) { group in
            for producer in 0..<8 {
                group.addTask {
                    var wins = 0
                    var losses = 0
                    // Bounded: at most `target` successful batches overall, and each loss means another
                    // producer advanced the head.
                    for _ in 0..<Int(target) * 8 {
                        let head = try await client.peek(space: "race", segment: "g").sequence
                        if head >= target { break }
                        let batch = UInt64(1 + (producer % 3))
                        let count = Int(min(batch, target - head))
                        let records = (1...UInt64(count)).map { Record(sequence: head + $0, payload: [UInt8(producer)]) }
                        do throws(StreamsError) {
                            try await client.produce(space: "race", segment: "g", records: records)
                            wins += 1
                        } catch {
                            #expect(error.code == .permanent && error.name == "sequence_gap", "\(error)")
                            losses += 1
                        }
                    }
                    return (wins, losses)
                }
            }
            var all: [(wins: Int, losses: Int)] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        let entries = try await client.consumeSegment(ConsumeSegment(space: "race", segment: "g")).collect()
        #expect(entries.map(\.sequence) == Array(1...target), "every sequence exactly once, no gaps")
        let chunks = Set(entries.map(\.trx.number)).count
        #expect(outcomes.reduce(0) { $0 + $1.wins } == chunks, "one committed chunk per winning produce")
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all, ProduceWay.allCases)
    func malformedRecordsAndMissingArgumentsEndTheStreamWithClearErrors(_ configuration: Configuration, _ way: ProduceWay) async throws {
        let harness = try await Harness(configuration)
        await #expect(throws: StreamsError.invalidProduceArgs) {
            try await harness.client(producing: way).produce(space: "", segment: "g", records: makeRecords(1))
        }
        let request = Produce(space: "s", segment: "g")
        let stream = way == .batches
            ? try await harness.client.open(ProduceBatches(request)) : try await harness.client.open(request)
        try await stream.send(Array("{not json".utf8))
        await #expect(throws: StreamsError.self) { try await stream.receive() }
        #expect(try await harness.client.spaces().isEmpty, "nothing was stored")
        await harness.shutdown()
    }

    @Test func aProduceEndedCleanlyBeforeItsLastRecordIsAcknowledgedThrowsATransientError() async throws {
        // A server that reads every record (one per message, or a batch of them), acknowledges only the first
        // chunk's worth, and ends cleanly.
        let provider = ScriptedProvider { stream throws(StreamsError) in
            var records = 0
            while let message = try await stream.receive() {
                records += (try? RecordBatch(decoding: message).records.count) ?? 1
            }
            if records > 1 {
                try await stream.send(SegmentStatus(space: "s", segment: "g", firstSequence: 1, firstTimestamp: 1,
                                                    lastSequence: 1, lastTimestamp: 1, heartbeat: false))
            }
            stream.close(error: nil)
        }
        let client = CoordClient(provider: provider)
        for count in [1, 3] {
            let error = await #expect(throws: StreamsError.self) {
                try await client.produce(space: "s", segment: "g", records: makeRecords(count))
            }
            #expect(error?.name == "stream_closed" && error?.code == .transient, "\(count) records: \(String(describing: error))")
        }
    }
}
