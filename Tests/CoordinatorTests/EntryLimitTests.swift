import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing
import Transport

extension LargeMessageSuites {
    /// Every record Produce acknowledges can be read back by every read, on every transport: the record
    /// limits are derived from the largest message a frame carries (``StoreLimits``, ``WireLimits``).
    @Suite(.serialized) struct EntryLimitTests {
        /// The entries a read yields before it ends, and the error it ends with (nil for a clean end).
        static func read(_ sequence: MessageSequence<Entry>) async -> (entries: [Entry], error: StreamsError?) {
            var entries: [Entry] = []
            do {
                for try await entry in sequence { entries.append(entry) }
                return (entries, nil)
            } catch {
                return (entries, error)
            }
        }

        @Test(arguments: Configuration.all)
        func aRecordWithEveryPartAtItsLimitRoundTripsThroughEveryRead(_ configuration: Configuration) async throws {
            let harness = try await Harness(configuration)
            let client = harness.client
            let limits = StoreLimits()
            let space = LimitFixtures.name(bytes: limits.maxNameBytes)
            let segment = LimitFixtures.name(bytes: limits.maxNameBytes)
            let record = LimitFixtures.record(
                1, payloadBytes: limits.maxPayloadBytes, metadata: LimitFixtures.metadata(jsonBytes: limits.maxMetadataBytes))
            let statuses = try await client.produce(space: space, segment: segment, records: [record])
            #expect(statuses.map(\.lastSequence) == [1])
            harness.wallClock.advance(byMs: 1)

            let head = try await client.peek(space: space, segment: segment)
            #expect(head.payload == record.payload && head.metadata == record.metadata)
            #expect(head.space == space && head.segment == segment && head.sequence == 1)
            #expect(head.encoded().count > limits.maxEntryBytes - 64, "the entry fills a message to within its numbers")
            let reads: [(String, MessageSequence<Entry>)] = [
                ("consume_segment", client.consumeSegment(ConsumeSegment(space: space, segment: segment))),
                ("consume_space", client.consumeSpace(ConsumeSpace(space: space))),
                ("consume", client.consume(Consume(offsets: [space: []]))),
            ]
            for (name, sequence) in reads {
                let read = await Self.read(sequence)
                #expect(read.error == nil, "\(name): \(read.error?.message ?? "")")
                #expect(read.entries == [head], "\(name)")
            }
            await harness.shutdown()
        }

        /// One size one byte over its limit.
        enum Overflow: String, CaseIterable, Sendable, CustomStringConvertible {
            case payload, metadata, spaceName, segmentName
            var description: String { rawValue }
        }

        @Test(arguments: Configuration.all)
        func oneByteOverALimitFailsThatProduceOnlyNamingTheLimit(_ configuration: Configuration) async throws {
            let harness = try await Harness(configuration)
            let client = harness.client
            let limits = StoreLimits()
            try await client.produce(space: "s", segment: "g", records: makeRecords(1))
            let subscription = try await client.open(SubscribeToSegmentStatus(space: "s", segment: "g"))
            #expect(try await StatusReader(stream: subscription).next()?.lastSequence == 1)
            for overflow in Overflow.allCases {
                var space = "s"
                var segment = "g"
                var record = Record(sequence: 2, payload: [1])
                let limitName: String
                switch overflow {
                case .payload:
                    record = LimitFixtures.record(2, payloadBytes: limits.maxPayloadBytes + 1)
                    limitName = "StoreLimits.maxPayloadBytes"
                case .metadata:
                    record.metadata = LimitFixtures.metadata(jsonBytes: limits.maxMetadataBytes + 1)
                    limitName = "StoreLimits.maxMetadataBytes"
                case .spaceName:
                    space = LimitFixtures.name(bytes: limits.maxNameBytes + 1)
                    limitName = "StoreLimits.maxNameBytes"
                case .segmentName:
                    segment = LimitFixtures.name(bytes: limits.maxNameBytes + 1)
                    limitName = "StoreLimits.maxNameBytes"
                }
                let error = await StreamsError.of { try await client.produce(space: space, segment: segment, records: [record]) }
                #expect(error?.name == "limit_exceeded" && error?.code == .permanent, "\(overflow): \(String(describing: error))")
                #expect(error?.message.contains(limitName) == true, "\(overflow): \(error?.message ?? "")")
                // The connection and its other streams carry on.
                #expect(try await client.peek(space: "s", segment: "g").sequence == 1, "\(overflow)")
            }
            try await client.produce(space: "s", segment: "g", records: makeRecords(1, from: 2))
            #expect(try await StatusReader(stream: subscription).next()?.lastSequence == 2, "the subscription went on")
            subscription.close(error: nil)
            await harness.shutdown()
        }

        /// The `word` after `marker` in `text` (the cursor an oversized-entry error tells the reader).
        static func word(after marker: String, in text: String) -> String? {
            guard let range = text.range(of: marker) else { return nil }
            return text[range.upperBound...].split(separator: " ").first.map(String.init)
        }

        @Test(arguments: TransportKind.allCases)
        func anEntryStoredUnderALooserLimitEndsEachReadThereNamingItAndTheWayPast(_ transport: TransportKind) async throws {
            // An earlier build accepted payloads up to 6 MiB: write such a store directly.
            var loose = StoreLimits()
            loose.maxEntryBytes = 9 << 20
            let earlier = try StoreFixture(.file, limits: loose)
            let store = WireUUID.random()
            let files = try await earlier.open(name: store.description)
            let huge = LimitFixtures.record(2, payloadBytes: 6_000_000)
            let writes: [(String, [Record])] = [
                ("big", [Record(sequence: 1, payload: [1])]), ("big", [huge]), ("big", [Record(sequence: 3, payload: [3])]),
                ("other", [Record(sequence: 1, payload: [4])]), ("tail", [LimitFixtures.record(1, payloadBytes: 6_000_000)]),
            ]
            for (segment, records) in writes {
                _ = try await files.append(AppendRequest(space: "s", segment: segment, records: records))
                earlier.clock.advance(byMs: 1)
            }
            await files.close()

            let harness = try await Harness(
                Configuration(store: .file, transport: transport), fixture: earlier.reopening(with: StoreLimits()), store: store)
            let client = harness.client
            let segmentRead = await Self.read(client.consumeSegment(ConsumeSegment(space: "s", segment: "big")))
            #expect(segmentRead.entries.map(\.sequence) == [1])
            let error = try #require(segmentRead.error)
            #expect(error.name == "limit_exceeded" && error.code == .permanent)
            #expect(error.message.hasPrefix("entry s/big sequence 2 is "), "\(error.message)")
            #expect(error.message.contains("StoreLimits.maxEntryBytes") && error.message.contains("from min_sequence 3"))
            let past = await Self.read(client.consumeSegment(ConsumeSegment(space: "s", segment: "big", minSequence: 3)))
            #expect(past.entries.map(\.sequence) == [3] && past.error == nil)
            #expect(try await client.consumeSegment(ConsumeSegment(space: "s", segment: "other")).collect().count == 1)
            #expect(try await client.peek(space: "s", segment: "big").sequence == 3)
            let peek = await StreamsError.of { _ = try await client.peek(space: "s", segment: "tail") }
            #expect(peek?.name == "limit_exceeded" && peek?.message.contains("entry s/tail sequence 1") == true)

            // A space read stops at the entry and says which cursor reads on; that cursor skips it.
            let spaceRead = await Self.read(client.consumeSpace(ConsumeSpace(space: "s")))
            #expect(spaceRead.entries.map { "\($0.segment)\($0.sequence)" } == ["big1"])
            let offset = try #require(spaceRead.error.flatMap { Self.word(after: "consume_space with offset ", in: $0.message) })
            let rest = await Self.read(client.consumeSpace(ConsumeSpace(space: "s", offset: try #require(LexKey.decodeHex(offset)))))
            #expect(rest.entries.map { "\($0.segment)\($0.sequence)" } == ["big3", "other1"])
            #expect(rest.error?.message.contains("entry s/tail sequence 1") == true)
            let merged = await Self.read(client.consume(Consume(offsets: ["s": []])))
            #expect(merged.entries.map { "\($0.segment)\($0.sequence)" } == ["big1"])
            #expect(merged.error?.message.contains(#"consume with offsets["s"] = \#(offset) reads past it"#) == true)
            await harness.shutdown()
        }
    }
}
