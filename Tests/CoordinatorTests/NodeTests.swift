import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Testing
import Transport

/// Sends raw bytes as a stream's first message and returns the error the stream ends with.
func firstMessageError(_ harness: Harness, _ first: [UInt8]) async throws -> StreamsError? {
    let stream = try await harness.provider.callStream(store: harness.store, request: first)
    defer { stream.close(error: nil) }
    do {
        while try await withDeadline({ try await stream.receive() }) != nil {}
        return nil
    } catch let error as StreamsError {
        return error
    }
}

/// Node dispatch (streamkit v1 §8.6) and node/manager lifecycle.
@Suite(.serialized) struct NodeTests {
    @Test(arguments: [
        (#"{"$type":"streamkit://api/v1/nope","content":{}}"#, #"type "streamkit://api/v1/nope" is not registered"#),
        (#"{"$type":"streamkit://api/v1/peek"}"#, #"missing content for type: "streamkit://api/v1/peek""#),
        (#"{"$type":"streamkit://api/v1/segment_status","content":{}}"#, "invalid request msg type: *api.SegmentStatus"),
        (#"{"$type":"streamkit://api/v1/presence","content":{}}"#, "invalid request msg type: *api.Presence"),
        (#"<not json>"#, "invalid JSON at offset 0: unexpected character"),
    ])
    func aBadFirstMessageEndsTheStreamWithTheReferenceText(_ first: String, _ text: String) async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess))
        let error = try #require(try await firstMessageError(harness, Array(first.utf8)))
        #expect(error.message == text)
        #expect(error.code == .permanent && error.name == "invalid_request")
        await harness.shutdown()
    }

    @Test func endingTheStreamBeforeTheRequestClosesItWithEOF() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess))
        let (client, server) = InProcessStream.pair()
        try await harness.manager.accept(store: harness.store, stream: server)
        client.closeSend(error: nil)
        await #expect(throws: StreamsError.invalidRequest("EOF")) { try await withDeadline { try await client.receive() } }
        await harness.shutdown()
    }

    @Test func storesAreIsolatedFromEachOther() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess))
        try await harness.client.produce(space: "s", segment: "g", records: makeRecords(2))
        let other = harness.client(for: .random())
        #expect(try await other.spaces().isEmpty)
        #expect(harness.manager.openNodes.count == 2)
        await harness.shutdown()
    }

    @Test func aStoreThatCannotOpenFailsTheCallAndIsRetriedNextTime() async throws {
        let attempts = Counter()
        let manager = NodeManager { _ throws(StreamsError) in
            if await attempts.increment() == 1 { throw .storeUnavailable }
            return MemoryStore()
        }
        let client = CoordClient(provider: manager.inProcessProvider(), store: .random())
        await #expect(throws: StreamsError.storeUnavailable) { try await client.spaces() }
        #expect(try await client.spaces().isEmpty)
        await manager.close()
    }

    @Test func closingTheManagerEndsOpenStreamsAndIsIdempotent() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess))
        let subscription = try await harness.client.open(SubscribeToSegmentStatus(space: "s", segment: "*"))
        #expect(await eventually { harness.manager.openNodes.first?.openStreamCount == 1 })
        await harness.manager.close()
        await #expect(throws: StreamsError.shuttingDown) { try await withDeadline { try await subscription.receive() } }
        await harness.manager.close()
        await #expect(throws: StreamsError.shuttingDown) { try await harness.client.spaces() }
        harness.fixture.remove()
    }
}

actor Counter {
    private var value = 0
    func increment() -> Int {
        value += 1
        return value
    }
}
