import CoordClient
import CoordTestKit
@testable import Coordinator
import StreamCore
import Testing

/// streamkit fills `LeaseResult.message` only for validation failures (v1 §2.2, §5.1); coordd says why it
/// refused a valid request in `reason` instead, and its SDK tells the two apart.
@Suite(.serialized) struct LeaseRefusalTests {
    /// The exact bytes of the one answer to `request`.
    static func answer(_ harness: Harness, _ request: some RequestMessage) async throws -> String {
        let stream = try await harness.client.open(request)
        defer { stream.close(error: nil) }
        let bytes = try #require(try await withDeadline { try await stream.receive() })
        return String(decoding: bytes, as: UTF8.self)
    }

    static func terms(_ key: String, _ holder: String, seconds: Int64 = 30) -> LeaseTerms {
        LeaseTerms(key: key, holder: holder, ttlSeconds: seconds)
    }

    @Test(arguments: Configuration.all)
    func everyRefusalOfAValidRequestHasNoMessageAndAReason(_ configuration: Configuration) async throws {
        let clock = ManualMonotonicClock(startMs: 1_000)
        var node = NodeConfiguration()
        node.monotonicClock = clock
        let harness = try await Harness(configuration, node: node)
        let wall = harness.wallClock.nowMs()
        #expect(try await harness.client.acquire(key: "k", holder: "h0", ttl: .seconds(60)).ok)

        let held = #"{"ok":false,"reason":"held","fence":1,"holder":"h0","expires_at":\#(wall + 60_000),"ttl_ms":60000}"#
        #expect(try await Self.answer(harness, LeaseAcquire(terms: Self.terms("k", "h1"))) == held)
        #expect(try await Self.answer(harness, LeaseRenew(terms: Self.terms("k", "h1"))) == held)
        #expect(try await Self.answer(harness, LeaseRelease(key: "k", holder: "h1")) == held)
        let notHeld = #"{"ok":false,"reason":"not_held"}"#
        #expect(try await Self.answer(harness, LeaseRenew(terms: Self.terms("none", "h0"))) == notHeld)
        #expect(try await Self.answer(harness, LeaseRelease(key: "none", holder: "h0")) == notHeld)
        #expect(try await Self.answer(harness, LeaseAcquire(terms: Self.terms("w", "h0"), workerID: .random()))
                == #"{"ok":false,"reason":"worker_not_registered"}"#)
        // Past its deadline the ticker (asleep on the manual clock) wakes and expires it; once the store's
        // timers are parked again, the holder's renewal finds nothing held.
        clock.advance(byMs: 60_000)
        try await withDeadline(seconds: 30) { await clock.waitForSleepers(Node.timersOnTheClock) }
        #expect(try await Self.answer(harness, LeaseRenew(terms: Self.terms("k", "h0"))) == notHeld)
        // Validation failures keep streamkit's texts and carry no reason.
        #expect(try await Self.answer(harness, LeaseAcquire(terms: Self.terms("k", "h0", seconds: 0)))
                == #"{"ok":false,"message":"ttl_seconds must be positive"}"#)
        #expect(try await Self.answer(harness, LeaseRelease(key: "", holder: "h0"))
                == #"{"ok":false,"message":"lease key must not be empty"}"#)
        await harness.shutdown()
    }

    /// Between a lease's deadline and the ticker's turn (no ticker runs here), its holder's renewal is
    /// refused as expired.
    @Test func aRenewalAfterTheDeadlineBeforeTheTickerIsRefusedAsExpired() async throws {
        let clock = ManualMonotonicClock(startMs: 1_000)
        let leases = try await LeaseLogTests.service(MemoryStore(), clock: clock)
        #expect(try await LeaseLogTests.acquire(leases, "k", "h0", ttlMs: 5_000).ok)
        clock.advance(byMs: 5_000)
        let answer = try await leases.renew(LeaseRenew(terms: Self.terms("k", "h0")))
        #expect(String(decoding: answer.encoded(), as: UTF8.self) == #"{"ok":false,"reason":"expired"}"#)
    }

    @Test(arguments: [TransportKind.inProcess, .webSocket])
    func theClientThrowsInvalidRequestForAValidationFailureAndReturnsARefusal(_ transport: TransportKind) async throws {
        let harness = try await Harness(Configuration(store: .memory, transport: transport))
        let client = harness.client
        await #expect(throws: StreamsError.invalidRequest("ttl_seconds exceeds maximum of 86400")) {
            _ = try await client.acquire(key: "k", holder: "h", ttl: .seconds(86_401))
        }
        await #expect(throws: StreamsError.invalidRequest("lease holder must not be empty")) {
            _ = try await client.renew(key: "k", holder: "", ttl: .seconds(1))
        }
        let refused = try await client.release(key: "k", holder: "h")
        #expect(refused == LeaseResult(ok: false, reason: "not_held"), "a refusal is an answer, not an error")

        await #expect(throws: CoordError.invalidRequest("ttl_seconds exceeds maximum of 86400")) {
            _ = try await client.withLease(key: "job", ttl: .seconds(86_401)) { _ in 0 }
        }
        let other = try await client.acquire(key: "job", holder: "other", ttl: .seconds(30))
        #expect(other.ok)
        do {
            _ = try await client.withLease(key: "job", ttl: .seconds(30)) { _ in 0 }
            Issue.record("the lease is held by another holder")
        } catch let error as CoordError {
            guard case let .leaseNotAcquired(key, reason, holder, fence, expiresAt) = error else {
                Issue.record("expected leaseNotAcquired, got \(error)")
                return
            }
            #expect(key == "job" && reason == "held" && holder == "other" && fence == other.fence && expiresAt != nil)
            #expect(error.isTransient && error.name == "lease_not_acquired")
            #expect(error.description.hasPrefix("lease \"job\" not acquired: held by other (fence 1) until "), "\(error)")
        }
        await harness.shutdown()
    }
}
