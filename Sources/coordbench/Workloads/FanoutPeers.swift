import CoordBenchKit
import Foundation
import StreamCore
import Transport

/// The inventory as a peer carries it in the snapshot variant: the same JSON shape and size as
/// coordd's `WorkerInventory` (the peers have no inventory of their own, so the changer publishes
/// the whole list with every change, as coordd's fan-out does).
enum PeerInventory {
    /// Metadata every benchmark worker registers with.
    static func metadata(_ index: Int) -> [String: String] { ["role": "bench", "index": String(index)] }

    /// Worker ids of the fan-out: the M registered ones, then one per join.
    static func workerID(_ index: Int) -> String {
        WireUUID(high: 0x0c00_0000_0000_4000, low: 0x8000_0000_0000_0000 | UInt64(index)).description
    }

    /// `{"workers":[…],"timestamp":…,"revision":…}` for workers `0..<count` plus `extra` when given.
    static func json(count: Int, extra: Int?, revision: UInt64) -> [UInt8] {
        var w = JSONWriter(capacity: 128 * (count + 1))
        let now = SystemWallClock().nowMs()
        w.beginObject()
        w.key("workers"); w.beginArray()
        for index in Array(0..<count) + (extra.map { [$0] } ?? []) {
            w.raw(entry(index, now: now))
        }
        w.endArray()
        w.key("timestamp"); w.int(now)
        w.key("revision"); w.uint(revision)
        w.endObject()
        return w.bytes
    }

    /// One worker's entry, as coordd writes `WorkerInfo`.
    static func entry(_ index: Int, now: Int64) -> [UInt8] {
        var w = JSONWriter(capacity: 128)
        w.beginObject()
        w.key("worker_id"); w.string(workerID(index))
        w.key("metadata"); w.stringMap(metadata(index))
        w.key("last_seen_at"); w.int(now)
        w.endObject()
        return w.bytes
    }
}

/// Fan-out on etcd: the deltas variant keeps one key per worker and observers watch the prefix;
/// the snapshot variant keeps the whole inventory in one key that every change rewrites. Observers
/// read the current state with a range request, then watch.
struct EtcdFanout: FanoutSystem {
    let environment: BenchEnvironment
    let variant: FanoutVariant
    let prefix: [UInt8]

    static func prepare(_ environment: BenchEnvironment, variant: FanoutVariant, closers: Closers) async throws -> EtcdFanout {
        let prefix = Array("fanout/\(environment.runTag)/\(variant.workers)-\(variant.observers)/".utf8)
        let system = EtcdFanout(environment: environment, variant: variant, prefix: prefix)
        if variant.deltas {
            // Workers are put from a few connections at once: etcd fsyncs each put.
            let lanes = 16
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<lanes {
                    group.addTask {
                        let etcd = try await environment.etcdClient()
                        closers.add(etcd.closer)
                        defer { etcd.close() }
                        for index in stride(from: lane, to: variant.workers, by: lanes) {
                            try await etcd.put(key: system.workerKey(index), value: PeerInventory.entry(index, now: 0))
                        }
                    }
                }
                try await group.waitForAll()
            }
        } else {
            let etcd = try await environment.etcdClient()
            closers.add(etcd.closer)
            defer { etcd.close() }
            try await etcd.put(key: system.inventoryKey, value: PeerInventory.json(count: variant.workers, extra: nil, revision: 0))
        }
        return system
    }

    var inventoryKey: [UInt8] { prefix + Array("inventory".utf8) }
    func workerKey(_ index: Int) -> [UInt8] { prefix + Array("w/\(PeerInventory.workerID(index))".utf8) }

    func makeObserver(_ index: Int) async throws -> any FanoutObserver {
        let etcd = try await environment.etcdClient()
        do {
            let (kvs, _) = try await etcd.range(prefix: prefix, limit: 0)
            guard !kvs.isEmpty else { throw PeerError("etcd observer \(index) found an empty inventory") }
            try await etcd.watch(prefix: prefix)
        } catch {
            etcd.close()
            throw error
        }
        return EtcdObserver(etcd: etcd)
    }

    func makeChanger() async throws -> any FanoutChanger {
        EtcdChanger(etcd: try await environment.etcdClient(), fanout: self)
    }

    func tearDown() async {
        guard let etcd = try? await environment.etcdClient() else { return }
        _ = try? await etcd.deletePrefix(prefix)
        etcd.close()
    }
}

final class EtcdObserver: FanoutObserver {
    private let etcd: EtcdClient
    let closer: @Sendable () -> Void

    var eventLoop: EventLoop? { etcd.eventLoop }

    init(etcd: EtcdClient) {
        self.etcd = etcd
        closer = etcd.closer
    }

    func next() async throws -> UInt64? {
        while let message = try await etcd.nextWatchMessage() {
            if let revision = MarkerScan.firstQuotedRevision(message) { return revision }
        }
        return nil
    }
}

final class EtcdChanger: FanoutChanger {
    private let etcd: EtcdClient
    private let fanout: EtcdFanout
    var closer: @Sendable () -> Void { etcd.closer }

    init(etcd: EtcdClient, fanout: EtcdFanout) {
        self.etcd = etcd
        self.fanout = fanout
    }

    func change(_ k: Int) async throws -> (marker: UInt64, acknowledged: ContinuousClock.Instant) {
        let extra = fanout.variant.workers + k / 2
        let joining = k % 2 == 0
        let revision: Int64
        if fanout.variant.deltas {
            revision = joining
                ? try await etcd.put(key: fanout.workerKey(extra), value: PeerInventory.entry(extra, now: SystemWallClock().nowMs()))
                : try await etcd.delete(key: fanout.workerKey(extra))
        } else {
            let inventory = PeerInventory.json(count: fanout.variant.workers, extra: joining ? extra : nil, revision: UInt64(k + 1))
            revision = try await etcd.put(key: fanout.inventoryKey, value: inventory)
        }
        return (UInt64(revision), ContinuousClock.now)
    }

    func close() async { etcd.close() }
}

/// Fan-out on Redis: the workers are fields of a hash (what a late observer reads with HGETALL);
/// every change updates the hash and publishes to a channel all observers subscribe to. The message
/// is `seq|` followed by the change (deltas) or the whole inventory (snapshots).
struct RedisFanout: FanoutSystem {
    let environment: BenchEnvironment
    let variant: FanoutVariant
    let hash: [UInt8]
    let channel: [UInt8]

    static func prepare(_ environment: BenchEnvironment, variant: FanoutVariant, closers: Closers) async throws -> RedisFanout {
        let name = "fanout:\(environment.runTag):\(variant.workers)-\(variant.observers)"
        let system = RedisFanout(environment: environment, variant: variant, hash: Array((name + ":workers").utf8),
                                 channel: Array((name + ":changes").utf8))
        let redis = try await environment.redisClient()
        closers.add(redis.closer)
        defer { redis.close() }
        var command = [Array("HSET".utf8), system.hash]
        for index in 0..<variant.workers {
            command.append(Array(PeerInventory.workerID(index).utf8))
            command.append(PeerInventory.entry(index, now: 0))
        }
        _ = try await redis.command(command).checked("HSET")
        return system
    }

    func makeObserver(_ index: Int) async throws -> any FanoutObserver {
        let redis = try await environment.redisClient()
        do {
            guard let fields = try await redis.command([Array("HGETALL".utf8), hash]).checked("HGETALL").elements, !fields.isEmpty else {
                throw PeerError("redis observer \(index) found an empty inventory")
            }
            redis.send([Array("SUBSCRIBE".utf8), channel])
            guard let confirmation = try await redis.reply().elements, confirmation.first?.bytes == Array("subscribe".utf8) else {
                throw PeerError("redis SUBSCRIBE not confirmed")
            }
        } catch {
            redis.close()
            throw error
        }
        return RedisObserver(redis: redis)
    }

    func makeChanger() async throws -> any FanoutChanger {
        RedisChanger(redis: try await environment.redisClient(), fanout: self)
    }

    func tearDown() async {
        guard let redis = try? await environment.redisClient() else { return }
        _ = try? await redis.command([Array("DEL".utf8), hash])
        redis.close()
    }
}

final class RedisObserver: FanoutObserver {
    private let redis: RedisClient
    let closer: @Sendable () -> Void

    var eventLoop: EventLoop? { redis.eventLoop }

    init(redis: RedisClient) {
        self.redis = redis
        closer = redis.closer
    }

    func next() async throws -> UInt64? {
        while true {
            // A pushed message: ["message", channel, payload].
            guard let parts = try await redis.reply().elements, parts.count == 3, let payload = parts[2].bytes else { continue }
            if let sequence = MarkerScan.leadingNumber(payload) { return sequence }
        }
    }
}

final class RedisChanger: FanoutChanger {
    private let redis: RedisClient
    private let fanout: RedisFanout
    var closer: @Sendable () -> Void { redis.closer }

    init(redis: RedisClient, fanout: RedisFanout) {
        self.redis = redis
        self.fanout = fanout
    }

    func change(_ k: Int) async throws -> (marker: UInt64, acknowledged: ContinuousClock.Instant) {
        let extra = fanout.variant.workers + k / 2
        let joining = k % 2 == 0
        let id = Array(PeerInventory.workerID(extra).utf8)
        let entry = PeerInventory.entry(extra, now: SystemWallClock().nowMs())
        let sequence = UInt64(k + 1)
        var message = Array("\(sequence)|".utf8)
        if fanout.variant.deltas {
            message += joining ? Array("+".utf8) + entry : Array("-".utf8) + id
        } else {
            message += PeerInventory.json(count: fanout.variant.workers, extra: joining ? extra : nil, revision: sequence)
        }
        let update = joining ? [Array("HSET".utf8), fanout.hash, id, entry] : [Array("HDEL".utf8), fanout.hash, id]
        let replies = try await redis.pipeline([update, [Array("PUBLISH".utf8), fanout.channel, message]])
        for reply in replies { _ = try reply.checked("fan-out change") }
        return (sequence, ContinuousClock.now)
    }

    func close() async { redis.close() }
}
