import CoordBenchKit
import CoordClient
import Foundation
import StreamCore
import Synchronization

/// One worker of the `connections` workload: registered on its own connection, renewing every
/// heartbeat period until the end of the hold, when it reports whether it was evicted.
protocol HeldWorker: AnyObject {
    /// Closes the worker's connection from any task.
    var closer: @Sendable () -> Void { get }
    /// Renews until `end`; returns whether the worker is still registered (false: the system said it
    /// was gone, i.e. evicted) and how many renewals it sent.
    func hold(until end: ContinuousClock.Instant) async -> (kept: Bool, renewals: Int)
    /// Deregisters and closes the connection.
    func release() async
}

/// `connections`: K workers, each on its own connection, with presence heartbeats every H ms held
/// for a duration; counts workers evicted although they renewed on time, and reads the server's
/// resident memory. Latency is one worker's connect and registration during the ramp.
enum ConnectionsWorkload {
    /// Presence TTL the daemon and the peers give the workers: three heartbeat periods (the
    /// streamkit rule TTL = 3 × interval, with coordbench starting coordd with a 15 s floor).
    static func ttlMs(_ sizes: BenchSizes) -> Int { 3 * sizes.heartbeatMs }

    /// Longest time registering every worker may take (it keeps `all` within its time budget).
    static let rampTimeoutSeconds = 120.0

    static func run(_ environment: BenchEnvironment, system: System) async throws -> WorkloadResult {
        let sizes = environment.sizes
        let store = WireUUID.random()
        let pid = environment.pid(of: system)
        let gate = AsyncSemaphore(sizes.connectConcurrency)
        let board = ProgressBoard(observers: 0)
        let ramp = RampState()
        let rampStart = ContinuousClock.now
        let watchdog = Watchdog(limit: rampStart + .seconds(rampTimeoutSeconds + sizes.holdSeconds + 60))
        defer { watchdog.stop() }
        let memoryBefore = pid.flatMap(ProcessStats.memory)?.rss
        let outcome: (evicted: Int, heartbeats: Int, holdSeconds: Double, cpuSeconds: Double?, rss: (rss: Int, peak: Int)?)
        do {
            outcome = try await hold(environment, system: system, store: store, ramp: ramp, board: board, gate: gate,
                                     watchdog: watchdog, rampStart: rampStart)
        } catch let aborted as RampAborted {
            // What the ramp reached is the result: how many workers the server took, and its memory then.
            var metrics = [Metric("registered", Double(aborted.registered)), Metric("ramp s", (ContinuousClock.now - rampStart).seconds)]
            if let memory = pid.flatMap(ProcessStats.memory) {
                metrics += [Metric("RSS MB", Double(memory.rss) / 1e6), Metric("peak RSS MB", Double(memory.peak) / 1e6)]
            }
            return WorkloadResult(workload: Workload.connections.title(sizes), system: system.rawValue, operations: 0,
                                  elapsed: .zero, latencies: ramp.latencies, metrics: metrics, notes: [("error", aborted.reason)])
        }
        let (evicted, heartbeats, holdSeconds, cpuSeconds, rss) = outcome
        let rampElapsed = (ramp.holdStart ?? rampStart) - rampStart
        var metrics = [Metric("evicted", Double(evicted)), Metric("ramp s", rampElapsed.seconds)]
        if let rss {
            metrics.append(Metric("RSS MB", Double(rss.rss) / 1e6))
            metrics.append(Metric("peak RSS MB", Double(rss.peak) / 1e6))
            if let memoryBefore {
                metrics.append(Metric("RSS per connection KB", Double(rss.rss - memoryBefore) / 1e3 / Double(sizes.connections)))
            }
        }
        return WorkloadResult(
            workload: Workload.connections.title(sizes),
            system: system.rawValue, operations: heartbeats, elapsed: .seconds(holdSeconds), latencies: ramp.latencies,
            serverCPUMicrosPerOp: cpuSeconds.map { $0 * 1e6 / Double(max(heartbeats, 1)) }, metrics: metrics,
            notes: [("op", "one heartbeat during the hold; latency of a worker's connect + registration")])
    }

    /// Why a ramp stopped before every worker registered.
    private struct RampAborted: Error {
        var reason: String
        var registered: Int
    }

    /// Registers every worker (a bounded number connecting at once), holds them all for the hold time,
    /// and returns what the hold saw.
    private static func hold(
        _ environment: BenchEnvironment, system: System, store: WireUUID, ramp: RampState, board: ProgressBoard,
        gate: AsyncSemaphore, watchdog: Watchdog, rampStart: ContinuousClock.Instant
    ) async throws -> (evicted: Int, heartbeats: Int, holdSeconds: Double, cpuSeconds: Double?, rss: (rss: Int, peak: Int)?) {
        let sizes = environment.sizes
        let pid = environment.pid(of: system)
        return try await withThrowingTaskGroup(of: (evicted: Bool, renewals: Int).self) { group in
            for index in 0..<sizes.connections {
                group.addTask {
                    await gate.acquire()
                    if board.failed != nil {
                        gate.release()
                        return (false, 0)
                    }
                    let began = ContinuousClock.now
                    let worker: any HeldWorker
                    do {
                        switch system {
                        case .coordd, .coorddPostgres: worker = try await CoorddHeldWorker(environment: environment, store: store, index: index)
                        case .etcd: worker = try await EtcdHeldWorker(environment: environment, index: index)
                        case .redis: worker = try await RedisHeldWorker(environment: environment, index: index)
                        }
                    } catch {
                        gate.release()
                        board.fail("worker \(index): \(error)")
                        return (false, 0)
                    }
                    let registeredAt = ContinuousClock.now
                    gate.release()
                    watchdog.closers.add(worker.closer)
                    ramp.registered(latency: registeredAt - began)
                    // Wait for the hold to start (all registered), then hold.
                    var end: ContinuousClock.Instant?
                    while end == nil {
                        if board.failed != nil { break }
                        end = ramp.holdStart.map { $0 + .seconds(sizes.holdSeconds) }
                        if end == nil { try? await Task.sleep(for: .milliseconds(50)) }
                    }
                    guard let end else {
                        await worker.release()
                        return (false, 0)
                    }
                    let (kept, renewals) = await worker.hold(until: end)
                    await worker.release()
                    return (!kept, renewals)
                }
            }
            let rampDeadline = rampStart + .seconds(rampTimeoutSeconds)
            while ramp.count < sizes.connections {
                if let failure = board.failed {
                    group.cancelAll()
                    throw RampAborted(reason: "connections ramp failed: \(failure)", registered: ramp.count)
                }
                guard ContinuousClock.now < rampDeadline else {
                    board.fail("ramp timed out")
                    group.cancelAll()
                    throw RampAborted(reason: "only \(ramp.count) of \(sizes.connections) workers registered in \(Int(rampTimeoutSeconds)) s",
                                      registered: ramp.count)
                }
                // The machine is shared: a server whose memory grows past the bound ends the run early.
                if let rss = pid.flatMap(ProcessStats.memory)?.rss, rss > sizes.maxServerRSSMB * 1_000_000 {
                    board.fail("server memory")
                    group.cancelAll()
                    throw RampAborted(reason: "server RSS passed \(sizes.maxServerRSSMB) MB with \(ramp.count) workers registered",
                                      registered: ramp.count)
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            let start = ContinuousClock.now
            ramp.startHold(at: start)
            let meter = pid.map { CPUMeter([$0]) }
            try await Task.sleep(until: start + .seconds(sizes.holdSeconds * 0.9))
            let rss = pid.flatMap(ProcessStats.memory)
            try await Task.sleep(until: start + .seconds(sizes.holdSeconds))
            let cpu = meter?.elapsed()
            var evicted = 0
            var heartbeats = 0
            for try await outcome in group {
                if outcome.evicted { evicted += 1 }
                heartbeats += outcome.renewals
            }
            return (evicted, heartbeats, sizes.holdSeconds, cpu, rss)
        }
    }
}

/// The ramp of a `connections` run: workers registered so far, their latencies, and when the hold
/// began (all registered), which every worker task polls to learn when to stop.
final class RampState: Sendable {
    private struct State {
        var count = 0
        var latencies = Samples()
        var holdStart: ContinuousClock.Instant?
    }

    private let state = Mutex(State())

    func registered(latency: Duration) {
        state.withLock {
            $0.count += 1
            $0.latencies.record(latency)
        }
    }

    func startHold(at instant: ContinuousClock.Instant) { state.withLock { $0.holdStart = instant } }
    var count: Int { state.withLock { $0.count } }
    var latencies: Samples { state.withLock { $0.latencies } }
    var holdStart: ContinuousClock.Instant? { state.withLock { $0.holdStart } }
}

/// A coordd worker: a presence-only `SubscribeWorkers` stream on its own connection, renewed by
/// `Presence`. Like the etcd and Redis workers it does not watch the others: a streamkit worker that
/// receives every snapshot makes a connect storm of K workers cost O(K²) bytes (K snapshots of up to K
/// workers each), which measures the fan-out, not the connections.
final class CoorddHeldWorker: HeldWorker {
    private let worker: RawWorker
    private let connection: CoorddConnection
    var closer: @Sendable () -> Void { connection.close }

    /// Longest wait for the first message, which acknowledges the registration.
    static let registrationTimeoutSeconds = 120.0

    init(environment: BenchEnvironment, store: WireUUID, index: Int) async throws {
        connection = try await environment.coorddTarget.connect()
        let acknowledged = Wakeup()
        let answered = Counter()
        do {
            worker = try await RawWorker(
                provider: connection.provider, store: store, id: WireUUID(PeerInventory.workerID(index))!,
                metadata: PeerInventory.metadata(index), heartbeatMs: Int64(environment.sizes.heartbeatMs),
                presenceOnly: true
            ) { _ in
                answered.increment()
                acknowledged.signal()
            }
        } catch {
            connection.close()
            throw error
        }
        // Registered once the server sent the first message (the Presence acknowledging it).
        let timeout = Self.registrationTimeoutSeconds
        let alarm = Task {
            try? await Task.sleep(for: .seconds(timeout))
            acknowledged.signal()
        }
        await acknowledged.wait()
        alarm.cancel()
        guard answered.value > 0 else {
            worker.close()
            connection.close()
            throw PeerError("coordd did not acknowledge worker \(index) in \(Self.registrationTimeoutSeconds) s")
        }
    }

    func hold(until end: ContinuousClock.Instant) async -> (kept: Bool, renewals: Int) {
        let before = worker.renewals
        try? await Task.sleep(until: end)
        return (worker.isOpen, worker.renewals - before)
    }

    func release() async {
        worker.close()
        connection.close()
    }
}

/// An etcd worker: a lease with TTL 3 × heartbeat and a key under it, kept alive every heartbeat.
final class EtcdHeldWorker: HeldWorker {
    private let etcd: EtcdClient
    var closer: @Sendable () -> Void { etcd.closer }
    private let lease: Int64
    private let periodMs: Int

    init(environment: BenchEnvironment, index: Int) async throws {
        etcd = try await environment.etcdClient()
        periodMs = environment.sizes.heartbeatMs
        do {
            lease = try await etcd.grantLease(ttlSeconds: ConnectionsWorkload.ttlMs(environment.sizes) / 1_000)
            let key = Array("workers/\(environment.runTag)/\(PeerInventory.workerID(index))".utf8)
            guard try await etcd.putIfAbsent(key: key, value: PeerInventory.entry(index, now: 0), lease: lease) else {
                throw PeerError("etcd worker key exists")
            }
        } catch {
            etcd.close()
            throw error
        }
    }

    func hold(until end: ContinuousClock.Instant) async -> (kept: Bool, renewals: Int) {
        var renewals = 0
        while ContinuousClock.now + .milliseconds(periodMs) < end {
            try? await Task.sleep(for: .milliseconds(periodMs))
            do {
                try await etcd.keepAlive([lease])
                renewals += 1
            } catch {
                return (false, renewals)
            }
        }
        try? await Task.sleep(until: end)
        return (true, renewals)
    }

    func release() async {
        try? await etcd.revokeLease(lease)
        etcd.close()
    }
}

/// A Redis worker: a key set with `SET NX PX` (TTL 3 × heartbeat), renewed with `PEXPIRE`.
final class RedisHeldWorker: HeldWorker {
    private let redis: RedisClient
    var closer: @Sendable () -> Void { redis.closer }
    private let key: [UInt8]
    private let ttl: [UInt8]
    private let periodMs: Int

    init(environment: BenchEnvironment, index: Int) async throws {
        redis = try await environment.redisClient()
        key = Array("workers:\(environment.runTag):\(PeerInventory.workerID(index))".utf8)
        ttl = Array(String(ConnectionsWorkload.ttlMs(environment.sizes)).utf8)
        periodMs = environment.sizes.heartbeatMs
        do {
            let set = try await redis.command([Array("SET".utf8), key, PeerInventory.entry(index, now: 0), Array("NX".utf8), Array("PX".utf8), ttl])
            guard try set.checked("SET NX") == .simpleString("OK") else { throw PeerError("redis worker key exists") }
        } catch {
            redis.close()
            throw error
        }
    }

    func hold(until end: ContinuousClock.Instant) async -> (kept: Bool, renewals: Int) {
        var renewals = 0
        while ContinuousClock.now + .milliseconds(periodMs) < end {
            try? await Task.sleep(for: .milliseconds(periodMs))
            guard let reply = try? await redis.command([Array("PEXPIRE".utf8), key, ttl]), reply == .integer(1) else {
                return (false, renewals)
            }
            renewals += 1
        }
        try? await Task.sleep(until: end)
        return (true, renewals)
    }

    func release() async {
        _ = try? await redis.command([Array("DEL".utf8), key])
        redis.close()
    }
}
