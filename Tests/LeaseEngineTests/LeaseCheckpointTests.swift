import CoordTestKit
import LeaseEngine
import Testing

/// Checkpoints: a checkpoint taken at any point, followed by the events after it, recovers exactly what
/// the whole history of events recovers.
struct LeaseCheckpointTests {
    /// The table as recovery leaves it, for comparing two recoveries.
    private static func table(_ engine: LeaseEngine, now: Int64) -> [LeaseGrant] {
        engine.list(now: now)
    }

    /// A seeded random walk over every operation; after each step, recovering from the latest checkpoint
    /// (taken at random steps, through its bytes) and the events since equals recovering from every event.
    @Test(arguments: [0xC4EC_0001, 0xC4EC_0002, 0xC4EC_0003] as [UInt64])
    func checkpointPlusLaterEventsRecoversWhatTheWholeHistoryDoes(seed: UInt64) async throws {
        var random = SplitMix64(seed: seed)
        var engine = LeaseEngine(limits: LeaseLimits(maxExpiriesPerTick: 2))
        var history: [LeaseEvent] = []
        var checkpoint: (records: [[UInt8]], eventsBefore: Int)?
        var now: Int64 = 1_000
        let keys = ["a", "b", "c", "d", "e", "f"]
        let holders = ["h1", "h2", "h3"]

        for step in 0..<1_500 {
            // Hands the thread back now and then: a long synchronous run on one of the pool's few threads stalls
            // every other test of the process.
            if step % 50 == 0 { await Task.yield() }
            now += Int64.random(in: 0...10, using: &random)
            let key = keys.randomElement(using: &random) ?? "a"
            let holder = holders.randomElement(using: &random) ?? "h1"
            let ttl = LeaseTTL.milliseconds(Int64.random(in: 1...80, using: &random))
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<40:
                let bound: UInt64? = Int.random(in: 0..<6, using: &random) == 0 ? 7 : nil
                if let event = engine.acquire(key: key, holder: holder, ttl: ttl, boundTo: bound, now: now).event {
                    history.append(event)
                }
            case 40..<60:
                if let event = engine.renew(key: key, holder: holder, ttl: ttl, now: now).event { history.append(event) }
            case 60..<75:
                if let event = engine.release(key: key, holder: holder, now: now).event { history.append(event) }
            case 75..<92:
                history += engine.tick(now: now).events
            case 92..<95:
                history += engine.workerEnded(7, now: now)
            default:
                checkpoint = (engine.checkpointRecords(), history.count)
            }

            let context = "seed \(seed) step \(step)"
            let later = now + 1_000_000
            let fromHistory = LeaseEngine.recover(from: history, now: later)
            let fromCheckpoint = try LeaseEngine.recover(
                checkpoint: checkpoint?.records, events: history.dropFirst(checkpoint?.eventsBefore ?? 0), now: later)
            #expect(Self.table(fromCheckpoint, now: later) == Self.table(fromHistory, now: later), "\(context)")
            #expect(fromCheckpoint.highestToken == fromHistory.highestToken, "\(context)")
            #expect(fromCheckpoint.highestToken == engine.highestToken, "fences continue from the counter: \(context)")
        }
        #expect(checkpoint != nil)
    }

    @Test func anEmptyTableStillCheckpointsItsTokenCounter() throws {
        var engine = LeaseEngine()
        _ = engine.acquire(key: "k", holder: "h", ttl: .seconds(5), now: 0)
        _ = engine.release(key: "k", holder: "h", now: 1)
        let records = engine.checkpointRecords()
        #expect(records.count == 1, "the header only")
        let recovered = try LeaseEngine.recover(checkpoint: records, events: [], now: 10)
        #expect(recovered.leaseCount == 0 && recovered.highestToken == 1)
        var next = recovered
        #expect(next.acquire(key: "k", holder: "other", ttl: .seconds(5), now: 10).grant?.token == 2)
    }

    @Test func aBoundLeaseIsCheckpointedAsATTLLease() throws {
        var engine = LeaseEngine()
        _ = engine.acquire(key: "k", holder: "h", ttl: .milliseconds(250), boundTo: 9, now: 0)
        let recovered = try LeaseEngine.recover(checkpoint: engine.checkpointRecords(), events: [], now: 100)
        let grant = try #require(recovered.lease(for: "k", now: 100))
        #expect(grant.boundTo == nil && grant.deadline == 350 && grant.token == 1)
    }

    @Test(arguments: [
        ([[UInt8]](), LeaseCheckpointDecodingError.missingHeader),
        ([[0x11, 0, 0]], .missingHeader),
        ([[0x14, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]], .countMismatch(announced: 1, found: 0)),
        ([[0x14, 1, 0, 0]], .malformed),
        ([[0x14, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], [0x11]], .unknownRecord(0x11)),
        ([[0x14, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], [0x15, 9, 0, 0, 0]], .malformed),
    ])
    func damagedCheckpointsThrowInsteadOfTrapping(_ records: [[UInt8]], _ expected: LeaseCheckpointDecodingError) {
        #expect(throws: expected) { _ = try LeaseEngine.recover(checkpoint: records, events: [], now: 0) }
    }

    @Test func aLeaseTokenAboveTheCheckpointsCounterIsRefused() throws {
        var engine = LeaseEngine()
        _ = engine.acquire(key: "k", holder: "h", ttl: .seconds(5), now: 0)
        var records = engine.checkpointRecords()
        records[0][1] = 0  // the counter says 0; the lease carries token 1
        #expect(throws: LeaseCheckpointDecodingError.tokenAboveCounter(token: 1, highest: 0)) {
            _ = try LeaseEngine.recover(checkpoint: records, events: [], now: 0)
        }
    }
}
