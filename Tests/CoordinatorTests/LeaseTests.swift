import CoordClient
import CoordTestKit
@testable import Coordinator
import StreamCore
import Synchronization
import Testing

/// Leases (streamkit v1 §8.4, with coordd's fencing, durability and presence binding).
@Suite(.serialized) struct LeaseTests {
    @Test(arguments: [
        (LeaseTerms(key: "", holder: "h", ttlSeconds: 30), "lease key must not be empty"),
        (LeaseTerms(key: "k", holder: "", ttlSeconds: 30), "lease holder must not be empty"),
        (LeaseTerms(key: "k", holder: "h", ttlSeconds: 0), "ttl_seconds must be positive"),
        (LeaseTerms(key: "k", holder: "h", ttlSeconds: 86_401), "ttl_seconds exceeds maximum of 86400"),
        (LeaseTerms(key: "k", holder: "h", ttlSeconds: 1, ttlMs: -5), "ttl_ms must be positive"),
    ])
    func acquireValidationFailuresUseStreamkitsMessages(_ terms: LeaseTerms, _ message: String) async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: .inProcess))
        let stream = try await harness.client.open(LeaseAcquire(terms: terms))
        let result = try #require(try await stream.receive(LeaseResult.self))
        #expect(result == LeaseResult(ok: false, message: message))
        #expect(try await stream.receive() == nil, "one result, then a clean end")
        // The client turns a validation failure into an error of its own, distinct from a refusal.
        await #expect(throws: StreamsError.invalidRequest("lease key must not be empty")) {
            try await harness.client.release(key: "", holder: "h")
        }
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func acquireConflictRenewAndRelease(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        let first = try await client.acquire(key: "p-1", holder: "h0", ttl: .seconds(30))
        #expect(first.ok && first.holder == "h0" && first.ttlMs == 30_000)
        // The deadline is on the server's monotonic clock; expires_at shows it on the (manual) wall clock.
        let expiresAt = try #require(first.expiresAt)
        // (The server's monotonic clock runs on while the grant is made durable: allow for a slow disk.)
        #expect(expiresAt <= harness.wallClock.nowMs() + 30_000 && expiresAt > harness.wallClock.nowMs() + 20_000)
        let fence = try #require(first.fence)
        let refused = try await client.acquire(key: "p-1", holder: "h1", ttl: .seconds(30))
        #expect(!refused.ok && refused.message.isEmpty, "plain contention carries no message, as streamkit")
        #expect(refused.reason == "held")
        #expect(refused.holder == "h0" && refused.fence == fence)
        #expect(abs((refused.expiresAt ?? 0) - expiresAt) < 10_000, "a refusal says when the holder's lease ends")
        let again = try await client.acquire(key: "p-1", holder: "h0", ttl: .milliseconds(20_500))
        #expect(again.ok && again.fence == fence && again.ttlMs == 20_500, "a same-holder re-acquire keeps the token")
        #expect(try await client.renew(key: "p-1", holder: "h0", ttl: .seconds(10)).ok)
        #expect(!(try await client.renew(key: "p-1", holder: "h1", ttl: .seconds(10)).ok))
        #expect(!(try await client.release(key: "p-1", holder: "h1").ok))
        #expect(try await client.release(key: "p-1", holder: "h0").ok)
        let next = try await client.acquire(key: "p-1", holder: "h1", ttl: .seconds(30))
        #expect(next.ok && next.fence! > fence)
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func leasesAreListedByPrefixInKeyOrder(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        for key in ["part-2", "other", "part-1", "part-10"] {
            #expect(try await client.acquire(key: key, holder: "h-\(key)", ttl: .seconds(60)).ok)
        }
        let listed = try await client.leases(prefix: "part-")
        #expect(listed.map(\.key) == ["part-1", "part-10", "part-2"])
        #expect(listed.allSatisfy { $0.ttlMs == 60_000 && $0.expiresAt > 0 })
        #expect(try await client.leases().count == 4)
        #expect(try await client.leases(prefix: "part-", limit: 1).count == 1)
        #expect(try await client.status().leases == 4)
        await harness.shutdown()
    }

    @Test func leasesAndTokensSurviveRestarts() async throws {
        var harness = try await Harness(Configuration(store: .file, transport: .inProcess))
        let granted = try await harness.client.acquire(key: "leader", holder: "a", ttl: .seconds(60))
        var lastToken = try #require(granted.fence)
        harness = try await harness.restart()
        let refused = try await harness.client.acquire(key: "leader", holder: "b", ttl: .seconds(60))
        #expect(!refused.ok && refused.holder == "a" && refused.fence == lastToken, "still held after a restart")
        #expect(try await harness.client.renew(key: "leader", holder: "a", ttl: .seconds(60)).ok)
        for round in 0..<20 {
            harness = try await harness.restart()
            let holder = "h\(round)"
            #expect(try await harness.client.release(key: "leader", holder: round == 0 ? "a" : "h\(round - 1)").ok)
            let next = try await harness.client.acquire(key: "leader", holder: holder, ttl: .seconds(60))
            let token = try #require(next.fence)
            #expect(next.ok && token > lastToken, "round \(round): token \(token) after \(lastToken)")
            lastToken = token
        }
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func aPresenceBoundLeaseEndsWhenItsWorkerStreamCloses(_ configuration: Configuration) async throws {
        // The node's deadlines run on a manual clock: the lease's TTL passes when the test says so.
        let clock = ManualMonotonicClock(startMs: 0)
        var node = NodeConfiguration()
        node.monotonicClock = clock
        let harness = try await Harness(configuration, node: node)
        let client = harness.client
        let worker = WireUUID.random()
        #expect(try await client.acquire(key: "k", holder: "w", ttl: .seconds(1), workerID: worker)
                == LeaseResult(ok: false, reason: "worker_not_registered"))
        let registration = try await client.registerWorker(id: worker)
        #expect(await eventually { (try? await client.status().workers) == 1 })
        let bound = try await client.acquire(key: "k", holder: "w", ttl: .milliseconds(50), workerID: worker)
        #expect(bound.ok && bound.expiresAt == nil, "bound leases have no deadline while the worker lives")
        // Four TTLs later, once the store's timers have run and are parked again.
        clock.advance(byMs: 200)
        try await withDeadline(seconds: 30) { await clock.waitForSleepers(Node.timersOnTheClock) }
        #expect(try await client.leases().map(\.holder) == ["w"], "no renewals needed while the worker lives")
        registration.close()
        #expect(await eventually { (try? await client.leases())?.isEmpty == true })
        #expect(try await client.acquire(key: "k", holder: "other", ttl: .seconds(5)).ok)
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func withLeaseRunsTheBodyWithTheFenceAndReleases(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        let fence = try await client.withLease(key: "job", ttl: .seconds(30)) { lease in
            let held = try await client.leases(prefix: "job").map(\.fence)
            #expect(held == [lease.fence])
            await #expect(throws: CoordError.self) {
                try await client.withLease(key: "job", ttl: .seconds(30)) { _ in 0 }
            }
            return lease.fence
        }
        #expect(fence > 0)
        #expect(try await client.leases(prefix: "job").isEmpty, "released on exit")
        await harness.shutdown()
    }

}
