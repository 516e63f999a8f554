@testable import LeaseEngine
import Testing

@Test func massExpiryIsSpreadOverTicksOfAtMostTheBound() {
    var engine = LeaseEngine()
    let bound = engine.limits.maxExpiriesPerTick
    for index in 0..<5_000 {
        _ = engine.acquire(key: "p/\(index)", holder: "h", ttl: .seconds(10), now: 0)
    }
    var expired: [LeaseEvent] = []
    var ticks: [TickResult] = []
    // 5,000 / 1,024 needs five ticks; the loop allows a few more so a regression fails instead of hanging.
    for _ in 0..<10 {
        let result = engine.tick(now: 10_000)
        ticks.append(result)
        expired += result.events
        if !result.more { break }
    }
    #expect(ticks.map(\.events.count) == [bound, bound, bound, bound, 5_000 - 4 * bound])
    #expect(ticks.map(\.more) == [true, true, true, true, false])
    #expect(ticks.dropLast().allSatisfy { ($0.nextDeadline ?? .max) <= 10_000 }, "more means call again now")
    #expect(ticks.last?.nextDeadline == nil)
    #expect(Set(expired.map(\.key)).count == 5_000)
    #expect(engine.leaseCount == 0)
}

@Test func tickExpiresInDeadlineOrderAndReportsTheNextDeadline() {
    var engine = LeaseEngine()
    _ = engine.acquire(key: "late", holder: "h", ttl: .milliseconds(300), now: 0)
    _ = engine.acquire(key: "early", holder: "h", ttl: .milliseconds(100), now: 0)
    _ = engine.acquire(key: "middle", holder: "h", ttl: .milliseconds(200), now: 0)
    _ = engine.acquire(key: "last", holder: "h", ttl: .milliseconds(900), now: 0)
    #expect(engine.nextDeadline == 100)

    #expect(engine.tick(now: 99) == TickResult(events: [], nextDeadline: 100, more: false))
    let result = engine.tick(now: 300)
    #expect(result.events.map(\.key) == ["early", "middle", "late"])
    #expect(result.nextDeadline == 900)
    #expect(!result.more)
}

@Test func tickSkipsDeadlinesSupersededByRenewalAndRelease() {
    var engine = LeaseEngine()
    _ = engine.acquire(key: "renewed", holder: "h", ttl: .milliseconds(100), now: 0)
    _ = engine.acquire(key: "released", holder: "h", ttl: .milliseconds(100), now: 0)
    _ = engine.renew(key: "renewed", holder: "h", ttl: .milliseconds(100), now: 50)
    _ = engine.release(key: "released", holder: "h", now: 50)
    #expect(engine.tick(now: 100) == TickResult(events: [], nextDeadline: 150, more: false))
    #expect(engine.tick(now: 150).events == [.expired(key: "renewed", token: 1)])
}

@Test func tickBoundCountsExpiriesNotSupersededEntries() {
    var engine = LeaseEngine(limits: LeaseLimits(maxExpiriesPerTick: 2))
    for index in 0..<4 {
        _ = engine.acquire(key: "k\(index)", holder: "h", ttl: .milliseconds(10), now: 0)
        _ = engine.renew(key: "k\(index)", holder: "h", ttl: .milliseconds(20), now: 5)
    }
    let first = engine.tick(now: 25)
    #expect(first.events.count == 2)
    #expect(first.more)
    let second = engine.tick(now: 25)
    #expect(second.events.count == 2)
    #expect(!second.more)
}

@Test func expiryHeapStaysBoundedUnderConstantRenewal() {
    let limits = LeaseLimits(expiryHeapSlack: 16)
    var engine = LeaseEngine(limits: limits)
    _ = engine.acquire(key: "a", holder: "h", ttl: .seconds(60), now: 0)
    _ = engine.acquire(key: "b", holder: "h", ttl: .seconds(60), now: 0)
    var largest = 0
    for now in Int64(1)...10_000 {
        _ = engine.renew(key: now % 2 == 0 ? "a" : "b", holder: "h", ttl: .seconds(60), now: now)
        largest = max(largest, engine.expiryHeap.count)
    }
    #expect(largest <= 2 * engine.leaseCount + limits.expiryHeapSlack + 1)
    // "b" was last renewed at 9,999 and "a" at 10,000; the thousands of superseded entries expire nothing.
    #expect(engine.tick(now: 69_998).events.isEmpty)
    #expect(engine.tick(now: 69_999).events == [.expired(key: "b", token: 2)])
    #expect(engine.tick(now: 70_000) == TickResult(events: [.expired(key: "a", token: 1)], nextDeadline: nil, more: false))
}
