import CoordClient
import CoordTestKit
@testable import Coordinator
import StreamCore
import Synchronization
import Testing
import Transport

/// Reads that ask for `batched` entries get them many to a message, the same entries in the same order as
/// a read one entry per message; the SDK asks, and reads a server that ignores the member just as well.
@Suite(.serialized, .timeLimit(.minutes(1))) struct ReadBatchesTests {
    static let configurations = [
        Configuration(store: .file, transport: .webSocket), Configuration(store: .memory, transport: .inProcess),
    ]

    /// The three reads of everything in spaces s and t, asking for batches or not.
    static func reads(batched: Bool) -> [(String, any RequestMessage)] {
        [("consume_segment", ConsumeSegment(space: "s", segment: "g", batched: batched)),
         ("consume_space", ConsumeSpace(space: "s", batched: batched)),
         ("consume", Consume(offsets: ["s": [], "t": []], batched: batched))]
    }

    /// Every message of the stream answering `request`, raw.
    static func messages(of request: any RequestMessage, from harness: Harness) async throws -> [[UInt8]] {
        let stream = try await harness.client.open(request)
        defer { stream.close(error: nil) }
        stream.closeSend(error: nil)
        var messages: [[UInt8]] = []
        for _ in 0..<10_000 {
            guard let message = try await stream.receive() else { return messages }
            messages.append(message)
        }
        Issue.record("the read did not end")
        return messages
    }

    static func produce(on harness: Harness) async throws {
        let client = harness.client
        try await client.produce(space: "s", segment: "g", records: makeRecords(150))
        harness.wallClock.advance(byMs: 1)
        try await client.produce(space: "s", segment: "h", records: makeRecords(40))
        try await client.produce(space: "t", segment: "g", records: makeRecords(30))
        harness.wallClock.advance(byMs: 2)
    }

    @Test(arguments: configurations)
    func aBatchedReadCarriesTheSameEntriesManyToAMessage(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        try await Self.produce(on: harness)
        for ((name, plain), (_, batched)) in zip(Self.reads(batched: false), Self.reads(batched: true)) {
            let single = try await Self.messages(of: plain, from: harness)
            let entries = try single.map { try Entry(decoding: $0) }
            #expect(entries.count == (name == "consume_segment" ? 150 : name == "consume_space" ? 190 : 220), "\(name)")

            let batches = try await Self.messages(of: batched, from: harness)
            let unpacked = try batches.map { try EntryBatch(decoding: $0).entries }
            #expect(unpacked.flatMap { $0 } == entries, "\(name): the same entries in the same order")
            #expect(batches.count > 1 && unpacked.allSatisfy { $0.count <= OutgoingEntries.batchEntries && !$0.isEmpty }, "\(name)")
            #expect(batches.count < single.count / 10, "\(name): \(batches.count) messages")
        }
        await harness.shutdown()
    }

    @Test func theClientReadsAServerThatSendsEveryEntryBare() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .webSocket))
        try await Self.produce(on: harness)
        let provider = UnbatchingProvider(harness.provider)
        let plain = CoordClient(provider: provider, store: harness.store)
        let client = harness.client
        let pairs: [(MessageSequence<Entry>, MessageSequence<Entry>)] = [
            (plain.consumeSegment(ConsumeSegment(space: "s", segment: "g")), client.consumeSegment(ConsumeSegment(space: "s", segment: "g"))),
            (plain.consumeSpace(ConsumeSpace(space: "s")), client.consumeSpace(ConsumeSpace(space: "s"))),
            (plain.consume(Consume(offsets: ["s": [], "t": []])), client.consume(Consume(offsets: ["s": [], "t": []]))),
        ]
        for (bare, batched) in pairs {
            let expected = try await batched.collect()
            #expect(!expected.isEmpty)
            #expect(try await bare.collect() == expected)
        }
        #expect(provider.unbatched == 3, "the client asked for batches each time")
        await harness.shutdown()
    }

    /// Batches stay within one message; an entry that would not fit a batch of its own goes bare, and the
    /// order is kept.
    @Test func anEntryTooLargeForABatchGoesBareInItsPlace() async throws {
        func entry(_ sequence: UInt64, payload: Int) -> Entry {
            Entry(sequence: sequence, timestamp: 1, trx: TRX(id: nil, number: 1), payload: [UInt8](repeating: 7, count: payload),
                  metadata: nil, space: "s", segment: "g")
        }
        let limit = 4 * entry(1, payload: 10).encoded().count
        /// An entry that fits one message but not a batch of its own.
        func tooLargeForABatch(_ sequence: UInt64) throws -> Entry {
            try #require((0...2 * limit).lazy.map { entry(sequence, payload: $0) }.first {
                $0.encoded().count <= limit && EntryBatch.messageBytes(count: 1, entryBytes: $0.encoded().count) > limit
            })
        }
        var entries: [Entry] = []
        for run in [5, 3, 0, 2] {
            for _ in 0..<run { entries.append(entry(UInt64(entries.count + 1), payload: 10)) }
            entries.append(try tooLargeForABatch(UInt64(entries.count + 1)))
        }

        let (client, server) = InProcessStream.pair()
        let sent = entries
        let sender = Task {
            var outgoing = OutgoingEntries(limit: limit, batched: true)
            for entry in sent { try await outgoing.add(entry, on: server) { "" } }
            try await outgoing.flush(on: server)
            server.close(error: nil)
        }
        var received: [Entry] = []
        var bare = 0
        for _ in 0...entries.count {
            guard let message = try await client.receive() else { break }
            #expect(message.count <= limit)
            if (try? EntryBatch(decoding: message)) == nil { bare += 1 }
            received += try EntryBatch.entries(in: message)
        }
        try await sender.value
        #expect(received == entries)
        #expect(bare == 4, "each entry too large for a batch went bare")
    }
}

/// A provider in front of another that removes `batched` from every read, as a server without the member
/// ignores it; ``unbatched`` counts the reads that asked.
struct UnbatchingProvider: StreamProvider {
    let wrapped: any StreamProvider
    private let counter = Counter()

    init(_ wrapped: any StreamProvider) {
        self.wrapped = wrapped
    }

    var unbatched: Int { counter.value.load(ordering: .relaxed) }

    func callStream(store: WireUUID, request: [UInt8]) async throws(StreamsError) -> any BidiStream {
        var plain = request
        switch try? Envelope.decode(request) {
        case var read as ConsumeSegment where read.batched:
            read.batched = false
            plain = read.enveloped()
        case var read as ConsumeSpace where read.batched:
            read.batched = false
            plain = read.enveloped()
        case var read as Consume where read.batched:
            read.batched = false
            plain = read.enveloped()
        default:
            break
        }
        if plain != request { counter.value.add(1, ordering: .relaxed) }
        return try await wrapped.callStream(store: store, request: plain)
    }

    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }
}
