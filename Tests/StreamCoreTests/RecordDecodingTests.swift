import CorePrimitives
@testable import StreamCore
import Testing

/// A record in the encoders' form is read without the JSON parser, and reads as the parser reads it;
/// anything else is left to the parser.
struct RecordDecodingTests {
    /// The record the JSON parser makes of `text`, or nil when it refuses it.
    static func parsed(_ text: String) -> Record? {
        guard let value = try? JSONValue.parse(text), let fields = try? JSONFields(value) else { return nil }
        return try? Record(fields: fields)
    }

    static func scanned(_ text: String) -> Record? {
        Array(text.utf8).withUnsafeBytes { Record.canonical($0) }
    }

    @Test func everyRecordTheEncoderWritesWithoutMetadataIsReadDirectlyAndBackAsItWas() throws {
        var random = SplitMix64(seed: 7)
        let sequences: [UInt64] = [0, 1, 9, 10, 100, UInt64(Int64.max), UInt64(Int64.max) + 1, .max] + (0..<20).map { _ in random.next() }
        let payloads: [[UInt8]?] = [nil, []] + (1..<40).map { count in (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
        for sequence in sequences {
            for payload in payloads {
                let record = Record(sequence: sequence, payload: payload)
                let bytes = record.encoded()
                #expect(bytes.withUnsafeBytes { Record.canonical($0) } == record, "\(String(decoding: bytes, as: UTF8.self))")
                #expect(try Record(decoding: bytes) == record)
            }
        }
    }

    @Test(arguments: [
        #"{"sequence":01,"payload":null}"#,
        #"{"sequence":-1,"payload":null}"#,
        #"{"sequence":1.5,"payload":null}"#,
        #"{"sequence":18446744073709551616,"payload":null}"#,
        #"{"sequence":,"payload":null}"#,
        #"{"sequence":5,"payload":"AA="}"#,
        #"{"sequence":5,"payload":"A\/=="}"#,
        #"{"sequence":5,"payload":"AA=="} "#,
        #" {"sequence":5,"payload":"AA=="}"#,
        #"{"sequence":5, "payload":"AA=="}"#,
        #"{"sequence":5,"payload":"AA==","metadata":{"a":"b"}}"#,
        #"{"sequence":5,"payload":"AA=="}}"#,
        #"{"sequence":5,"payload":"AA==""#,
        #"{"sequence":5,"payload":nul}"#,
        #"{"sequence":5,"payload":null,"sequence":6}"#,
        #"{"payload":"AA==","sequence":5}"#,
        #"{"Sequence":5,"payload":"AA=="}"#,
        #"{"sequence":5}"#,
        #"{"sequence":5,"payload":"AA=="#,
    ])
    func anythingElseIsLeftToTheParser(_ text: String) throws {
        #expect(Self.scanned(text) == nil)
        // And reads as the parser reads it, through the same entry point.
        let parsed = Self.parsed(text)
        let decoded = try? Record(decoding: Array(text.utf8))
        #expect(decoded == parsed)
    }

    @Test func theEdgesTheScannerTakesReadAsTheParserReadsThem() {
        for text in [#"{"sequence":0,"payload":""}"#, #"{"sequence":18446744073709551615,"payload":"AA=="}"#,
                     #"{"sequence":7,"payload":null}"#, #"{"sequence":12,"payload":"/+8="}"#] {
            let scanned = Self.scanned(text)
            #expect(scanned != nil, "\(text)")
            #expect(scanned == Self.parsed(text), "\(text)")
        }
    }
}

/// A batch of records in the encoders' form is read without the JSON parser, and reads as the parser reads
/// it; a batch with anything else in it, anywhere, is left to the parser whole.
struct RecordBatchDecodingTests {
    static func parsed(_ text: String) -> RecordBatch? {
        guard let value = try? JSONValue.parse(text), let fields = try? JSONFields(value) else { return nil }
        return try? RecordBatch(fields: fields)
    }

    static func scanned(_ text: String) -> RecordBatch? {
        Array(text.utf8).withUnsafeBytes { RecordBatch.canonical($0) }
    }

    @Test func everyBatchTheEncoderWritesWithoutMetadataIsReadDirectlyAndBackAsItWas() throws {
        var random = SplitMix64(seed: 13)
        for count in [0, 1, 2, 3, 17, 100] {
            let records = (0..<count).map { _ in
                let size = Int(random.next() % 40)
                let payload = random.next() % 5 == 0 ? nil : (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                return Record(sequence: random.next(), payload: payload)
            }
            let batch = RecordBatch(records: records)
            let bytes = batch.encoded()
            #expect(bytes.withUnsafeBytes { RecordBatch.canonical($0) } == batch, "\(String(decoding: bytes, as: UTF8.self))")
            #expect(try RecordBatch(decoding: bytes) == batch)
            #expect(Self.parsed(String(decoding: bytes, as: UTF8.self)) == batch)
        }
    }

    @Test(arguments: [
        #"{"records":[{"sequence":1,"payload":null},{"sequence":2,"payload":"AA==","metadata":{"a":"b"}}]}"#,
        #"{"records":[{"sequence":1,"payload":null}, {"sequence":2,"payload":null}]}"#,
        #"{"records":[{"sequence":1,"payload":null},]}"#,
        #"{"records":[{"sequence":1,"payload":null}]} "#,
        #"{"records":[{"sequence":1,"payload":null}],"extra":1}"#,
        #"{"records":[{"sequence":1,"payload":null}"#,
        #"{"records":[{"sequence":1,"payload":"AA="}]}"#,
        #"{"records":[{"sequence":1,"payload":null}{"sequence":2,"payload":null}]}"#,
        #"{"records":[1]}"#,
        #"{"records":null}"#,
        #"{"records":{}}"#,
        #"{"sequence":1,"payload":null}"#,
        #"[{"sequence":1,"payload":null}]"#,
        #"{}"#,
    ])
    func anythingElseIsLeftToTheParser(_ text: String) throws {
        #expect(Self.scanned(text) == nil)
        let parsed = Self.parsed(text)
        let decoded = try? RecordBatch(decoding: Array(text.utf8))
        #expect(decoded == parsed)
    }

    /// A message without `records` is no batch: reading it as an empty one would drop what it held.
    @Test(arguments: [#"{"sequence":1,"payload":null}"#, #"{}"#, #"{"records":null}"#, #"{"records":{}}"#])
    func aMessageWithoutRecordsIsRefused(_ text: String) {
        #expect(throws: StreamsError.self) { try RecordBatch(decoding: Array(text.utf8)) }
    }
}
