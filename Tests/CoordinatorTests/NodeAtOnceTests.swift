import CoordClient
import CoordTestKit
@testable import Coordinator
import Glibc
@testable import StreamCore
import Synchronization
import Testing
import Transport

/// A stream whose store is open is served on the thread that read its request (`NodeManager.serveAtOnce`):
/// a renewal is answered before the call returns, a durable grant once its commit is done.
@Suite struct NodeAtOnceTests {
    private static func terms(_ key: String, ttlSeconds: Int64 = 10) -> LeaseTerms {
        LeaseTerms(key: key, holder: "h", ttlSeconds: ttlSeconds, ttlMs: nil)
    }

    /// Serves `request` at once on a fresh in-process stream; returns the client's side, or nil when declined.
    private static func serve(_ harness: Harness, _ request: some RequestMessage) -> InProcessStream? {
        let (client, server) = InProcessStream.pair()
        guard harness.manager.serveAtOnce(store: harness.store, request: request.enveloped(), stream: server) else { return nil }
        return client
    }

    private static func answer(_ stream: InProcessStream) async throws -> LeaseResult {
        let result = try #require(try await withDeadline { try await stream.receive(LeaseResult.self) })
        #expect(try await withDeadline { try await stream.receive() } == nil, "one answer, then a clean end")
        return result
    }

    @Test func aStoreNotOpenIsDeclinedAndAnOpenOneServesLeasesAtOnce() async throws {
        let harness = try await Harness(Configuration(store: .file, transport: .inProcess))
        #expect(Self.serve(harness, LeaseAcquire(terms: Self.terms("k"))) == nil, "opening the store means waiting")
        _ = try await harness.client.spaces()

        let grant = try await Self.answer(try #require(Self.serve(harness, LeaseAcquire(terms: Self.terms("k")))))
        #expect(grant.ok && grant.fence == 1)

        // Same TTL: nothing to log, so the answer and the end are there when the call returns.
        let renewal = try #require(Self.serve(harness, LeaseRenew(terms: Self.terms("k"))))
        #expect(renewal.arrivals == 1 && renewal.isClosed, "answered before serveAtOnce returned")
        let renewed = try await Self.answer(renewal)
        #expect(renewed.ok && renewed.fence == 1)

        let refused = try #require(Self.serve(harness, LeaseAcquire(terms: LeaseTerms(key: "k", holder: "other", ttlSeconds: 10, ttlMs: nil))))
        #expect(refused.arrivals == 1 && refused.isClosed, "a refusal logs nothing, so it is answered at once too")
        let refusal = try await Self.answer(refused)
        #expect(!refusal.ok && refusal.reason == "held" && refusal.holder == "h")

        // A longer TTL is logged: answered once durable, and the lease then outlives a restart with it.
        let longer = try await Self.answer(try #require(Self.serve(harness, LeaseRenew(terms: Self.terms("k", ttlSeconds: 60)))))
        #expect(longer.ok && longer.ttlMs == 60_000)
        let released = try await Self.answer(try #require(Self.serve(harness, LeaseRelease(key: "k", holder: "h"))))
        #expect(released.ok)
        #expect(try await harness.client.leases().isEmpty, "the release took")

        let reopened = try await harness.restart()
        let regrant = try await reopened.client.acquire(key: "k", holder: "x", ttl: .seconds(5))
        #expect(regrant.ok && regrant.fence == 2, "the at-once grant and release were logged")
        await reopened.shutdown()
    }

    /// A grant whose log write fails is not answered as granted: the stream ends with the storage error,
    /// from the log's writer, with no task waiting for it.
    @Test func aGrantWhoseLogWriteFailsEndsItsStreamWithTheError() async throws {
        let harness = try await Harness(Configuration(store: .file, transport: .inProcess))
        _ = try await harness.client.spaces()
        let store = try #require(harness.manager.openNodes.first?.store)
        try LeaseLogTests.leaseDurableLog(store).faults.arm(.sync, errno: EIO)
        let stream = try #require(Self.serve(harness, LeaseAcquire(terms: Self.terms("k"))))
        let error = await #expect(throws: StreamsError.self) { try await withDeadline { try await stream.receive() } }
        #expect(error?.name == "storage_error" && error?.code == .transient, "\(String(describing: error))")
        await harness.shutdown()
    }

    /// A stream that reaches a node while it closes is refused with what the node's streams end with (a
    /// store whose writes stopped says why), not with a shutdown that is not happening.
    @Test func aStreamReachingAClosingNodeIsRefusedWithItsEnding() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess))
        let node = try await harness.manager.node(for: harness.store)
        let ending = StreamsError.storeUnavailable(because: "its writes stopped")
        await node.close(ending: ending)
        let ended = Mutex(0)
        for request in [LeaseRenew(terms: Self.terms("k")).enveloped(), GetSpaces().enveloped()] {
            let (client, server) = InProcessStream.pair()
            node.serveAtOnce(request, on: server, Node.AtOnceContext(spawn: { _ in false }, ended: { ended.withLock { $0 += 1 } }))
            await #expect(throws: ending) { try await withDeadline { try await client.receive() } }
        }
        let (client, server) = InProcessStream.pair()
        await node.handle(server)
        await #expect(throws: ending, "the task path too") { try await withDeadline { try await client.receive() } }
        #expect(ended.withLock { $0 } == 2, "the node is done with each stream once")
        await harness.shutdown()
    }

    @Test func anAssignmentKeyOrAnotherRequestIsServedInATaskAsBefore() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess))
        _ = try await harness.client.spaces()
        let assignment = try #require(Self.serve(harness, LeaseAcquire(terms: Self.terms("$assign/g/0"))))
        await #expect(throws: StreamsError.self) { try await withDeadline { try await assignment.receive() } }
        let spaces = try #require(Self.serve(harness, GetSpaces()))
        #expect(try await withDeadline { try await spaces.receive() } == nil, "no spaces, a clean end")
        let bad = InProcessStream.pair()
        #expect(harness.manager.serveAtOnce(store: harness.store, request: Array("{".utf8), stream: bad.1))
        await #expect(throws: StreamsError.self) { try await withDeadline { try await bad.0.receive() } }
        await harness.shutdown()
    }
}
