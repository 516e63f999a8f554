import CoordClient
import CoordTestKit
import Coordinator
import StreamCore
import Synchronization
import Testing

/// Leases (streamkit v1 §8.4, with coordd's fencing, durability and presence binding).
@Suite struct LeaseTests {
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
        let release = try await harness.client.release(key: "", holder: "h")
        #expect(release == LeaseResult(ok: false, message: "lease key must not be empty"))
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
        #expect(abs(expiresAt - (harness.wallClock.nowMs() + 30_000)) < 1_000)
        let fence = try #require(first.fence)
        let refused = try await client.acquire(key: "p-1", holder: "h1", ttl: .seconds(30))
        #expect(!refused.ok && refused.message.isEmpty, "plain contention carries no message, as streamkit")
        #expect(refused.holder == "h0" && refused.fence == fence)
        #expect(abs((refused.expiresAt ?? 0) - expiresAt) < 1_000, "a refusal says when the holder's lease ends")
        let again = try await client.acquire(key: "p-1", holder: "h0", ttl: .milliseconds(1_500))
        #expect(again.ok && again.fence == fence && again.ttlMs == 1_500, "a same-holder re-acquire keeps the token")
        #expect(try await client.renew(key: "p-1", holder: "h0", ttl: .seconds(10)).ok)
        #expect(!(try await client.renew(key: "p-1", holder: "h1", ttl: .seconds(10)).ok))
        #expect(!(try await client.release(key: "p-1", holder: "h1").ok))
        #expect(try await client.release(key: "p-1", holder: "h0").ok)
        let next = try await client.acquire(key: "p-1", holder: "h1", ttl: .seconds(30))
        #expect(next.ok && next.fence! > fence)
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func aLeaseExpiresOnTheServersClockAndANewHolderGetsAHigherToken(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        let first = try await client.acquire(key: "k", holder: "a", ttl: .milliseconds(100))
        #expect(await eventually { (try? await client.acquire(key: "k", holder: "b", ttl: .seconds(5)))?.ok == true })
        let listed = try await client.leases(prefix: "k")
        #expect(listed.map(\.holder) == ["b"] && listed[0].fence > first.fence!)
        #expect(!(try await client.renew(key: "k", holder: "a", ttl: .seconds(1)).ok))
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
        let harness = try await Harness(configuration)
        let client = harness.client
        let worker = WireUUID.random()
        #expect(try await client.acquire(key: "k", holder: "w", ttl: .seconds(1), workerID: worker).message
                == "worker \(worker) is not registered")
        let registration = try await client.registerWorker(id: worker)
        #expect(await eventually { (try? await client.status().workers) == 1 })
        let bound = try await client.acquire(key: "k", holder: "w", ttl: .milliseconds(50), workerID: worker)
        #expect(bound.ok && bound.expiresAt == nil, "bound leases have no deadline while the worker lives")
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await client.leases().map(\.holder) == ["w"], "no renewals needed while the worker lives")
        registration.close()
        #expect(await eventually { (try? await client.leases())?.isEmpty == true })
        #expect(try await client.acquire(key: "k", holder: "other", ttl: .seconds(5)).ok)
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func aPresenceBoundLeaseEndsWhenItsWorkerIsEvicted(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration, node: fastPresence())
        let id = WireUUID.random()
        // A worker that registers and then never renews: evicted after its 1.5 s TTL.
        let silent = try await WorkerStream.open(harness, SubscribeWorkers(workerID: id, heartbeatIntervalMs: 500))
        _ = try await silent.inventory()
        let bound = try await harness.client.acquire(key: "k", holder: "w", ttl: .seconds(60), workerID: id)
        #expect(bound.ok)
        #expect(await eventually(seconds: 6) { (try? await harness.client.leases())?.isEmpty == true })
        #expect(try await harness.client.status().workers == 0)
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func aFencedProduceIsRefusedAfterATakeoverAndAcceptedWithTheNewToken(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        await #expect(throws: StreamsError.self) {
            try await client.produce(space: "s", segment: "g", records: makeRecords(1), fence: Fence(key: "k", token: 1))
        }
        let old = try await client.acquire(key: "k", holder: "old", ttl: .seconds(1))
        let oldFence = Fence(key: "k", token: old.fence!)
        try await client.produce(space: "s", segment: "g", records: makeRecords(1), fence: oldFence)
        // The old holder pauses and its lease expires; a new holder takes over.
        #expect(await eventually(seconds: 6) { (try? await client.acquire(key: "k", holder: "new", ttl: .seconds(30)))?.ok == true })
        let new = try #require(try await client.leases(prefix: "k").first)
        do throws(StreamsError) {
            try await client.produce(space: "s", segment: "g", records: makeRecords(1, from: 2), fence: oldFence)
            Issue.record("the paused old holder must not write")
        } catch {
            #expect(error.name == "fence_mismatch" && error.code == .permanent)
            #expect(error.message.contains("stale") || error.message.contains("current"), "\(error.message)")
        }
        try await client.produce(space: "s", segment: "g", records: makeRecords(1, from: 2),
                                 fence: Fence(key: "k", token: new.fence))
        #expect(try await client.peek(space: "s", segment: "g").sequence == 2, "the refused write left nothing")
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func withLeaseRunsTheBodyWithTheFenceAndReleases(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        let fence = try await client.withLease(key: "job", ttl: .seconds(30)) { lease in
            let held = try await client.leases(prefix: "job").map(\.fence)
            #expect(held == [lease.fence])
            await #expect(throws: StreamsError.self) {
                try await client.withLease(key: "job", ttl: .seconds(30)) { _ in 0 }
            }
            return lease.fence
        }
        #expect(fence > 0)
        #expect(try await client.leases(prefix: "job").isEmpty, "released on exit")
        await harness.shutdown()
    }

    @Test(arguments: Configuration.all)
    func withLeaseCancelsTheBodyWhenTheLeaseIsLost(_ configuration: Configuration) async throws {
        let harness = try await Harness(configuration)
        let client = harness.client
        let started = ContinuousClock.now
        do {
            _ = try await client.withLease(key: "job", ttl: .milliseconds(300)) { lease in
                // Someone releases the lease behind the holder's back: the next renewal is refused.
                _ = try await client.release(key: lease.key, holder: lease.holder)
                try await Task.sleep(for: .seconds(10))
                return 0
            }
            Issue.record("the body must be cancelled")
        } catch let error as StreamsError {
            #expect(error.name == "lease_lost")
        }
        #expect(ContinuousClock.now - started < .seconds(2))
        await harness.shutdown()
    }
}
