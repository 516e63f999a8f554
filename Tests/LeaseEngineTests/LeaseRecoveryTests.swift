import LeaseEngine
import Testing

/// Runs the engine and keeps every event it asks to log, as the shell would.
private struct LoggedEngine {
    var engine = LeaseEngine()
    var log: [LeaseEvent] = []

    mutating func acquire(_ key: String, _ holder: String, ttlMs: Int64, boundTo: UInt64? = nil, now: Int64) {
        if let event = engine.acquire(key: key, holder: holder, ttl: .milliseconds(ttlMs), boundTo: boundTo, now: now).event {
            log.append(event)
        }
    }
}

@Test func recoveryRestoresLiveLeasesWithAFreshFullTTL() throws {
    var logged = LoggedEngine()
    logged.acquire("a", "h1", ttlMs: 10_000, now: 0)
    logged.acquire("b", "h2", ttlMs: 5_000, now: 0)
    let recovered = LeaseEngine.recover(from: logged.log, now: 4_000)
    #expect(recovered.lease(for: "a", now: 4_000)
        == LeaseGrant(key: "a", holder: "h1", token: 1, ttlMs: 10_000, deadline: 14_000, boundTo: nil))
    #expect(recovered.lease(for: "b", now: 4_000)?.deadline == 9_000)
    #expect(recovered.nextDeadline == 9_000)
    #expect(recovered.highestToken == 2)
}

@Test func recoveryDropsReleasedAndExpiredLeasesButKeepsTheirTokensSpent() throws {
    var logged = LoggedEngine()
    logged.acquire("a", "h1", ttlMs: 100, now: 0)
    logged.acquire("b", "h1", ttlMs: 200, now: 0)
    logged.log += logged.engine.tick(now: 100).events
    logged.log.append(try #require(logged.engine.release(key: "b", holder: "h1", now: 100).event))
    #expect(logged.log.count == 4)

    var recovered = LeaseEngine.recover(from: logged.log, now: 1_000_000)
    #expect(recovered.leaseCount == 0)
    #expect(recovered.highestToken == 2)
    #expect(recovered.acquire(key: "a", holder: "h2", ttl: .seconds(1), now: 1_000_000).grant?.token == 3)
}

@Test func recoveryRestoresBoundLeasesAsPlainTTLLeases() throws {
    var logged = LoggedEngine()
    logged.acquire("k", "h", ttlMs: 2_000, boundTo: 7, now: 0)
    var recovered = LeaseEngine.recover(from: logged.log, now: 50_000)
    let lease = try #require(recovered.lease(for: "k", now: 50_000))
    #expect(lease.boundTo == nil)
    #expect(lease.deadline == 52_000)
    #expect(recovered.workerEnded(7, now: 50_001).isEmpty)
    #expect(recovered.tick(now: 52_000).events == [.expired(key: "k", token: 1)])
}

@Test func recoveryKeepsTheLongestTTLAClientWasPromised() throws {
    var engine = LeaseEngine()
    var log: [LeaseEvent] = []
    log.append(try #require(engine.acquire(key: "k", holder: "h", ttl: .seconds(10), now: 0).event))
    // A renewal with a longer TTL is logged; had it not been, recovery would shorten the lease.
    log.append(try #require(engine.renew(key: "k", holder: "h", ttl: .seconds(60), now: 1_000).event))
    #expect(engine.renew(key: "k", holder: "h", ttl: .seconds(5), now: 2_000).event == nil)
    let recovered = LeaseEngine.recover(from: log, now: 3_000)
    #expect(recovered.lease(for: "k", now: 3_000)?.deadline == 63_000)
}

@Test func recoveryIgnoresEventsForSupersededTokens() {
    let log: [LeaseEvent] = [
        .granted(key: "k", holder: "a", token: 4, ttlMs: 1_000, boundTo: nil),
        .granted(key: "k", holder: "b", token: 9, ttlMs: 1_000, boundTo: nil),
        .expired(key: "k", token: 4),
        .released(key: "k", holder: "a", token: 4),
        .released(key: "absent", holder: "a", token: 12),
    ]
    let recovered = LeaseEngine.recover(from: log, now: 0)
    #expect(recovered.lease(for: "k", now: 0)?.holder == "b")
    #expect(recovered.lease(for: "k", now: 0)?.token == 9)
    #expect(recovered.highestToken == 12)
}

@Test func recoveryFromAnEmptyLogIsAnEmptyEngine() {
    let recovered = LeaseEngine.recover(from: [LeaseEvent](), now: 123)
    #expect(recovered.leaseCount == 0)
    #expect(recovered.highestToken == 0)
    #expect(recovered.nextDeadline == nil)
}

@Test func exhaustedTokenCounterRefusesNewGrantsInsteadOfWrapping() {
    let log: [LeaseEvent] = [.granted(key: "x", holder: "a", token: UInt64.max, ttlMs: 1_000, boundTo: nil)]
    var recovered = LeaseEngine.recover(from: log, now: 0)
    #expect(recovered.acquire(key: "y", holder: "a", ttl: .seconds(1), now: 0) == .reject(LeaseRejection(.tokensExhausted)))
    #expect(recovered.acquire(key: "x", holder: "a", ttl: .seconds(1), now: 0).grant?.token == UInt64.max)
}
