import CorePrimitives
@testable import StreamCore
import Testing

/// An entry in the encoder's form is read without the JSON parser, and reads as the parser reads it;
/// anything else is left to the parser. A stream's generic `receive` reaches the direct reading too.
struct EntryDecodingTests {
    static func parsed(_ text: String) -> Entry? {
        guard let value = try? JSONValue.parse(text), let fields = try? JSONFields(value) else { return nil }
        return try? Entry(fields: fields)
    }

    static func scanned(_ text: String) -> Entry? {
        Array(text.utf8).withUnsafeBytes { Entry.canonical($0) }
    }

    @Test func everyEntryTheEncoderWritesWithoutMetadataIsReadDirectlyAndBackAsItWas() throws {
        var random = SplitMix64(seed: 17)
        let names = ["", "s", "orders", "ünïcødé ✓", "a/b:c", String(repeating: "x", count: 300)]
        let ids: [WireUUID?] = [nil, WireUUID(high: random.next(), low: random.next())]
        for sequence in [0, 1, 42, UInt64.max] as [UInt64] {
            for timestamp in [0, 1, 1_767_225_600_000, Int64.max] as [Int64] {
                for id in ids {
                    for payload in [nil, [], [0x00, 0xFF, 0x10]] as [[UInt8]?] {
                        for (space, segment) in zip(names, names.reversed()) {
                            let entry = Entry(sequence: sequence, timestamp: timestamp, trx: TRX(id: id, node: ids[1], number: sequence / 2),
                                              payload: payload, metadata: nil, space: space, segment: segment)
                            let bytes = entry.encoded()
                            #expect(bytes.withUnsafeBytes { Entry.canonical($0) } == entry, "\(String(decoding: bytes, as: UTF8.self))")
                            #expect(try Entry(decoding: bytes) == entry)
                        }
                    }
                }
            }
        }
    }

    @Test(arguments: [
        #"{"sequence":1,"trx":{"id":"00000000-0000-0000-0000-000000000000","node":"00000000-0000-0000-0000-000000000000","number":1},"payload":null,"metadata":{"k":"v"},"space":"s","segment":"g"}"#,
        #"{"sequence":1,"timestamp":-5,"trx":{"id":"00000000-0000-0000-0000-000000000000","node":"00000000-0000-0000-0000-000000000000","number":1},"payload":null,"space":"s","segment":"g"}"#,
        #"{"sequence":1,"trx":{"id":"00000000-0000-0000-0000-00000000000","node":"00000000-0000-0000-0000-000000000000","number":1},"payload":null,"space":"s","segment":"g"}"#,
        #"{"sequence":1,"trx":{"id":"0000000000000000000000000000000000","node":"00000000-0000-0000-0000-000000000000","number":1},"payload":null,"space":"s","segment":"g"}"#,
        #"{"sequence":1,"trx":{"id":"00000000-0000-0000-0000-000000000000","node":"00000000-0000-0000-0000-000000000000","number":1},"payload":"AA=","space":"s","segment":"g"}"#,
        #"{"sequence":1,"trx":{"id":"00000000-0000-0000-0000-000000000000","node":"00000000-0000-0000-0000-000000000000","number":1},"payload":null,"space":"s\"","segment":"g"}"#,
        #"{"sequence":1,"trx":{"id":"00000000-0000-0000-0000-000000000000","node":"00000000-0000-0000-0000-000000000000","number":1},"payload":null,"space":"s\u0041","segment":"g"}"#,
        #"{"sequence":1,"trx":{"id":"00000000-0000-0000-0000-000000000000","node":"00000000-0000-0000-0000-000000000000","number":1},"payload":null,"space":"s","segment":"g"} "#,
        #"{"sequence":1,"trx":{"id":"00000000-0000-0000-0000-000000000000","node":"00000000-0000-0000-0000-000000000000","number":1},"payload":null,"segment":"g","space":"s"}"#,
        #"{"sequence":1,"trx":{"node":"00000000-0000-0000-0000-000000000000","id":"00000000-0000-0000-0000-000000000000","number":1},"payload":null,"space":"s","segment":"g"}"#,
        #"{"sequence":1,"trx":{"id":"00000000-0000-0000-0000-000000000000","node":"00000000-0000-0000-0000-000000000000","number":1},"payload":null,"space":"s"}"#,
        #"{"sequence":1,"trx":null,"payload":null,"space":"s","segment":"g"}"#,
        #"{"sequence":01,"trx":{"id":"00000000-0000-0000-0000-000000000000","node":"00000000-0000-0000-0000-000000000000","number":1},"payload":null,"space":"s","segment":"g"}"#,
        "{\"sequence\":1,\"trx\":{\"id\":\"00000000-0000-0000-0000-000000000000\",\"node\":\"00000000-0000-0000-0000-000000000000\",\"number\":1},\"payload\":null,\"space\":\"s\u{01}\",\"segment\":\"g\"}",
    ])
    func anythingElseIsLeftToTheParser(_ text: String) throws {
        #expect(Self.scanned(text) == nil)
        let decoded = try? Entry(decoding: Array(text.utf8))
        #expect(decoded == Self.parsed(text))
    }

    @Test func theEdgesTheScannerTakesReadAsTheParserReadsThem() {
        for text in [
            #"{"sequence":1,"timestamp":0,"trx":{"id":"00000000-0000-0000-0000-000000000000","node":"00000000-0000-0000-0000-000000000000","number":0},"payload":"","space":"","segment":""}"#,
            #"{"sequence":1,"trx":{"id":"0123ABCD-0000-0000-0000-00000000000F","node":"00000000-0000-0000-0000-000000000000","number":7},"payload":"/+8=","space":"s","segment":"g"}"#,
        ] {
            let scanned = Self.scanned(text)
            #expect(scanned != nil, "\(text)")
            #expect(scanned == Self.parsed(text), "\(text)")
        }
    }

    /// A message whose direct reading and parser differ on purpose, to see which one a caller reaches.
    struct Probe: WireMessage, Equatable {
        var direct: Bool
        init(direct: Bool) { self.direct = direct }
        init(fields: JSONFields) throws(StreamsError) { direct = false }
        func write(to w: inout JSONWriter) {
            w.beginObject()
            w.endObject()
        }
        static func canonical(_ input: UnsafeRawBufferPointer) -> Probe? { input.count == 2 ? Probe(direct: true) : nil }
    }

    /// The direct reading is what a generic caller gets (a stream's `receive(Entry.self)` decodes through
    /// `init(decoding:)` of an unspecialised `WireMessage`), and the parser what it does not take.
    @Test func aGenericDecodeTakesTheDirectReading() throws {
        func decode<M: WireMessage>(_ type: M.Type, _ text: String) throws -> M { try M(decoding: Array(text.utf8)) }
        #expect(try decode(Probe.self, "{}") == Probe(direct: true))
        #expect(try decode(Probe.self, "{ }") == Probe(direct: false))
    }
}

/// A batch of entries in the encoder's form is read without the parser, and as the parser reads it; a
/// message of a batched read is a batch or one entry, never taken for the other.
struct EntryBatchDecodingTests {
    static func entries(_ count: Int) -> [Entry] {
        (0..<count).map { (i: Int) -> Entry in
            let payload: [UInt8]? = i % 4 == 0 ? nil : Array("payload-\(i)".utf8)
            let trx = TRX(id: WireUUID.random(), number: UInt64(i / 3))
            return Entry(sequence: UInt64(i + 1), timestamp: 1_767_225_600_000 + Int64(i), trx: trx, payload: payload,
                         metadata: nil, space: "s", segment: "g-\(i % 2)")
        }
    }

    @Test func everyBatchTheEncoderWritesIsReadDirectlyAndAsTheParserReadsIt() throws {
        for count in [0, 1, 2, 64] {
            let batch = EntryBatch(entries: Self.entries(count))
            let bytes = batch.encoded()
            #expect(bytes.withUnsafeBytes { EntryBatch.canonical($0) } == batch)
            #expect(try EntryBatch(fields: JSONFields(parsing: bytes)) == batch)
            #expect(try EntryBatch.entries(in: bytes) == batch.entries)
            let encoded = batch.entries.map { $0.encoded() }
            #expect(EntryBatch.message(joining: encoded[...]) == bytes, "joining encoded entries writes the same batch")
            #expect(EntryBatch.messageBytes(count: count, entryBytes: encoded.reduce(0) { $0 + $1.count }) == bytes.count)
        }
    }

    @Test func aMessageIsABatchOrOneEntryInAnyValidForm() throws {
        let entries = Self.entries(3)
        let withMetadata = Entry(sequence: 9, timestamp: 1, trx: TRX(id: nil, number: 1), payload: [1], metadata: ["k": "v"],
                                 space: "s", segment: "g")
        #expect(try EntryBatch.entries(in: entries[1].encoded()) == [entries[1]], "a bare entry")
        #expect(try EntryBatch.entries(in: withMetadata.encoded()) == [withMetadata], "a bare entry the parser reads")
        #expect(try EntryBatch.entries(in: EntryBatch(entries: [entries[0], withMetadata]).encoded()) == [entries[0], withMetadata])
        let spaced: [UInt8] = Array(#" { "entries" : [ "#.utf8) + entries[2].encoded() + Array(" ] } ".utf8)
        #expect(try EntryBatch.entries(in: spaced) == [entries[2]], "a batch the parser reads")
        #expect(throws: StreamsError.self) { try EntryBatch.entries(in: Array(#"{"entries":{}}"#.utf8)) }
        #expect(throws: StreamsError.self) { try EntryBatch.entries(in: Array("[1]".utf8)) }
    }
}
