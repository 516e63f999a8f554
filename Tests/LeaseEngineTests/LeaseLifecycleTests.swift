import LeaseEngine
import Testing

@Test func leaseIsLiveOneMillisecondBeforeDeadlineAndExpiredExactlyAtIt() throws {
    var engine = LeaseEngine()
    let grant = try #require(engine.acquire(key: "p/1", holder: "a", ttl: .seconds(30), now: 1_000).grant)
    #expect(grant.deadline == 31_000)

    #expect(engine.lease(for: "p/1", now: 30_999)?.holder == "a")
    #expect(engine.checkFence(key: "p/1", token: grant.token, now: 30_999) == .ok)
    #expect(engine.acquire(key: "p/1", holder: "b", ttl: .seconds(30), now: 30_999).rejection != nil)

    #expect(engine.lease(for: "p/1", now: 31_000) == nil)
    #expect(engine.checkFence(key: "p/1", token: grant.token, now: 31_000) == .expired(token: grant.token))
    let next = try #require(engine.acquire(key: "p/1", holder: "b", ttl: .seconds(30), now: 31_000).grant)
    #expect(next.token == grant.token + 1)
}

@Test func oneMillisecondTTLGrantsALeaseForOneMillisecond() throws {
    var engine = LeaseEngine()
    let grant = try #require(engine.acquire(key: "k", holder: "a", ttl: .milliseconds(1), now: 500).grant)
    #expect(grant.deadline == 501)
    #expect(grant.ttlMs == 1)
    #expect(engine.lease(for: "k", now: 500) != nil)
    #expect(engine.lease(for: "k", now: 501) == nil)
    #expect(engine.tick(now: 500).events.isEmpty)
    #expect(engine.tick(now: 501).events == [.expired(key: "k", token: grant.token)])
}

@Test func grantEventCarriesWhatRecoveryNeeds() {
    var engine = LeaseEngine()
    let action = engine.acquire(key: "k", holder: "a", ttl: .seconds(2), now: 0)
    #expect(action.event == .granted(key: "k", holder: "a", token: 1, ttlMs: 2_000, boundTo: nil))
    #expect(action.grant == LeaseGrant(key: "k", holder: "a", token: 1, ttlMs: 2_000, deadline: 2_000, boundTo: nil))
}

@Test func sameHolderReacquireKeepsTokenAndRefreshesDeadline() throws {
    var engine = LeaseEngine()
    let first = try #require(engine.acquire(key: "k", holder: "a", ttl: .seconds(10), now: 0).grant)
    let again = engine.acquire(key: "k", holder: "a", ttl: .seconds(20), now: 9_000)
    #expect(again.grant?.token == first.token)
    #expect(again.grant?.deadline == 29_000)
    #expect(again.event == .granted(key: "k", holder: "a", token: first.token, ttlMs: 20_000, boundTo: nil))
    #expect(engine.highestToken == first.token)
}

@Test func sameHolderReacquireAfterExpiryGetsANewToken() throws {
    var engine = LeaseEngine()
    let first = try #require(engine.acquire(key: "k", holder: "a", ttl: .seconds(1), now: 0).grant)
    let again = try #require(engine.acquire(key: "k", holder: "a", ttl: .seconds(1), now: 1_000).grant)
    #expect(again.token > first.token)
}

@Test func differentHolderAfterExpiryGetsAHigherToken() throws {
    var engine = LeaseEngine()
    let first = try #require(engine.acquire(key: "k", holder: "a", ttl: .seconds(1), now: 0).grant)
    _ = engine.tick(now: 1_000)
    #expect(engine.leaseCount == 0, "an expired lease leaves nothing behind")
    let second = try #require(engine.acquire(key: "k", holder: "b", ttl: .seconds(1), now: 1_000).grant)
    #expect(second.token > first.token)
}

@Test func fencingTokensComeFromOneEngineWideCounter() {
    var engine = LeaseEngine()
    #expect(engine.acquire(key: "x", holder: "a", ttl: .seconds(1), now: 0).grant?.token == 1)
    #expect(engine.acquire(key: "y", holder: "a", ttl: .seconds(1), now: 0).grant?.token == 2)
    #expect(engine.acquire(key: "x", holder: "a", ttl: .seconds(1), now: 0).grant?.token == 1)
    #expect(engine.highestToken == 2)
}

@Test func refusedAcquireReportsCurrentHolderTokenAndDeadlineWithEmptyMessage() throws {
    var engine = LeaseEngine()
    let held = try #require(engine.acquire(key: "k", holder: "a", ttl: .seconds(5), now: 100).grant)
    let rejection = try #require(engine.acquire(key: "k", holder: "b", ttl: .seconds(5), now: 200).rejection)
    #expect(rejection.message == "")
    #expect(rejection.current == held)
    #expect(rejection.current?.deadline == 5_100)
    #expect(engine.lease(for: "k", now: 200)?.holder == "a")
    #expect(engine.highestToken == held.token)
}

@Test func releaseByNonHolderIsRefusedAndKeepsTheLease() throws {
    var engine = LeaseEngine()
    let held = try #require(engine.acquire(key: "k", holder: "a", ttl: .seconds(5), now: 0).grant)
    #expect(engine.release(key: "k", holder: "b", now: 10) == .reject(LeaseRejection(.held, current: held)))
    #expect(engine.release(key: "other", holder: "a", now: 10) == .reject(LeaseRejection(.notHeld)))
    #expect(engine.lease(for: "k", now: 10) == held)
}

@Test func releaseByHolderFreesTheKeyForAHigherToken() throws {
    var engine = LeaseEngine()
    let held = try #require(engine.acquire(key: "k", holder: "a", ttl: .seconds(5), now: 0).grant)
    #expect(engine.release(key: "k", holder: "a", now: 10) == .appendToLog(.released(key: "k", holder: "a", token: held.token)))
    #expect(engine.lease(for: "k", now: 10) == nil)
    #expect(engine.checkFence(key: "k", token: held.token, now: 10) == .noLease)
    let next = try #require(engine.acquire(key: "k", holder: "b", ttl: .seconds(5), now: 10).grant)
    #expect(next.token > held.token)
}

@Test func expiredButUnsweptLeaseMayStillBeReleasedByItsHolder() {
    var engine = LeaseEngine()
    _ = engine.acquire(key: "k", holder: "a", ttl: .seconds(1), now: 0)
    #expect(engine.release(key: "k", holder: "b", now: 5_000) == .reject(LeaseRejection(.notHeld)))
    #expect(engine.release(key: "k", holder: "a", now: 5_000) == .appendToLog(.released(key: "k", holder: "a", token: 1)))
    #expect(engine.tick(now: 5_000).events.isEmpty, "a released lease must not also expire")
}

@Test func renewExtendsTheDeadlineWithoutLogging() throws {
    var engine = LeaseEngine()
    _ = engine.acquire(key: "k", holder: "a", ttl: .seconds(10), now: 0)
    let renewed = engine.renew(key: "k", holder: "a", ttl: .seconds(10), now: 9_999)
    #expect(renewed == .renewed(LeaseGrant(key: "k", holder: "a", token: 1, ttlMs: 10_000, deadline: 19_999, boundTo: nil)))
    #expect(engine.tick(now: 10_000).events.isEmpty, "the superseded deadline must not expire a renewed lease")
    #expect(engine.lease(for: "k", now: 19_998) != nil)
    #expect(engine.tick(now: 19_999).events == [.expired(key: "k", token: 1)])
}

@Test func renewWithShorterTTLIsNotLoggedAndLongerTTLIs() {
    var engine = LeaseEngine()
    _ = engine.acquire(key: "k", holder: "a", ttl: .seconds(10), now: 0)
    let shorter = engine.renew(key: "k", holder: "a", ttl: .seconds(5), now: 1_000)
    #expect(shorter.event == nil)
    #expect(shorter.grant?.deadline == 6_000)
    let longer = engine.renew(key: "k", holder: "a", ttl: .seconds(30), now: 2_000)
    #expect(longer.event == .granted(key: "k", holder: "a", token: 1, ttlMs: 30_000, boundTo: nil))
    #expect(longer.grant?.deadline == 32_000)
    #expect(engine.renew(key: "k", holder: "a", ttl: .seconds(30), now: 3_000).event == nil)
}

@Test func renewByNonHolderIsRefusedWithTheCurrentLease() throws {
    var engine = LeaseEngine()
    let held = try #require(engine.acquire(key: "k", holder: "a", ttl: .seconds(10), now: 0).grant)
    #expect(engine.renew(key: "k", holder: "b", ttl: .seconds(10), now: 1) == .reject(LeaseRejection(.held, current: held)))
    #expect(engine.renew(key: "none", holder: "a", ttl: .seconds(10), now: 1) == .reject(LeaseRejection(.notHeld)))
    #expect(engine.lease(for: "k", now: 1) == held)
}

@Test func renewAfterExpiryIsRefused() {
    var engine = LeaseEngine()
    _ = engine.acquire(key: "k", holder: "a", ttl: .seconds(10), now: 0)
    #expect(engine.renew(key: "k", holder: "a", ttl: .seconds(10), now: 10_000) == .reject(LeaseRejection(.expired)))
    #expect(engine.lease(for: "k", now: 10_000) == nil)
}

@Test func fenceCheckNamesTheCurrentTokenWhenPresentedOneIsStale() throws {
    var engine = LeaseEngine()
    _ = engine.acquire(key: "k", holder: "a", ttl: .seconds(1), now: 0)
    let current = try #require(engine.acquire(key: "k", holder: "b", ttl: .seconds(1), now: 1_000).grant)
    let check = engine.checkFence(key: "k", token: 1, now: 1_001)
    #expect(check == .tokenMismatch(presented: 1, current: current.token))
    #expect(check.message == "fencing token 1 is stale: current is 2")
    #expect(!check.isOK)
    #expect(engine.checkFence(key: "k", token: 2, now: 1_001).isOK)
    #expect(engine.checkFence(key: "k", token: 9, now: 1_001).message
        == "fencing token 9 was not issued for this lease: current is 2")
    #expect(engine.checkFence(key: "nothing", token: 1, now: 0).message == "no lease is held on the key")
}

@Test func listReturnsLiveLeasesUnderAPrefixSortedByKey() {
    var engine = LeaseEngine()
    for key in ["jobs/c", "jobs/a", "other/x", "jobs/b", "jobs/expiring"] {
        _ = engine.acquire(key: key, holder: "h", ttl: key == "jobs/expiring" ? .milliseconds(5) : .seconds(5), now: 0)
    }
    #expect(engine.list(prefix: "jobs/", now: 5).map(\.key) == ["jobs/a", "jobs/b", "jobs/c"])
    #expect(engine.list(prefix: "jobs/", now: 4).map(\.key) == ["jobs/a", "jobs/b", "jobs/c", "jobs/expiring"])
    #expect(engine.list(prefix: "jobs/", now: 5, limit: 2).map(\.key) == ["jobs/a", "jobs/b"])
    #expect(engine.list(now: 5).count == 4)
    #expect(engine.list(prefix: "none", now: 5).isEmpty)
    #expect(engine.list(now: 5, limit: 0).isEmpty)
}

@Test func keysAreByteStringsNotUnicodeCharacters() throws {
    var engine = LeaseEngine()
    let precomposed = "caf\u{E9}"
    let decomposed = "cafe\u{301}"
    #expect(precomposed == decomposed, "Swift calls these equal; the lease table must not")
    #expect(engine.acquire(key: precomposed, holder: "a", ttl: .seconds(5), now: 0).grant?.token == 1)
    #expect(engine.acquire(key: decomposed, holder: "b", ttl: .seconds(5), now: 0).grant?.token == 2)
    #expect(engine.lease(for: decomposed, now: 1)?.holder == "b")
    // "cafe" is a byte prefix of the decomposed key only.
    #expect(engine.list(prefix: "cafe", now: 1).map(\.holder) == ["b"])
    #expect(engine.release(key: decomposed, holder: "a", now: 1).rejection != nil)
}

@Test func keysAndHoldersOfEveryLengthMatchOnlyByteForByte() throws {
    // Compared a machine word at a time and then byte by byte: a difference in any byte of any length
    // (across and within the words) must tell the keys apart, and equal bytes must match.
    for length in 1...19 {
        var engine = LeaseEngine()
        let key = String(repeating: "k", count: length)
        let holder = String(repeating: "h", count: length)
        #expect(engine.acquire(key: key, holder: holder, ttl: .seconds(5), now: 0).grant != nil)
        #expect(engine.renew(key: String(repeating: "k", count: length), holder: holder, ttl: .seconds(5), now: 1).grant != nil,
                "same bytes, another string")
        for position in 0..<length {
            var bytes = Array(key.utf8)
            bytes[position] = UInt8(ascii: "x")
            let other = String(decoding: bytes, as: UTF8.self)
            #expect(engine.lease(for: other, now: 1) == nil, "key of \(length) bytes differing at \(position)")
            var holderBytes = Array(holder.utf8)
            holderBytes[position] = UInt8(ascii: "x")
            #expect(engine.renew(key: key, holder: String(decoding: holderBytes, as: UTF8.self), ttl: .seconds(5), now: 1).grant == nil,
                    "holder of \(length) bytes differing at \(position)")
        }
    }
}
