import CoordBenchKit
import CoordClient
import StreamCore
import Transport

/// `produce` then `consume`: P producers each append batches of records to their own segment (etcd:
/// key prefix, Redis: stream) with fsync on, for the measured window; then P consumers read
/// everything back, one per segment.
enum ProduceWorkload {
    static func run(_ environment: BenchEnvironment, system: System) async throws -> [WorkloadResult] {
        let sizes = environment.sizes
        let store = WireUUID.random()
        let space = "produce-\(environment.runTag)-\(system.rawValue)"
        let pid = environment.pid(of: system)
        let written = Counter()
        let outcome = try await runClosedLoop(clients: sizes.producers, sizes: sizes, serverPID: pid) { index in
            let session: any ProducerSession
            switch system {
            case .coordd, .coorddPostgres: session = try await CoorddProduceSession(environment: environment, store: store, space: space, index: index)
            case .etcd: session = try await EtcdProduceSession(environment: environment, space: space, index: index)
            case .redis: session = try await RedisProduceSession(environment: environment, space: space, index: index)
            }
            session.written = written
            return session
        }
        let produced = outcome.result(
            workload: Workload.produce.title(sizes), system: system,
            metrics: [Metric("MB/s", Double(outcome.operations * sizes.payloadBytes) / 1e6 / max(outcome.elapsed.seconds, 1e-9))],
            notes: [("op", "one entry; latency of a batch")])
        var consumed = try await consume(environment, system: system, store: store, space: space)
        consumed.notes.append(("read", "\(consumed.operations) of \(written.value) entries written"))
        if consumed.operations != written.value { consumed.notes.append(("error", "entries lost or duplicated")) }
        await removePeerData(environment, system: system, space: space)
        return [produced, consumed]
    }

    /// Drops what was produced on a peer, so the workloads after this one (and the peer's memory
    /// figures) do not carry it. coordd keeps its log: it is a store, and its files are its own.
    private static func removePeerData(_ environment: BenchEnvironment, system: System, space: String) async {
        switch system {
        case .coordd, .coorddPostgres:
            return
        case .etcd:
            guard let etcd = try? await environment.etcdClient() else { return }
            defer { etcd.close() }
            if let revision = try? await etcd.deletePrefix(Array("\(space)/".utf8)) { try? await etcd.compact(revision: revision) }
        case .redis:
            guard let redis = try? await environment.redisClient() else { return }
            defer { redis.close() }
            let streams = (0..<environment.sizes.producers).map { RedisProduceSession.stream(space: space, index: $0) }
            _ = try? await redis.command([Array("DEL".utf8)] + streams)
        }
    }

    /// Reads every segment back, one consumer per segment on its own connection.
    private static func consume(_ environment: BenchEnvironment, system: System, store: WireUUID, space: String) async throws -> WorkloadResult {
        let sizes = environment.sizes
        let pid = environment.pid(of: system)
        let meter = pid.map { CPUMeter([$0]) }
        let started = ContinuousClock.now
        let watchdog = Watchdog(limit: started + .seconds(consumeTimeoutSeconds))
        defer { watchdog.stop() }
        let (entries, bytes) = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for index in 0..<sizes.producers {
                group.addTask {
                    switch system {
                    case .coordd, .coorddPostgres: return try await consumeCoordd(environment, store: store, space: space, index: index, watchdog: watchdog)
                    case .etcd: return try await consumeEtcd(environment, space: space, index: index, watchdog: watchdog)
                    case .redis: return try await consumeRedis(environment, space: space, index: index, watchdog: watchdog)
                    }
                }
            }
            var total = (0, 0)
            for try await (entries, bytes) in group { total = (total.0 + entries, total.1 + bytes) }
            return total
        }
        let elapsed = ContinuousClock.now - started
        return WorkloadResult(
            workload: "consume (\(sizes.producers) consumers, entries of \(sizes.payloadBytes) B)", system: system.rawValue,
            operations: entries, elapsed: elapsed, latencies: Samples(),
            serverCPUMicrosPerOp: meter?.microsPerOperation(entries),
            metrics: [Metric("MB/s", Double(bytes) / 1e6 / max(elapsed.seconds, 1e-9))],
            notes: [("op", "one entry read")])
    }

    /// Longest time reading everything back may take.
    static let consumeTimeoutSeconds = 120.0

    /// Page size of the peers' range reads: etcd's and Redis's clients read large ranges in pages so
    /// neither side holds a whole segment in one answer.
    static let readPage = 1_000

    private static func consumeCoordd(_ environment: BenchEnvironment, store: WireUUID, space: String, index: Int,
                                      watchdog: Watchdog) async throws -> (Int, Int) {
        let (client, connection) = try await environment.coorddTarget.client(store: store)
        watchdog.closers.add(connection.close)
        defer { connection.close() }
        var entries = 0
        var bytes = 0
        for try await entry in client.consumeSegment(ConsumeSegment(space: space, segment: "p\(index)")) {
            entries += 1
            bytes += entry.payload?.count ?? 0
        }
        return (entries, bytes)
    }

    private static func consumeEtcd(_ environment: BenchEnvironment, space: String, index: Int,
                                    watchdog: Watchdog) async throws -> (Int, Int) {
        let etcd = try await environment.etcdClient()
        watchdog.closers.add(etcd.closer)
        defer { etcd.close() }
        let prefix = EtcdProduceSession.prefix(space: space, index: index)
        var entries = 0
        var bytes = 0
        var from: [UInt8]?
        while true {
            let (kvs, more) = try await etcd.range(prefix: prefix, from: from, limit: readPage)
            entries += kvs.count
            bytes += kvs.reduce(0) { $0 + $1.value.count }
            guard more, let last = kvs.last else { return (entries, bytes) }
            from = last.key + [0]
        }
    }

    private static func consumeRedis(_ environment: BenchEnvironment, space: String, index: Int,
                                     watchdog: Watchdog) async throws -> (Int, Int) {
        let redis = try await environment.redisClient()
        watchdog.closers.add(redis.closer)
        defer { redis.close() }
        let stream = RedisProduceSession.stream(space: space, index: index)
        var entries = 0
        var bytes = 0
        var from = Array("-".utf8)
        while true {
            let reply = try await redis.command([Array("XRANGE".utf8), stream, from, Array("+".utf8), Array("COUNT".utf8),
                                                 Array(String(readPage).utf8)]).checked("XRANGE")
            guard let items = reply.elements, !items.isEmpty else { return (entries, bytes) }
            for item in items {
                // [id, [field, value]]
                guard let parts = item.elements, parts.count == 2, let id = parts[0].bytes, let fields = parts[1].elements,
                      fields.count == 2, let value = fields[1].bytes else { throw PeerError("redis XRANGE: unexpected entry") }
                entries += 1
                bytes += value.count
                from = Array("(".utf8) + id
            }
        }
    }
}

/// A producer, counting every entry it had acknowledged (warm-up included) into `written`.
protocol ProducerSession: ClientSession {
    var written: Counter? { get set }
}

extension ProducerSession {
    /// Producers run on the global executor: a coordd produce opens a stream per batch, whose loop is
    /// not known before it.
    var eventLoop: EventLoop? { nil }
}

/// A coordd producer: one connection, one segment, a produce per batch (the SDK's: its records in one
/// `produce_batches` message).
final class CoorddProduceSession: ProducerSession {
    var written: Counter?
    var closer: @Sendable () -> Void { connection.close }
    private let client: CoordClient
    private let connection: CoorddConnection
    private let space: String
    private let segment: String
    private let payload: [UInt8]
    private let batch: Int
    private var next: UInt64 = 1

    init(environment: BenchEnvironment, store: WireUUID, space: String, index: Int) async throws {
        (client, connection) = try await environment.coorddTarget.client(store: store)
        self.space = space
        segment = "p\(index)"
        payload = [UInt8](repeating: UInt8(ascii: "a"), count: environment.sizes.payloadBytes)
        batch = environment.sizes.batch
    }

    func round() async throws -> Int {
        let records = (0..<UInt64(batch)).map { Record(sequence: next + $0, payload: payload) }
        let statuses = try await client.produce(space: space, segment: segment, records: records)
        guard let last = statuses.last, last.lastSequence == next + UInt64(batch) - 1 else {
            throw PeerError("coordd produce: statuses \(statuses.map(\.lastSequence)) for \(next)...")
        }
        next += UInt64(batch)
        written?.add(batch)
        return batch
    }

    func finish() async { connection.close() }
}

/// An etcd producer: a transaction of `batch` puts per round, one key per entry under its prefix.
final class EtcdProduceSession: ProducerSession {
    var written: Counter?
    var closer: @Sendable () -> Void { etcd.closer }
    private let etcd: EtcdClient
    private let prefix: [UInt8]
    private let payload: [UInt8]
    private let batch: Int
    private var next = 1

    static func prefix(space: String, index: Int) -> [UInt8] { Array("\(space)/p\(index)/".utf8) }

    init(environment: BenchEnvironment, space: String, index: Int) async throws {
        etcd = try await environment.etcdClient()
        prefix = Self.prefix(space: space, index: index)
        payload = [UInt8](repeating: UInt8(ascii: "a"), count: environment.sizes.payloadBytes)
        batch = environment.sizes.batch
    }

    func round() async throws -> Int {
        // Zero-padded sequence numbers keep the keys in produce order for the range reads.
        let pairs = (0..<batch).map { offset -> (key: [UInt8], value: [UInt8]) in
            let sequence = String(next + offset)
            return (prefix + Array((String(repeating: "0", count: max(0, 12 - sequence.count)) + sequence).utf8), payload)
        }
        try await etcd.put(pairs)
        next += batch
        written?.add(batch)
        return batch
    }

    func finish() async { etcd.close() }
}

/// A Redis producer: `batch` XADDs pipelined in one write per round to its own stream.
final class RedisProduceSession: ProducerSession {
    var written: Counter?
    var closer: @Sendable () -> Void { redis.closer }
    private let redis: RedisClient
    private let command: [[UInt8]]
    private let batch: Int

    static func stream(space: String, index: Int) -> [UInt8] { Array("\(space):p\(index)".utf8) }

    init(environment: BenchEnvironment, space: String, index: Int) async throws {
        redis = try await environment.redisClient()
        command = [Array("XADD".utf8), Self.stream(space: space, index: index), Array("*".utf8), Array("d".utf8),
                   [UInt8](repeating: UInt8(ascii: "a"), count: environment.sizes.payloadBytes)]
        batch = environment.sizes.batch
    }

    func round() async throws -> Int {
        for reply in try await redis.pipeline(Array(repeating: command, count: batch)) { _ = try reply.checked("XADD") }
        written?.add(batch)
        return batch
    }

    func finish() async { redis.close() }
}
