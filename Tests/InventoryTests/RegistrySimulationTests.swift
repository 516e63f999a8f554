import CoordTestKit
import Inventory
import Testing

/// Seeded random operations against a plain dictionary model, checking every invariant after every step.
/// The seed is the test argument, so a failure names the seed and step that replay it.
struct RegistrySimulationTests {
    struct ModelWorker {
        var metadata: [String: String]
        var lastSeenAtMs: Int64
        var stream: StreamID
        var ttlMs: Int64
        var deadlineMs: Int64
    }

    enum Payload: Equatable, Sendable {
        case snapshot(InventorySnapshot)
        case delta(InventoryDelta)
    }

    /// A subscriber that rebuilds membership from what its mailbox hands out.
    struct Subscriber {
        var mailbox: SubscriberMailbox<Payload>
        var revision: UInt64?
        var view: [WorkerID: [String: String]] = [:]

        /// Takes up to `limit` items, checking each against the snapshot recorded for its revision.
        mutating func receive(limit: Int, snapshots: [UInt64: InventorySnapshot], context: String) throws {
            for _ in 0..<limit {
                guard let item = mailbox.next() else { return }
                switch item.payload {
                case .snapshot(let snapshot):
                    view = membership(snapshot)
                case .delta(let delta):
                    try #require(revision.map { $0 + 1 } == delta.revision, "\(context): delta \(delta.revision) after \(String(describing: revision))")
                    for id in delta.left { view[id] = nil }
                    for entry in delta.joined + delta.updated { view[entry.id] = entry.metadata }
                }
                if let revision { try #require(item.revision > revision, "\(context): revision went back") }
                revision = item.revision
                let expected = try #require(snapshots[item.revision], "\(context): unknown revision \(item.revision)")
                try #require(view == membership(expected), "\(context): subscriber view at \(item.revision)")
            }
        }
    }

    static func membership(_ snapshot: InventorySnapshot) -> [WorkerID: [String: String]] {
        Dictionary(uniqueKeysWithValues: snapshot.workers.map { ($0.id, $0.metadata) })
    }

    static let limits = InventoryLimits(ttlFloorMs: 2_000, maxWorkers: 24, maxMetadataEntries: 3, historyLimit: 16)
    static let stepCount = 10_000

    @Test(arguments: [UInt64(1), 0xC0FFEE, 0xDEAD_BEEF_2026])
    func randomOperationsKeepEveryInvariant(seed: UInt64) async throws {
        var rng = SplitMix64(seed: seed)
        var registry = WorkerRegistry(limits: Self.limits)
        var clock = ManualClock()
        var model: [WorkerID: ModelWorker] = [:]
        var composed: [WorkerID: WorkerEntry] = [:]
        var snapshots: [UInt64: InventorySnapshot] = [0: registry.current]
        var deltasByRevision: [UInt64: InventoryDelta] = [:]
        var subscribers = [
            Subscriber(mailbox: SubscriberMailbox(mode: .snapshots)),
            Subscriber(mailbox: SubscriberMailbox(mode: .deltas(maxBacklog: 5))),
        ]
        for index in subscribers.indices {
            subscribers[index].mailbox.seed(revision: 0, snapshot: .snapshot(registry.current))
        }
        var counts = (changes: 0, rejections: 0, evictions: 0, replacements: 0)

        for step in 0..<Self.stepCount {
            // Hands the thread back now and then: a long synchronous run on one of the pool's few threads stalls
            // every other test of the process.
            if step % 50 == 0 { await Task.yield() }
            let context = "seed \(seed) step \(step)"
            clock.monotonicMs += Int64(rng.next(below: 300))
            // The wall clock mostly advances but sometimes steps back (NTP): only reported, never used for TTL.
            clock.wallMs += rng.next(below: 25) == 0 ? -5_000 : Int64(rng.next(below: 300))
            let before = registry.current.revision
            var change: InventoryChange?

            switch rng.next(below: 10) {
            case 0...2:
                let id = worker(UInt8(rng.next(below: 32)))
                let stream = StreamID(rng.next(below: 40))
                var metadata: [String: String] = [:]
                for key in 0..<rng.next(below: 5) { metadata["k\(key)"] = "v\(rng.next(below: 100))" }
                let renewMs = [Int64(100), 500, 1_000, 30_000][Int(rng.next(below: 4))]
                let result = registry.register(id: id, metadata: metadata, renewIntervalMs: renewMs, stream: stream, now: clock.now)
                let expected: RegistryRejection?
                if let owned = model.first(where: { $0.value.stream == stream })?.key {
                    expected = .streamAlreadyRegistered(stream: stream, worker: owned)
                } else if metadata.count > Self.limits.maxMetadataEntries {
                    expected = .tooManyMetadataEntries(count: metadata.count, limit: Self.limits.maxMetadataEntries)
                } else if model[id] == nil && model.count >= Self.limits.maxWorkers {
                    expected = .tooManyWorkers(limit: Self.limits.maxWorkers)
                } else {
                    expected = nil
                }
                try #require(result.rejection == expected, "\(context): register \(id) by \(stream)")
                if expected == nil {
                    let prior = model[id]
                    try #require(result.replaced == prior?.stream, "\(context): replaced stream")
                    let ttlMs = max(3 * renewMs, Self.limits.ttlFloorMs)
                    model[id] = ModelWorker(
                        metadata: metadata, lastSeenAtMs: clock.wallMs, stream: stream, ttlMs: ttlMs,
                        deadlineMs: clock.monotonicMs + ttlMs)
                    change = result.change
                    let entry = WorkerEntry(id: id, metadata: metadata, lastSeenAtMs: clock.wallMs)
                    let delta = try #require(change?.delta, "\(context): accepted without change")
                    try #require(delta.left.isEmpty && delta.joined == (prior == nil ? [entry] : []), "\(context): joined")
                    try #require(delta.updated == (prior == nil ? [] : [entry]), "\(context): updated")
                    if prior != nil { counts.replacements += 1 }
                } else {
                    counts.rejections += 1
                }

            case 3...5:
                let id = worker(UInt8(rng.next(below: 32)))
                let stream = rng.next(below: 2) == 0 ? (model[id]?.stream ?? StreamID(0)) : StreamID(rng.next(below: 40))
                let result = registry.renew(id: id, stream: stream, now: clock.now)
                if var record = model[id], record.stream == stream {
                    try #require(result == .renewed, "\(context): renew by owner")
                    record.lastSeenAtMs = clock.wallMs
                    record.deadlineMs = clock.monotonicMs + record.ttlMs
                    model[id] = record
                } else {
                    try #require(result == .notOwner, "\(context): renew by non-owner")
                }

            case 6:
                let stream = StreamID(rng.next(below: 40))
                change = registry.streamEnded(stream, now: clock.now)
                if let owned = model.first(where: { $0.value.stream == stream })?.key {
                    model[owned] = nil
                    try #require(change?.delta == InventoryDelta(revision: before + 1, joined: [], left: [owned], updated: []), "\(context): stream end")
                } else {
                    try #require(change == nil, "\(context): stream end without a worker")
                }

            default:
                // Half the sweeps land exactly on, or 1 ms before, the next deadline.
                if let deadline = registry.nextDeadlineMs, rng.next(below: 2) == 0 {
                    clock.monotonicMs = max(clock.monotonicMs, deadline - Int64(rng.next(below: 2)))
                }
                let result = registry.sweep(now: clock.now)
                let due = model.filter { $0.value.deadlineMs <= clock.monotonicMs }.sorted { $0.key < $1.key }
                try #require(result.evicted.map(\.id) == due.map(\.key), "\(context): evicted ids")
                try #require(result.evicted.map(\.stream) == due.map(\.value.stream), "\(context): evicted streams")
                try #require((result.change == nil) == due.isEmpty, "\(context): one change per sweep with evictions")
                try #require(result.change.map(\.delta.left) ?? [] == due.map(\.key), "\(context): left")
                for (id, _) in due { model[id] = nil }
                counts.evictions += due.count
                change = result.change
                try #require(result.nextDeadlineMs == registry.nextDeadlineMs, "\(context): sweep next deadline")
            }

            // Revisions: +1 per change, unchanged otherwise; the change is the current snapshot.
            let snapshot = registry.current
            if let change {
                counts.changes += 1
                try #require(snapshot.revision == before + 1, "\(context): revision \(snapshot.revision) after \(before)")
                try #require(change.snapshot === snapshot && change.delta.revision == snapshot.revision, "\(context): change")
                try #require(snapshot.timestampMs == clock.wallMs, "\(context): timestamp")
            } else {
                try #require(snapshot.revision == before, "\(context): revision moved without a change")
            }

            // The snapshot is sorted and equals the model.
            try #require(zip(snapshot.workers, snapshot.workers.dropFirst()).allSatisfy { $0.id < $1.id }, "\(context): sorted")
            let expectedWorkers = model.sorted { $0.key < $1.key }.map {
                WorkerEntry(id: $0.key, metadata: $0.value.metadata, lastSeenAtMs: $0.value.lastSeenAtMs)
            }
            if change != nil {
                try #require(snapshot.workers == expectedWorkers, "\(context): snapshot equals model")
            } else {
                // Renewals since the last change are not in the snapshot; membership and metadata are.
                try #require(snapshot.workers.map(\.id) == expectedWorkers.map(\.id), "\(context): membership")
            }
            try #require(registry.count == model.count, "\(context): count")
            try #require(registry.nextDeadlineMs == model.values.map(\.deadlineMs).min(), "\(context): next deadline")
            for id in model.keys { try #require(registry.owner(of: id) == model[id]?.stream, "\(context): owner") }

            // Deltas compose to the snapshot.
            if let change {
                let delta = change.delta
                for id in delta.left { try #require(composed.removeValue(forKey: id) != nil, "\(context): left unknown") }
                for entry in delta.joined {
                    try #require(composed.updateValue(entry, forKey: entry.id) == nil, "\(context): joined twice")
                }
                for entry in delta.updated {
                    try #require(composed.updateValue(entry, forKey: entry.id) != nil, "\(context): updated unknown")
                }
                try #require(composed.mapValues(\.metadata) == Self.membership(snapshot), "\(context): deltas compose")
                for entry in delta.joined + delta.updated {
                    try #require(snapshot.workers.contains(entry), "\(context): delta entry in snapshot")
                }
                snapshots[snapshot.revision] = snapshot
                deltasByRevision[delta.revision] = delta
                for index in subscribers.indices {
                    subscribers[index].mailbox.offer(revision: snapshot.revision, snapshot: .snapshot(snapshot), delta: .delta(delta))
                }
            }

            // History answers exactly the retained window.
            let back = rng.next(below: 24)
            if back <= snapshot.revision {
                let since = snapshot.revision - back
                let answer = registry.deltas(since: since)
                let retained = back <= min(snapshot.revision, UInt64(Self.limits.historyLimit))
                try #require((answer != nil) == retained, "\(context): deltas(since: \(since)) availability")
                if let answer {
                    try #require(answer == (since..<snapshot.revision).map { deltasByRevision[$0 + 1] }, "\(context): history")
                }
            }
            try #require(registry.deltas(since: snapshot.revision + 1) == nil, "\(context): future revision")

            // Subscribers drain at their own pace.
            for index in subscribers.indices where rng.next(below: 4) == 0 {
                try subscribers[index].receive(limit: Int(rng.next(below: 4)), snapshots: snapshots, context: context)
            }
            for index in subscribers.indices {
                try #require(subscribers[index].mailbox.queuedCount <= 6, "\(context): mailbox bounded")
            }
        }

        for index in subscribers.indices {
            try subscribers[index].receive(limit: 100, snapshots: snapshots, context: "seed \(seed) final")
            #expect(subscribers[index].revision == registry.current.revision)
            #expect(subscribers[index].view == Self.membership(registry.current))
        }
        // The run exercised every path, so passing means something.
        #expect(counts.changes > 1_000)
        #expect(counts.rejections > 50)
        #expect(counts.evictions > 50)
        #expect(counts.replacements > 20)
        #expect(registry.current.revision == UInt64(counts.changes))
    }
}
