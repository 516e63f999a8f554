import LeaseEngine
import Testing

/// The engine and a watch registry driven together the way the shell drives them: every event the engine
/// returns goes to the registry with the key's lease after it. Time is a parameter; nothing sleeps.
private struct Watched {
    var engine = LeaseEngine()
    var registry = LeaseWatchRegistry(limits: LeaseWatchLimits(maxWatchers: 4))

    mutating func publish(_ events: [LeaseEvent], now: Int64) -> [LeaseWatchNotification] {
        events.compactMap { registry.notification(for: $0, current: engine.lease(for: $0.key, now: now)) }
    }

    mutating func acquire(_ key: String, _ holder: String, ttlMs: Int64, now: Int64) -> [LeaseWatchNotification] {
        publish([engine.acquire(key: key, holder: holder, ttl: .milliseconds(ttlMs), now: now).event].compactMap { $0 }, now: now)
    }

    mutating func release(_ key: String, _ holder: String, now: Int64) -> [LeaseWatchNotification] {
        guard case .appendToLog(let event) = engine.release(key: key, holder: holder, now: now) else { return [] }
        return publish([event], now: now)
    }

    mutating func watch(_ key: String, now: Int64) throws -> (UInt64, LeaseWatchChange) {
        try registry.watch(key: key, current: engine.lease(for: key, now: now)).get()
    }
}

@Test func aWatchStartsWithTheKeysCurrentState() throws {
    var w = Watched()
    let (_, free) = try w.watch("k", now: 0)
    #expect(free == .current(key: "k", lease: nil))
    _ = w.acquire("k", "a", ttlMs: 1_000, now: 10)
    let (_, held) = try w.watch("k", now: 20)
    guard case .current("k", let lease?) = held else {
        Issue.record("expected the held lease, got \(held)")
        return
    }
    #expect(lease.holder == "a" && lease.token == 1 && lease.deadline == 1_010)
}

@Test func releaseGrantAndExpiryReachEveryWatcherOfTheKeyOnly() throws {
    var w = Watched()
    let (first, _) = try w.watch("k", now: 0)
    let (second, _) = try w.watch("k", now: 0)
    let (other, _) = try w.watch("other", now: 0)

    let granted = w.acquire("k", "a", ttlMs: 1_000, now: 100)
    #expect(granted.count == 1 && granted[0].watchers == [first, second])
    guard case .granted(let grant) = granted[0].change else {
        Issue.record("expected a grant, got \(granted)")
        return
    }
    #expect(grant.holder == "a" && grant.token == 1 && grant.deadline == 1_100)

    #expect(w.release("k", "a", now: 200) == [
        LeaseWatchNotification(watchers: [first, second], change: .released(key: "k", holder: "a", token: 1)),
    ])
    _ = w.acquire("k", "b", ttlMs: 50, now: 300)
    let tick = w.engine.tick(now: 350)
    #expect(w.publish(tick.events, now: 350) == [
        LeaseWatchNotification(watchers: [first, second], change: .expired(key: "k", token: 2)),
    ])
    #expect(w.acquire("other", "c", ttlMs: 1_000, now: 400).map(\.watchers) == [[other]])
}

@Test func renewalsAndSameHolderReacquiresAreNotReported() throws {
    var w = Watched()
    _ = try w.watch("k", now: 0)
    #expect(w.acquire("k", "a", ttlMs: 1_000, now: 0).count == 1)
    #expect(w.acquire("k", "a", ttlMs: 5_000, now: 500).isEmpty, "same holder, same token")
    // A renewal that lengthens the TTL is logged as a grant with the same token: not a change of holder.
    if case .appendToLog(let event, _) = w.engine.renew(key: "k", holder: "a", ttl: .seconds(60), now: 600) {
        #expect(w.publish([event], now: 600).isEmpty)
    } else {
        Issue.record("a longer renewal is logged")
    }
}

@Test func aWatcherAddedToAWatchedKeyDoesNotResetWhatOthersWereTold() throws {
    var w = Watched()
    _ = try w.watch("k", now: 0)
    _ = w.acquire("k", "a", ttlMs: 1_000, now: 0)
    _ = try w.watch("k", now: 10)
    #expect(w.acquire("k", "a", ttlMs: 1_000, now: 20).isEmpty)
}

@Test func unwatchedKeysCostNothingAndUnwatchForgets() throws {
    var w = Watched()
    #expect(w.acquire("k", "a", ttlMs: 1_000, now: 0).isEmpty)
    let (id, _) = try w.watch("k", now: 0)
    w.registry.unwatch(id)
    w.registry.unwatch(id)
    #expect(w.registry.watcherCount == 0)
    #expect(w.release("k", "a", now: 10).isEmpty)
}

@Test func watchesAreValidatedAndBounded() throws {
    var w = Watched()
    #expect(throws: LeaseWatchRejection.invalid("lease key must not be empty")) { try w.watch("", now: 0) }
    let long = String(repeating: "x", count: LeaseLimits().maxKeyBytes + 1)
    #expect(throws: LeaseWatchRejection.invalid("lease key exceeds maximum of 1024 bytes")) { try w.watch(long, now: 0) }
    for index in 0..<4 { _ = try w.watch("k\(index)", now: 0) }
    #expect(throws: LeaseWatchRejection.tooManyWatchers(4)) { try w.watch("k", now: 0) }
}

@Test func aGrantWhoseTTLHasRunOutIsReportedWithoutADeadline() throws {
    var w = Watched()
    _ = try w.watch("k", now: 0)
    guard let event = w.engine.acquire(key: "k", holder: "a", ttl: .milliseconds(1), now: 0).event else {
        Issue.record("granted")
        return
    }
    // The shell asks for the key's lease a moment later, when it has already expired.
    let notification = try #require(w.publish([event], now: 5).first)
    #expect(notification.change == .granted(LeaseGrant(key: "k", holder: "a", token: 1, ttlMs: 1, deadline: nil, boundTo: nil)))
}
