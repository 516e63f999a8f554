import StreamCore
import Testing

/// The literal examples of streamkit v1 §1.6 (and §1.1, §6.3), with the reference's elided UUIDs
/// ("5b0c…", "3f0e…", "…") completed to real ones.
enum Golden {
    static let envelopes: [String] = [
        #"{"$type":"streamkit://api/v1/peek","content":{"space":"orders","segment":"order-42"}}"#,
        #"{"$type":"streamkit://api/v1/consume_segment","content":{"space":"orders","segment":"order-42","min_sequence":3,"limit":100}}"#,
        #"{"$type":"streamkit://api/v1/consume_space","content":{"space":"orders","offset":"44415400535041434553006f7264657273008000019b76daa87b006f726465722d3432000000000000000003"}}"#,
        #"{"$type":"streamkit://api/v1/consume","content":{"offsets":{"orders":"","billing":""}}}"#,
        #"{"$type":"streamkit://api/v1/get_segments","content":{"space":"orders"}}"#,
        #"{"$type":"streamkit://api/v1/get_spaces","content":{}}"#,
        #"{"$type":"streamkit://api/v1/produce","content":{"space":"orders","segment":"order-42"}}"#,
        #"{"$type":"streamkit://api/v1/subscribe_to_segment_status","content":{"space":"orders","segment":"*","heartbeat_interval_seconds":0}}"#,
        #"{"$type":"streamkit://api/v1/subscribe_workers","content":{"worker_id":"aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa","metadata":{"role":"processor"},"heartbeat_interval_seconds":30}}"#,
        #"{"$type":"streamkit://api/v1/subscribe_workers","content":{"worker_id":"00000000-0000-0000-0000-000000000000","heartbeat_interval_seconds":0}}"#,
        #"{"$type":"streamkit://api/v1/worker_inventory","content":{"workers":[{"worker_id":"aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa","metadata":{"role":"processor"},"last_seen_at":1767225600000}],"timestamp":1767225600001}}"#,
        #"{"$type":"streamkit://api/v1/presence","content":{"worker_id":"aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa","heartbeat":true,"timestamp":1767225630001}}"#,
        #"{"$type":"streamkit://api/v1/lease_acquire","content":{"key":"leader","holder":"3f0e2b7c-1d4a-4e5f-9a6b-7c8d9e0f1a2b","ttl_seconds":30}}"#,
    ]

    static let records = [#"{"sequence":4,"payload":"aGVsbG8=","metadata":{"k":"v"}}"#]
    static let statuses = [
        #"{"space":"orders","segment":"order-42","first_sequence":1,"first_timestamp":1767225600000,"last_sequence":4,"last_timestamp":1767225600123,"heartbeat":false}"#,
    ]
    static let entries = [
        #"{"sequence":4,"timestamp":1767225600123,"trx":{"id":"5b0c7e2a-9f3d-4c1b-8e6a-2d4f6a8b0c1e","node":"00000000-0000-0000-0000-000000000000","number":2},"payload":"aGVsbG8=","metadata":{"k":"v"},"space":"orders","segment":"order-42"}"#,
        // The empty Peek answer of §6.3.
        #"{"sequence":0,"trx":{"id":"00000000-0000-0000-0000-000000000000","node":"00000000-0000-0000-0000-000000000000","number":0},"payload":null,"space":"s","segment":"g"}"#,
    ]
    static let leaseResults = [#"{"ok":false,"message":"ttl_seconds must be positive"}"#, #"{"ok":true}"#]
    /// coordd's refusals of valid requests: no message (as streamkit's contention), the reason beside it.
    static let leaseRefusals = [
        #"{"ok":false,"reason":"held","fence":3,"holder":"h0","expires_at":1767225630000,"ttl_ms":30000}"#,
        #"{"ok":false,"reason":"not_held"}"#,
        #"{"ok":false,"reason":"expired"}"#,
        #"{"ok":false,"reason":"tokens_exhausted"}"#,
        #"{"ok":false,"reason":"worker_not_registered"}"#,
    ]
    /// coordd's `store_create` and its answer.
    static let storeCreate = #"{"$type":"coordd://api/v1/store_create","content":{}}"#
    static let storeCreateResults = [
        #"{"store_id":"6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f","created":true}"#,
        #"{"store_id":"6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f","created":false}"#,
    ]
    static let segmentNotifications = [
        #"{"store_id":"6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f","segment_status":{"space":"orders","segment":"order-42","first_sequence":1,"first_timestamp":1767225600000,"last_sequence":4,"last_timestamp":1767225600123,"heartbeat":false}}"#,
    ]
    static let inventoryNotifications = [
        #"{"store_id":"6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f","inventory":{"workers":[],"timestamp":1767225600001}}"#,
    ]
}

/// Decodes `text` as `M`, re-encodes it, and compares the two as parsed JSON values.
func expectRoundTrip<M: WireMessage>(_ text: String, as type: M.Type) throws {
    let message = try M(decoding: Array(text.utf8))
    let original = try JSONValue.parse(text)
    let reencoded = try JSONValue.parse(message.encoded())
    #expect(reencoded == original, "\(text) re-encoded as \(String(decoding: message.encoded(), as: UTF8.self))")
}

@Suite struct WireGoldenTests {
    @Test(arguments: Golden.envelopes)
    func everyEnvelopeExampleDecodesAndReencodesToEqualJSON(_ text: String) throws {
        let message = try Envelope.decode(Array(text.utf8))
        let reencoded = try JSONValue.parse(message.enveloped())
        #expect(reencoded == (try JSONValue.parse(text)))
    }

    @Test(arguments: Golden.records)
    func recordExampleRoundTrips(_ text: String) throws { try expectRoundTrip(text, as: Record.self) }

    @Test(arguments: Golden.statuses)
    func segmentStatusExampleRoundTrips(_ text: String) throws { try expectRoundTrip(text, as: SegmentStatus.self) }

    @Test(arguments: Golden.entries)
    func entryExamplesRoundTrip(_ text: String) throws { try expectRoundTrip(text, as: Entry.self) }

    @Test(arguments: Golden.leaseResults)
    func leaseResultExamplesRoundTrip(_ text: String) throws { try expectRoundTrip(text, as: LeaseResult.self) }

    @Test(arguments: Golden.leaseRefusals)
    func leaseRefusalsAreWrittenExactlyWithAReasonAndNoMessage(_ text: String) throws {
        let result = try LeaseResult(decoding: Array(text.utf8))
        #expect(!result.ok && result.message.isEmpty && result.reason != nil && !result.isValidationFailure)
        #expect(String(decoding: result.encoded(), as: UTF8.self) == text, "fields in a fixed order, nothing added")
    }

    @Test func aValidationFailureIsWrittenAsStreamkitWritesItWithoutAReason() throws {
        let result = LeaseResult(ok: false, message: "ttl_seconds must be positive")
        #expect(String(decoding: result.encoded(), as: UTF8.self) == Golden.leaseResults[0])
        #expect(result.isValidationFailure && result.reason == nil)
        #expect(try LeaseResult(decoding: Array(Golden.leaseResults[0].utf8)) == result)
    }

    @Test(arguments: [
        (LeaseResult(ok: false, message: "ttl_seconds must be positive"), "ttl_seconds must be positive"),
        (LeaseResult(ok: false, reason: "held", fence: 3, holder: "other", expiresAt: 1_767_225_630_000),
         "held by other (fence 3) until 2026-01-01T00:00:30.000Z"),
        (LeaseResult(ok: false, reason: "not_held"), "not held"),
        (LeaseResult(ok: false, reason: "worker_not_registered"), "worker not registered"),
        (LeaseResult(ok: false), "refused"),
    ])
    func aRefusalIsDescribedByItsTextItsHolderOrItsReason(_ result: LeaseResult, _ description: String) {
        #expect(result.refusalDescription == description)
    }

    @Test func storeCreateAndItsAnswerAreWrittenExactly() throws {
        let request = try Envelope.decode(StoreCreate.self, from: Array(Golden.storeCreate.utf8))
        #expect(String(decoding: request.enveloped(), as: UTF8.self) == Golden.storeCreate)
        for text in Golden.storeCreateResults {
            let result = try StoreCreateResult(decoding: Array(text.utf8))
            #expect(result.storeID == WireUUID("6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"))
            #expect(String(decoding: result.encoded(), as: UTF8.self) == text)
        }
    }

    @Test(arguments: Golden.segmentNotifications)
    func segmentNotificationExampleRoundTrips(_ text: String) throws { try expectRoundTrip(text, as: SegmentNotification.self) }

    @Test(arguments: Golden.inventoryNotifications)
    func inventoryNotificationExampleRoundTrips(_ text: String) throws {
        try expectRoundTrip(text, as: WorkerInventoryNotification.self)
    }

    @Test func goldenValuesDecodeToTheDocumentedFields() throws {
        let entry = try Entry(decoding: Array(Golden.entries[0].utf8))
        #expect(entry.sequence == 4)
        #expect(entry.payload == Array("hello".utf8))
        #expect(entry.trx.node == nil)
        #expect(entry.trx.number == 2)
        #expect(entry.metadata == ["k": "v"])
        let empty = try Entry(decoding: Array(Golden.entries[1].utf8))
        #expect(empty == Entry.empty(space: "s", segment: "g"))
        let observer = try Envelope.decode(SubscribeWorkers.self, from: Array(Golden.envelopes[9].utf8))
        #expect(observer.workerID == nil, "the nil UUID reads as absent")
    }

    @Test func envelopeOutputStartsWithTypeAndIsDeterministic() {
        let message = SubscribeWorkers(workerID: .nil, metadata: ["b": "2", "a": "1"], heartbeatIntervalSeconds: 30)
        let first = String(decoding: message.enveloped(), as: UTF8.self)
        #expect(first.hasPrefix(#"{"$type":"streamkit://api/v1/subscribe_workers","content":{"#))
        #expect(first.contains(#""metadata":{"a":"1","b":"2"}"#))
        #expect(first.contains(#""worker_id":"00000000-0000-0000-0000-000000000000""#), "nil UUIDs are always written")
        #expect(first == String(decoding: message.enveloped(), as: UTF8.self))
    }

    @Test func lexkeyCursorsMatchTheReferenceExamples() {
        let space = LexKey.spaceOffset(space: "orders", timestamp: 1_767_225_600_123, segment: "order-42", sequence: 3)
        #expect(space.hex == "44415400535041434553006f7264657273008000019b76daa87b006f726465722d3432000000000000000003")
        let segment = LexKey.segmentOffset(space: "orders", segment: "order-42", sequence: 3)
        #expect(segment.hex == "444154005345474d454e5453006f7264657273006f726465722d3432000000000000000003")
        #expect(LexKey.decodeHex(space.hex) == space.bytes)
        #expect(LexKey.decodeHex("abc") == nil)
        #expect(LexKey.decodeHex("zz") == nil)
    }
}
