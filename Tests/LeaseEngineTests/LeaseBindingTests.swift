import LeaseEngine
import Testing

@Test func boundLeaseHasNoDeadlineAndNeverExpiresByTime() throws {
    var engine = LeaseEngine()
    let grant = try #require(engine.acquire(key: "k", holder: "a", ttl: .milliseconds(1), boundTo: 7, now: 0).grant)
    #expect(grant.deadline == nil)
    #expect(grant.boundTo == 7)
    let tick = engine.tick(now: 86_400_000 * 365)
    #expect(tick.events.isEmpty)
    #expect(tick.nextDeadline == nil)
    #expect(engine.lease(for: "k", now: 86_400_000 * 365)?.holder == "a")
    #expect(engine.checkFence(key: "k", token: grant.token, now: 86_400_000 * 365) == .ok)
    #expect(engine.acquire(key: "k", holder: "b", ttl: .seconds(1), now: 86_400_000).rejection?.current == grant)
}

@Test func workerEndedReleasesEveryLeaseBoundToItAndNoOther() {
    var engine = LeaseEngine()
    _ = engine.acquire(key: "b", holder: "w7", ttl: .seconds(1), boundTo: 7, now: 0)
    _ = engine.acquire(key: "a", holder: "w7", ttl: .seconds(1), boundTo: 7, now: 0)
    _ = engine.acquire(key: "c", holder: "w8", ttl: .seconds(1), boundTo: 8, now: 0)
    _ = engine.acquire(key: "d", holder: "w7", ttl: .seconds(100), now: 0)

    let events = engine.workerEnded(7, now: 50)
    #expect(events == [.released(key: "a", holder: "w7", token: 2), .released(key: "b", holder: "w7", token: 1)])
    #expect(engine.list(now: 50).map(\.key) == ["c", "d"])
    #expect(engine.workerEnded(7, now: 60).isEmpty)
    #expect(engine.workerEnded(99, now: 60).isEmpty)
}

@Test func sameHolderReacquireCanUnbindAndRebind() throws {
    var engine = LeaseEngine()
    let bound = try #require(engine.acquire(key: "k", holder: "a", ttl: .seconds(1), boundTo: 7, now: 0).grant)

    let unbound = try #require(engine.acquire(key: "k", holder: "a", ttl: .seconds(1), now: 10).grant)
    #expect(unbound.token == bound.token)
    #expect(unbound.deadline == 1_010)
    #expect(unbound.boundTo == nil)
    #expect(engine.workerEnded(7, now: 20).isEmpty, "an unbound lease no longer ends with its old worker")

    let rebound = engine.acquire(key: "k", holder: "a", ttl: .seconds(1), boundTo: 8, now: 30)
    #expect(rebound.event == .granted(key: "k", holder: "a", token: bound.token, ttlMs: 1_000, boundTo: 8))
    #expect(engine.tick(now: 1_010).events.isEmpty, "the unbound deadline was superseded by binding")
    #expect(engine.workerEnded(8, now: 40) == [.released(key: "k", holder: "a", token: bound.token)])
}

@Test func renewingABoundLeaseKeepsItBound() {
    var engine = LeaseEngine()
    _ = engine.acquire(key: "k", holder: "a", ttl: .seconds(1), boundTo: 7, now: 0)
    let renewed = engine.renew(key: "k", holder: "a", ttl: .seconds(1), now: 5_000)
    #expect(renewed == .renewed(LeaseGrant(key: "k", holder: "a", token: 1, ttlMs: 1_000, deadline: nil, boundTo: 7)))
    #expect(engine.workerEnded(7, now: 6_000).count == 1)
}

@Test func releasingABoundLeaseForgetsTheBinding() {
    var engine = LeaseEngine()
    _ = engine.acquire(key: "k", holder: "a", ttl: .seconds(1), boundTo: 7, now: 0)
    #expect(engine.release(key: "k", holder: "a", now: 1).event == .released(key: "k", holder: "a", token: 1))
    _ = engine.acquire(key: "k", holder: "b", ttl: .seconds(1), now: 2)
    #expect(engine.workerEnded(7, now: 3).isEmpty, "the worker must not release a lease it no longer holds")
    #expect(engine.lease(for: "k", now: 3)?.holder == "b")
}
