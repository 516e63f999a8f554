import CoordTestKit
import LeaseEngine
import Testing

/// What the simulation believes the table holds, built only from the engine's answers and the rules.
private struct ModelLease: Equatable {
    var holder: String
    var token: UInt64
    var ttlMs: Int64
    var loggedTTLMs: Int64
    var deadline: Int64?
    var boundTo: UInt64?

    func isLive(at now: Int64) -> Bool { deadline.map { now < $0 } ?? true }
}

private let keys = ["a", "b", "c", "d"]
private let holders = ["h1", "h2", "h3"]
private let workers: [UInt64] = [1, 2]

/// A seeded random walk over acquire / renew / release / tick / worker end with a manual clock, checked
/// step by step against a model of the rules and, regularly, against a replay of the logged events.
/// The seed is the test argument, so a failure names the run that reproduces it.
@Test(arguments: [0x5EED_0001, 0x5EED_0002, 0x5EED_0003] as [UInt64])
func randomOperationsKeepFencingAndRecoveryInvariants(seed: UInt64) async throws {
    var random = SplitMix64(seed: seed)
    var engine = LeaseEngine(limits: LeaseLimits(maxExpiriesPerTick: 2, expiryHeapSlack: 4))
    var model: [String: ModelLease] = [:]
    var log: [LeaseEvent] = []
    var lastGrant: [String: (holder: String, token: UInt64)] = [:]
    var now: Int64 = 1_000
    var highestToken: UInt64 = 0

    for step in 0..<10_000 {
        // Hands the thread back now and then: a long synchronous run on one of the pool's few threads stalls
        // every other test of the process.
        if step % 50 == 0 { await Task.yield() }
        now += Int64.random(in: 0...12, using: &random)
        let key = keys.randomElement(using: &random) ?? "a"
        let holder = holders.randomElement(using: &random) ?? "h1"
        let ttlMs = Int64.random(in: 1...60, using: &random)
        let ttl: LeaseTTL = Int.random(in: 0..<20, using: &random) == 0 ? .seconds(1) : .milliseconds(ttlMs)
        let ttlInMs: Int64 = if case .seconds(let s) = ttl { s * 1_000 } else { ttlMs }
        let context = "seed \(seed) step \(step) now \(now) key \(key) holder \(holder)"
        let existing = model[key]

        switch Int.random(in: 0..<100, using: &random) {
        case 0..<40:
            let boundTo = Int.random(in: 0..<5, using: &random) == 0 ? workers.randomElement(using: &random) : nil
            let action = engine.acquire(key: key, holder: holder, ttl: ttl, boundTo: boundTo, now: now)
            let mayAcquire = existing.map { !$0.isLive(at: now) || $0.holder == holder } ?? true
            guard mayAcquire else {
                // Contention: empty message and the live lease standing in the way.
                #expect(action.rejection == LeaseRejection(.held, current: engine.lease(for: key, now: now)), "\(context)")
                #expect(action.rejection?.current?.holder == existing?.holder, "\(context)")
                continue
            }
            let grant = try #require(action.grant, "\(context)")
            log.append(try #require(action.event))
            if let existing, existing.isLive(at: now) {
                #expect(grant.token == existing.token, "same-holder re-acquire keeps the token: \(context)")
            } else {
                #expect(grant.token == highestToken + 1, "a new grant takes the next token: \(context)")
                highestToken = grant.token
            }
            if let previous = lastGrant[key] {
                #expect(grant.token >= previous.token, "tokens never decrease on a key: \(context)")
                if previous.holder != holder { #expect(grant.token > previous.token, "holder change bumps: \(context)") }
            }
            lastGrant[key] = (holder, grant.token)
            model[key] = ModelLease(
                holder: holder, token: grant.token, ttlMs: ttlInMs, loggedTTLMs: ttlInMs,
                deadline: boundTo == nil ? now + ttlInMs : nil, boundTo: boundTo)
        case 40..<65:
            let action = engine.renew(key: key, holder: holder, ttl: ttl, now: now)
            guard var lease = existing, lease.holder == holder, lease.isLive(at: now) else {
                #expect(action.rejection != nil, "\(context)")
                continue
            }
            let grant = try #require(action.grant, "\(context)")
            #expect(grant.token == lease.token, "\(context)")
            lease.ttlMs = ttlInMs
            if lease.boundTo == nil { lease.deadline = now + ttlInMs }
            if ttlInMs > lease.loggedTTLMs {
                lease.loggedTTLMs = ttlInMs
                log.append(try #require(action.event, "a longer renewal must be logged: \(context)"))
            } else {
                #expect(action.event == nil, "\(context)")
            }
            model[key] = lease
        case 65..<80:
            let action = engine.release(key: key, holder: holder, now: now)
            guard let lease = existing, lease.holder == holder else {
                #expect(action.rejection != nil, "\(context)")
                continue
            }
            #expect(action.event == .released(key: key, holder: holder, token: lease.token), "\(context)")
            log.append(try #require(action.event))
            model[key] = nil
        case 80..<95:
            let result = engine.tick(now: now)
            #expect(result.events.count <= engine.limits.maxExpiriesPerTick, "\(context)")
            for event in result.events {
                let lease = try #require(model[event.key], "expired a lease the model lacks: \(context)")
                #expect(event == .expired(key: event.key, token: lease.token), "\(context)")
                #expect(lease.deadline.map { $0 <= now } == true, "expired before its deadline: \(context)")
                model[event.key] = nil
            }
            log += result.events
            let stillDue = model.values.contains { $0.deadline.map { $0 <= now } ?? false }
            #expect(result.more == stillDue, "more must be set exactly when leases remain due: \(context)")
            let earliest = model.values.compactMap(\.deadline).min()
            if !result.more { #expect(result.nextDeadline == earliest, "\(context)") }
        default:
            let worker = workers.randomElement(using: &random) ?? 1
            let events = engine.workerEnded(worker, now: now)
            let expected = model.filter { $0.value.boundTo == worker }.sorted { $0.key < $1.key }
                .map { LeaseEvent.released(key: $0.key, holder: $0.value.holder, token: $0.value.token) }
            #expect(events == expected, "\(context)")
            for event in events { model[event.key] = nil }
            log += events
        }

        // The engine's view matches the model: one holder per key, same token, same deadline.
        for key in keys {
            let live = model[key].flatMap { $0.isLive(at: now) ? $0 : nil }
            let actual = engine.lease(for: key, now: now)
            #expect(actual?.holder == live?.holder && actual?.token == live?.token, "\(context)")
            #expect(actual?.deadline == live?.deadline && actual?.boundTo == live?.boundTo, "\(context)")
        }
        #expect(engine.list(now: now).count == model.values.filter { $0.isLive(at: now) }.count, "\(context)")
        #expect(engine.highestToken == highestToken, "\(context)")

        if step % 16 == 0 || step == 9_999 {
            try checkReplay(of: log, matches: model, engine: engine, now: now, context: context)
        }
    }
}

/// Replaying the log (through its byte encoding, as after a restart) yields the same holders and tokens,
/// with deadlines that are never earlier than now + the lease's TTL and never earlier than before.
private func checkReplay(
    of log: [LeaseEvent], matches model: [String: ModelLease], engine: LeaseEngine, now: Int64, context: String
) throws {
    let decoded = try log.map { try LeaseEvent(decoding: $0.encoded()) }
    let recovered = LeaseEngine.recover(from: decoded, now: now)
    #expect(recovered.highestToken == engine.highestToken, "replay: \(context)")
    for key in keys {
        let restored = recovered.lease(for: key, now: now)
        guard let lease = model[key] else {
            #expect(restored == nil, "replay resurrected \(key): \(context)")
            continue
        }
        // Expired-but-unticked leases come back too: a restart may lengthen a lease by one TTL.
        let grant = try #require(restored, "replay lost \(key): \(context)")
        #expect(grant.holder == lease.holder && grant.token == lease.token, "replay: \(context)")
        #expect(grant.boundTo == nil, "replay: \(context)")
        let deadline = try #require(grant.deadline)
        #expect(deadline == now + lease.loggedTTLMs, "replay: \(context)")
        #expect(deadline >= now + lease.ttlMs, "replay shortened the TTL of \(key): \(context)")
        if let before = lease.deadline { #expect(deadline >= before, "replay shortened \(key): \(context)") }
    }
}
