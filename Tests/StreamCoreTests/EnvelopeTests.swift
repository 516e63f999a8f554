import StreamCore
import Testing

/// One sample of every registered message, with non-default values in every field.
enum Samples {
    static let worker = WireUUID("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")!
    static let store = WireUUID("6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f")!
    static let status = SegmentStatus(space: "orders", segment: "order-42", firstSequence: 1, firstTimestamp: 10,
                                      lastSequence: 4, lastTimestamp: 12, heartbeat: false)
    static let info = WorkerInfo(workerID: worker, metadata: ["role": "processor"], lastSeenAt: 1_767_225_600_000)
    static let inventory = WorkerInventory(workers: [info], timestamp: 1_767_225_600_001, revision: 7, epoch: 42)

    static let all: [any EnvelopedMessage] = [
        ConsumeSegment(space: "s", segment: "g", minSequence: 3, minTimestamp: 4, maxSequence: 9, maxTimestamp: 99, limit: 100),
        ConsumeSpace(space: "s", minTimestamp: 1, maxTimestamp: 2, offset: [0x44, 0x00, 0xff], limit: 5),
        Consume(offsets: ["orders": [], "billing": [0x01, 0x02]], minTimestamp: 1, maxTimestamp: 2, limit: 3),
        GetSegments(space: "orders"),
        GetSpaces(),
        GetStatus(),
        Peek(space: "orders", segment: "order-42"),
        Produce(space: "orders", segment: "order-42", fence: Fence(key: "p-1", token: 9)),
        SegmentNotification(storeID: store, segmentStatus: status),
        status,
        SubscribeToSegmentStatus(space: "orders", segment: "*", heartbeatIntervalSeconds: 5),
        LeaseAcquire(terms: LeaseTerms(key: "k", holder: "h", ttlSeconds: 30, ttlMs: 250), workerID: worker),
        LeaseRenew(terms: LeaseTerms(key: "k", holder: "h", ttlSeconds: 30)),
        LeaseRelease(key: "k", holder: "h"),
        LeaseResult(ok: false, reason: "held", fence: 3, holder: "other", expiresAt: 77, ttlMs: 30_000),
        SubscribeWorkers(workerID: worker, metadata: ["a": "b"], heartbeatIntervalSeconds: 30, heartbeatIntervalMs: 500,
                         deltas: true, sinceRevision: 12),
        SubscribeWorkers(workerID: worker, heartbeatIntervalSeconds: 5, presenceOnly: true),
        SubscribeWorkers(workerID: nil, deltas: true, sinceRevision: 3, sinceEpoch: 42),
        inventory,
        Presence(workerID: worker, heartbeat: false, timestamp: 1_767_225_630_001),
        WorkerInventoryNotification(storeID: store, inventory: inventory),
        WorkerInventoryDelta(revision: 8, joined: [info], left: [store], updated: []),
        WorkerInventoryDelta(revision: 9, joined: [], left: [], updated: [info], epoch: 42),
        LeaseList(prefix: "part-", limit: 10),
        StoreCreate(),
        LeaseWatch(key: "partition-7"),
        SubscribeAssignments(group: "indexers", memberID: "indexer-7", weight: 2, partitions: .count(64)),
        AssignmentList(group: "indexers"),
        LeaseRenewals(),
        LeaseOperations(),
        ProduceBatches(Produce(space: "orders", segment: "order-42", fence: Fence(key: "p-1", token: 9))),
        ConsumeSegment(space: "orders", segment: "order-42", minSequence: 3, batched: true),
        ConsumeSpace(space: "orders", offset: [1, 2], batched: true),
        Consume(offsets: ["orders": []], limit: 5, batched: true),
    ]
}

/// Compares two messages of the same dynamic type.
func sameMessage(_ a: any EnvelopedMessage, _ b: any EnvelopedMessage) -> Bool {
    func open<M: EnvelopedMessage>(_ a: M) -> Bool {
        guard let b = b as? M else { return false }
        return a.encoded() == b.encoded()
    }
    return open(a)
}

@Suite struct EnvelopeTests {
    @Test func registryHoldsTheNineteenStreamkitDiscriminatorsAndCoorddExtensions() {
        let streamkit = Envelope.registry.keys.filter { $0.hasPrefix("streamkit://api/v1/") }
        #expect(streamkit.count == 19)
        #expect(Envelope.registry["coordd://api/v1/worker_inventory_delta"] != nil)
        #expect(Envelope.registry["coordd://api/v1/lease_list"] != nil)
        #expect(Envelope.registry["coordd://api/v1/store_create"] != nil)
        #expect(Set(Samples.all.map { type(of: $0).discriminator }) == Set(Envelope.registry.keys))
    }

    @Test(arguments: Samples.all.indices)
    func everyRegisteredMessageRoundTripsThroughItsEnvelope(_ index: Int) throws {
        let message = Samples.all[index]
        let decoded = try Envelope.decode(message.enveloped())
        #expect(type(of: decoded).discriminator == type(of: message).discriminator)
        #expect(sameMessage(message, decoded))
    }

    @Test(arguments: [
        (#"{"content":{}}"#, "missing $type field in envelope"),
        (#"{"$type":5,"content":{}}"#, "invalid $type format: expected a string, got number"),
        (#"{"$type":"","content":{}}"#, "empty $type discriminator"),
        (#"{"$type":"streamkit://api/v1/nope","content":{}}"#, #"type "streamkit://api/v1/nope" is not registered"#),
        (#"{"$type":"streamkit://api/v1/peek"}"#, #"missing content for type: "streamkit://api/v1/peek""#),
        (#"{"$type":"streamkit://api/v1/peek","content":null}"#, #"missing content for type: "streamkit://api/v1/peek""#),
        (#"{"$type":"streamkit://api/v1/peek","content":{"space":7}}"#,
         #"failed to unmarshal content for "streamkit://api/v1/peek": field "space": expected string, got number"#),
    ])
    func envelopeDecodeErrorsUseTheReferenceTexts(_ text: String, _ expected: String) {
        #expect(throws: StreamsError.malformed(expected)) { try Envelope.decode(Array(text.utf8)) }
    }

    @Test func unknownTopLevelKeysAreIgnoredAndOrderDoesNotMatter() throws {
        let text = #"{"extra":1,"content":{"segment":"g","space":"s"},"$type":"streamkit://api/v1/peek"}"#
        let peek = try Envelope.decode(Peek.self, from: Array(text.utf8))
        #expect(peek == Peek(space: "s", segment: "g"))
    }

    @Test func additiveFieldsAreOmittedWhenUnset() {
        let plain = String(decoding: LeaseResult(ok: true).encoded(), as: UTF8.self)
        #expect(plain == #"{"ok":true}"#)
        let inventory = String(decoding: WorkerInventory(workers: [], timestamp: 1).encoded(), as: UTF8.self)
        #expect(inventory == #"{"workers":[],"timestamp":1}"#, "workers is [] and never null; no revision unless set")
    }
}

/// The messages of a `lease_ops` stream: each request's members with an `op` naming it.
@Suite struct LeaseOperationMessageTests {
    @Test func eachOperationRoundTripsWithItsOp() throws {
        let operations: [LeaseOperation] = [
            .acquire(LeaseAcquire(terms: LeaseTerms(key: "p-7", holder: "a", ttlSeconds: 5, ttlMs: 4_500), workerID: WireUUID(high: 1, low: 2))),
            .renew(LeaseRenew(terms: LeaseTerms(key: "p-7", holder: "a", ttlSeconds: 5))),
            .release(LeaseRelease(key: "p-7", holder: "a")),
        ]
        for operation in operations {
            #expect(try LeaseOperation(decoding: operation.encoded()) == operation)
        }
        #expect(String(decoding: operations[2].encoded(), as: UTF8.self) == #"{"op":"release","key":"p-7","holder":"a"}"#)
    }

    @Test func aMessageWithoutAKnownOpIsAnInvalidRequest() {
        for (text, expected) in [(#"{"key":"k","holder":"h"}"#, "needs an op"), (#"{"op":"steal","key":"k"}"#, #"unknown lease op "steal""#)] {
            let error = #expect(throws: StreamsError.self) { try LeaseOperation(decoding: Array(text.utf8)) }
            #expect(error?.name == "invalid_request" && error?.message.contains(expected) == true, "\(String(describing: error))")
        }
    }
}
