import CoordClient
import CoordTestKit
import Coordinator
@testable import StreamCore
import Synchronization
import Testing
import Transport

/// The `lease_ops` stream: acquires, renewals and releases on one stream, answered in the order they came
/// although some are answered at once and others once durable; on the network, served on the
/// connection's loop (a logged one answered by the log's writer thread), in process by a task.
@Suite(.serialized, .timeLimit(.minutes(1))) struct LeaseOperationsTests {
    static let configurations = [
        Configuration(store: .file, transport: .webSocket), Configuration(store: .file, transport: .inProcess),
        Configuration(store: .memory, transport: .webSocketTLS),
    ]

    private static func acquire(_ key: String, _ holder: String, seconds: Int64 = 10) -> LeaseOperation {
        .acquire(LeaseAcquire(terms: LeaseTerms(key: key, holder: holder, ttlSeconds: seconds)))
    }

    private static func release(_ key: String, _ holder: String) -> LeaseOperation {
        .release(LeaseRelease(key: key, holder: holder))
    }

    private static func renew(_ key: String, _ holder: String, seconds: Int64 = 10) -> LeaseOperation {
        .renew(LeaseRenew(terms: LeaseTerms(key: key, holder: holder, ttlSeconds: seconds)))
    }

    @Test(arguments: [Configuration(store: .file, transport: .webSocket), Configuration(store: .file, transport: .inProcess)])
    func aTaskOnTheStreamsLoopIsAnsweredThere(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let operations = try await harness.client.leaseOperations()
        guard let loop = operations.eventLoop else {
            #expect(configuration.transport == .inProcess, "only an in-process stream has no loop")
            return await harness.shutdown()
        }
        #expect(configuration.transport != .inProcess)
        // Awaited with a bound, not joined: a task that never resumes must fail the test, not hang it.
        let answeredOnLoop = Mutex<[Bool]?>(nil)
        Task(executorPreference: loop) {
            // A durable grant (answered by the log's writer thread) and a refusal (answered at once).
            let granted = try await operations.acquire(key: "a", holder: "h", ttl: .seconds(10))
            let afterGrant = loop.inEventLoop
            let refused = try await operations.acquire(key: "a", holder: "other", ttl: .seconds(10))
            answeredOnLoop.withLock { $0 = [granted.ok, afterGrant, !refused.ok, loop.inEventLoop] }
        }
        #expect(await eventually { answeredOnLoop.withLock { $0 != nil } })
        #expect(answeredOnLoop.withLock { $0 } == [true, true, true, true])
        await operations.close()
        await harness.shutdown()
    }

    @Test(arguments: configurations)
    func operationsAreAnsweredInOrderAndTheLoggedOnesAreDurable(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let operations = try await harness.client.leaseOperations()
        // Grants and releases are logged (answered once durable); a refusal and a renewal of the same TTL
        // are answered at once, yet every answer keeps its place.
        let results = try await operations.perform([
            Self.acquire("a", "h"), Self.acquire("b", "h"), Self.acquire("a", "other"), Self.renew("a", "h"),
            Self.release("b", "h"), Self.release("nobody", "h"), Self.acquire("c", "h", seconds: 60),
        ])
        #expect(results.map(\.ok) == [true, true, false, true, true, false, true])
        #expect(results[2].reason == "held" && results[2].holder == "h")
        #expect(results[5].reason == "not_held")
        #expect(results[0].fence == results[3].fence, "the renewal is of the lease the first acquire granted")
        #expect(try await operations.acquire(key: "b", holder: "other", ttl: .seconds(10)).ok, "released: free again")
        #expect(try await operations.release(key: "b", holder: "other").ok)
        await #expect(throws: StreamsError.self, "an invalid request throws, as on a stream of its own") {
            try await operations.acquire(key: "d", holder: "", ttl: .seconds(10))
        }
        await operations.close()
        await #expect(throws: StreamsError.self, "a closed stream carries nothing") {
            try await operations.release(key: "a", holder: "h")
        }

        if configuration.store == .file {
            let reopened = try await harness.restart()
            let held = try await reopened.client.leases().map { "\($0.key)=\($0.holder)/\($0.ttlMs)" }.sorted()
            #expect(held == ["a=h/10000", "c=h/60000"], "every answered grant and release came back")
            await reopened.shutdown()
        } else {
            await harness.shutdown()
        }
    }

    /// An operation the stream cannot carry ends it with its error, but only after the answers of the
    /// operations before it (a logged grant, answered once durable); what came after it is not carried out.
    @Test(arguments: configurations)
    func anOperationItCannotCarryEndsTheStreamAfterTheAnswersBeforeIt(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let stream = try await harness.client.open(LeaseOperations())
        for operation in [Self.acquire("k", "h"), Self.acquire("$assign/g/0", "h"), Self.acquire("after", "h")] {
            try await stream.send(operation.encoded())
        }
        let first = try LeaseResult(decoding: try #require(try await stream.receive()))
        #expect(first.ok && first.fence != nil, "the grant before the refused operation was answered first")
        let error = await #expect(throws: StreamsError.self) { try await stream.receive() }
        #expect(error?.name == "invalid_request" && error?.message.contains("$assign/") == true, "\(String(describing: error))")
        stream.close(error: nil)
        let keys = try await harness.client.leases().map(\.key)
        #expect(keys == ["k"], "nothing after the refused operation was carried out")
        await harness.shutdown()
    }

    /// A client that sends more operations than the daemon keeps answers for is cut off with a named limit,
    /// after the answers within it. The lease log's writer is held meanwhile, so no grant is answered (and
    /// no place freed) before all ten were decided, however the threads are scheduled.
    @Test func operationsPastTheLimitInFlightEndTheStream() async throws {
        var node = NodeConfiguration()
        node.limits.maxLeaseOperationsInFlight = 4
        let harness = try await Harness(Configuration(store: .file, transport: .webSocket), node: node)
        // The store is open, so the stream is served on its connection's loop from its first operation.
        #expect(try await harness.client.leases().isEmpty)
        let log = try LeaseLogTests.leaseDurableLog(try #require(harness.manager.openNodes.first?.store))
        log.holdWriter()
        let stream = try await harness.client.open(LeaseOperations())
        for i in 0..<10 { try await stream.send(Self.acquire("k\(i)", "h").encoded()) }
        // One connection's frames are read in order: once a later request is answered, all ten were decided.
        _ = try await harness.client.leases()
        log.releaseWriter()
        var answers: [LeaseResult] = []
        let error = await #expect(throws: StreamsError.self) {
            for _ in 0..<10 {
                guard let message = try await stream.receive() else { return }
                answers.append(try LeaseResult(decoding: message))
            }
        }
        #expect(error?.name == "limit_exceeded" && error?.message.contains("4 lease operations") == true, "\(String(describing: error))")
        #expect(answers.map(\.ok) == [true, true, true, true], "the four within the limit were answered first")
        #expect(try await harness.client.leases().map(\.key).sorted() == ["k0", "k1", "k2", "k3"], "and carried out")
        stream.close(error: nil)
        await harness.shutdown()
    }

    /// The first stream to a store that is not open yet waits for it in a task, and is then served on its
    /// loop; it is counted once as it starts, and ends once the client half-closes.
    @Test(arguments: configurations)
    func aStreamThatOpensItsStoreIsServedAndCountedOnce(_ configuration: Configuration) async throws {
        let metrics = DaemonMetrics()
        var node = NodeConfiguration()
        node.metrics = metrics
        let harness = try await Harness(configuration, node: node)
        let fresh = harness.client(for: .random())
        let operations = try await fresh.leaseOperations()
        #expect(try await operations.acquire(key: "k", holder: "h", ttl: .seconds(10)).ok)
        #expect(try await operations.perform([Self.renew("k", "h"), Self.release("k", "h")]).map(\.ok) == [true, true])
        #expect(metrics.streams.value(["lease_ops"]) == 1, "counted while open")
        await operations.close()
        #expect(await eventually { harness.manager.openNodes.allSatisfy { $0.openStreamCount == 0 } }, "the daemon ended it")
        #expect(metrics.streams.value(["lease_ops"]) == 1, "counted once")
        await harness.shutdown()
    }

    @Test func waitingOperationsFailWhenTheDaemonStops() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .webSocket))
        let operations = try await harness.client.leaseOperations()
        #expect(try await operations.acquire(key: "k", holder: "h", ttl: .seconds(10)).ok)
        await harness.manager.close()
        let error = await #expect(throws: StreamsError.self) {
            try await withDeadline { try await operations.release(key: "k", holder: "h") }
        }
        #expect(error?.name == StreamsError.shuttingDown.name, "\(String(describing: error))")
        await operations.close()
        await harness.shutdown()
    }
}
