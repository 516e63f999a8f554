@testable import CoordClient
import CoordTestKit
import CorePrimitives
import Coordinator
import StreamCore
import Testing
import Synchronization
import Transport

/// The `lease_renewals` stream: many renewals on one stream, answered in order, whether the daemon
/// decides them on the connection's loop (network transports; a logged one answered once durable) or in
/// a task (in process).
@Suite(.serialized) struct LeaseRenewalsTests {
    static let configurations = [
        Configuration(store: .file, transport: .webSocket), Configuration(store: .file, transport: .inProcess),
        Configuration(store: .memory, transport: .webSocketTLS),
    ]

    @Test(arguments: configurations)
    func renewalsAreAnsweredInOrderAndALoggedOneIsDurable(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        for key in ["a", "b"] { #expect(try await client.acquire(key: key, holder: "h", ttl: .seconds(10)).ok) }
        let renewals = try await client.leaseRenewals()

        let batch = try await renewals.renew(keys: ["a", "b", "a", "nobody"], holder: "h", ttl: .seconds(10))
        #expect(batch.map(\.ok) == [true, true, true, false])
        #expect(batch.map(\.fence) == [1, 2, 1, nil] && batch[3].reason == "not_held")

        // A longer TTL is logged and answered once durable; the renewals behind it wait for it, in order.
        async let longer = renewals.renew(key: "a", holder: "h", ttl: .seconds(60))
        async let after = renewals.renew(keys: ["b", "a"], holder: "h", ttl: .seconds(10))
        let (logged, following) = try await (longer, after)
        #expect(logged.ok && logged.ttlMs == 60_000)
        #expect(following.map(\.ok) == [true, true])
        // The logged renewal was answered from the log's writer thread: the stream goes on in order.
        #expect(try await renewals.renew(key: "b", holder: "h", ttl: .seconds(10)).ok)
        await #expect(throws: StreamsError.self, "an invalid renewal throws, as a single renew does") {
            try await renewals.renew(key: "b", holder: "", ttl: .seconds(10))
        }
        #expect(try await renewals.renew(key: "a", holder: "other", ttl: .seconds(10)).reason == "held")
        await renewals.close()
        await #expect(throws: StreamsError.self, "a closed stream renews nothing") {
            try await renewals.renew(key: "a", holder: "h", ttl: .seconds(10))
        }

        if configuration.store == .file {
            let reopened = try await harness.restart()
            let leases = try await reopened.client.leases()
            #expect(leases.first { $0.key == "a" }?.ttlMs == 60_000, "the logged renewal's TTL came back")
            await reopened.shutdown()
        } else {
            await harness.shutdown()
        }
    }

    /// A renewals stream is counted as started when it opens, not when it ends: it may stay open for
    /// hours, renewing on the connection's loop or, after a logged renewal, in a task.
    @Test(arguments: configurations)
    func aRenewalsStreamIsCountedOnceAsItStarts(_ configuration: Configuration) async throws {
        let metrics = DaemonMetrics()
        var node = NodeConfiguration()
        node.metrics = metrics
        let harness = try await Harness(configuration, node: node)
        let started = { metrics.streams.value(["lease_renewals"]) }
        #expect(try await harness.client.acquire(key: "k", holder: "h", ttl: .seconds(10)).ok)
        let renewals = try await harness.client.leaseRenewals()
        #expect(try await renewals.renew(key: "k", holder: "h", ttl: .seconds(10)).ok)
        #expect(started() == 1, "counted while open")
        #expect(try await renewals.renew(key: "k", holder: "h", ttl: .seconds(60)).ok, "logged: answered once durable")
        #expect(try await renewals.renew(key: "k", holder: "h", ttl: .seconds(60)).ok)
        await renewals.close()
        #expect(await eventually { harness.manager.openNodes.allSatisfy { $0.openStreamCount == 0 } }, "the daemon ended it")
        #expect(started() == 1, "counted once")
        await harness.shutdown()
    }

    @Test(arguments: configurations)
    func aMessageThatIsNoRenewalEndsTheStreamAndItsWaiters(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        #expect(try await harness.client.acquire(key: "k", holder: "h", ttl: .seconds(10)).ok)
        let renewals = try await harness.client.leaseRenewals()
        #expect(try await renewals.renew(key: "k", holder: "h", ttl: .seconds(10)).ok)
        let error = await #expect(throws: StreamsError.self) {
            try await renewals.renew(key: "$assign/g/0", holder: "h", ttl: .seconds(10))
        }
        #expect(error?.name == "invalid_request", "\(String(describing: error))")
        await #expect(throws: StreamsError.self, "the stream ended: later renewals fail too") {
            try await renewals.renew(key: "k", holder: "h", ttl: .seconds(10))
        }
        await renewals.close()
        await harness.shutdown()
    }

    @Test func waitingRenewalsFailWhenTheDaemonStops() async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .webSocket))
        #expect(try await harness.client.acquire(key: "k", holder: "h", ttl: .seconds(10)).ok)
        let renewals = try await harness.client.leaseRenewals()
        #expect(try await renewals.renew(key: "k", holder: "h", ttl: .seconds(10)).ok)
        await harness.manager.close()
        let error = await #expect(throws: StreamsError.self) {
            try await withDeadline { try await renewals.renew(key: "k", holder: "h", ttl: .seconds(10)) }
        }
        #expect(error?.name == StreamsError.shuttingDown.name, "\(String(describing: error))")
        await renewals.close()
        await harness.shutdown()
    }

    @Test func aCancelledRenewalThrowsAtOnceAndItsLateAnswerGoesToNobodyElse() async throws {
        // A server that holds its answers until told, then answers each renewal with its ordinal as the fence.
        let received = Atomic<Int>(0)
        let release = Latch()
        let provider = ScriptedProvider { stream throws(StreamsError) in
            var answered: UInt64 = 0
            while try await stream.receive() != nil {
                received.add(1, ordering: .relaxed)
                await release.wait()
                answered += 1
                try await stream.send(LeaseResult(ok: true, fence: answered, holder: "h"))
            }
            stream.close(error: nil)
        }
        let renewals = try await CoordClient(provider: provider).leaseRenewals()
        let first = Task { try await renewals.renew(key: "k", holder: "h", ttl: .seconds(10)) }
        #expect(await eventually { received.load(ordering: .relaxed) == 1 }, "the first renewal reached the server")
        first.cancel()
        let error = await StreamsError.of { _ = try await withDeadline(seconds: 10) { try await first.value } }
        #expect(error == .cancelled, "\(String(describing: error))")

        let second = Task { try await renewals.renew(key: "k", holder: "h", ttl: .seconds(10)) }
        release.open()
        let answer = try await withDeadline(seconds: 10) { try await second.value }
        #expect(answer.fence == 2, "the second renewal gets the second answer, not the cancelled one's")
        await renewals.close()
    }

    /// `withLease`'s renewals share a `lease_renewals` stream; a server without it (an older coordd, or a
    /// streamkit server, which names the refusal only in its text) gets each renewal on a stream of its own,
    /// after one refusal.
    @Test(arguments: ExtensionlessProvider.Server.allCases)
    func keptLeasesAreRenewedOnAStreamEachByAServerWithoutTheStream(_ server: ExtensionlessProvider.Server) async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess))
        let provider = ExtensionlessProvider(harness.provider, refusing: [LeaseRenewals.self], as: server)
        let client = CoordClient(provider: provider, store: harness.store)
        #expect(try await client.acquire(key: "k", holder: "h", ttl: .seconds(10)).ok)
        client.leaseKeepers.begin()
        for _ in 0..<3 {
            let answer = try await withDeadline { try await client.leaseKeepers.renew(key: "k", holder: "h", ttl: .seconds(10), client: client) }
            #expect(answer.ok)
        }
        client.leaseKeepers.end()
        #expect(provider.opened(LeaseRenewals.self) == 1, "refused once")
        #expect(provider.opened(LeaseRenew.self) == 3)
        await harness.shutdown()
    }
}
