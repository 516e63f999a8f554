import CoordBenchKit
import Foundation
import Glibc
import Transport

/// One observer of a fan-out run: it connects and reads the current inventory (the connect storm
/// times this), then reads changes, each identified by a marker that grows with every change
/// (coordd's inventory revision, etcd's revision, the sequence number coordbench puts into a Redis
/// message).
protocol FanoutObserver: AnyObject {
    /// Closes the observer's connection from any task (ends a read in progress).
    var closer: @Sendable () -> Void { get }
    /// Reads the next change; its marker, or nil when the connection ended.
    func next() async throws -> UInt64?
    /// The loop the observer's connection reads on, where its reading task runs with `--clients-on-loops`.
    var eventLoop: EventLoop? { get }
}

/// The side that changes the inventory: joins (even `k`) and leaves (odd `k`) of one extra worker.
protocol FanoutChanger: AnyObject {
    /// Closes the changer's connection from any task.
    var closer: @Sendable () -> Void { get }
    /// Makes change `k`; returns its marker and when the system acknowledged it.
    func change(_ k: Int) async throws -> (marker: UInt64, acknowledged: ContinuousClock.Instant)
    func close() async
}

/// A system prepared for one fan-out variant: its workers registered, observers and a changer to
/// be made. Preparing registers every connection it opens with the workload's closers.
protocol FanoutSystem: Sendable {
    /// Connects observer `index` and reads its first inventory.
    func makeObserver(_ index: Int) async throws -> any FanoutObserver
    func makeChanger() async throws -> any FanoutChanger
    /// Removes the workers and closes what set-up opened.
    func tearDown() async
}

/// What one observer saw: how long its connect and first inventory took, and when each marker arrived.
struct ObserverLog: Sendable {
    var connectNanoseconds: UInt64 = 0
    var markers: [UInt64] = []
    var arrivals: [UInt64] = []
}

/// `fanout`: M registered workers, N observers, one change (a worker joining or leaving) every 1/R s.
/// Latency is from a change's acknowledgement to its arrival at the last observer to receive it. The
/// observers' connects, each until its first inventory, are the connect storm.
enum FanoutWorkload {
    static func run(_ environment: BenchEnvironment, system: System, variant: FanoutVariant) async throws -> [WorkloadResult] {
        let sizes = environment.sizes
        let limit = setupTimeoutSeconds * 2 + Double(sizes.fanoutChanges) / sizes.fanoutRate + sizes.fanoutDrainSeconds + 60
        let watchdog = Watchdog(limit: .now + .seconds(limit))
        defer { watchdog.stop() }
        let prepared: any FanoutSystem
        switch system {
        case .coordd, .coorddPostgres: prepared = try await CoorddFanout.prepare(environment, variant: variant, closers: watchdog.closers)
        case .etcd: prepared = try await EtcdFanout.prepare(environment, variant: variant, closers: watchdog.closers)
        case .redis: prepared = try await RedisFanout.prepare(environment, variant: variant, closers: watchdog.closers)
        }
        do {
            let results = try await measure(environment, system: system, variant: variant, prepared: prepared, closers: watchdog.closers)
            await prepared.tearDown()
            return results
        } catch {
            await prepared.tearDown()
            if watchdog.expired { throw PeerError("\(variant.name) did not finish within \(Int(limit)) s") }
            throw error
        }
    }

    /// Longest time the workers or the observers of one variant may take to connect and register or
    /// read their first inventory.
    static let setupTimeoutSeconds = 180.0

    private static func measure(_ environment: BenchEnvironment, system: System, variant: FanoutVariant,
                                prepared: any FanoutSystem, closers: Closers) async throws -> [WorkloadResult] {
        let sizes = environment.sizes
        let board = ProgressBoard(observers: variant.observers)
        let gate = AsyncSemaphore(sizes.connectConcurrency)
        let origin = ContinuousClock.now
        let pid = environment.pid(of: system)
        let stormCPU = pid.map { CPUMeter([$0]) }
        return try await withThrowingTaskGroup(of: ObserverLog.self) { group in
            for index in 0..<variant.observers {
                group.addTask {
                    var log = ObserverLog()
                    await gate.acquire()
                    let began = ContinuousClock.now
                    let observer: any FanoutObserver
                    do {
                        observer = try await prepared.makeObserver(index)
                    } catch {
                        gate.release()
                        board.fail("observer \(index): \(error)")
                        return log
                    }
                    log.connectNanoseconds = nanoseconds(ContinuousClock.now - began)
                    gate.release()
                    closers.add(observer.closer)
                    board.ready()
                    let loop = sizes.clientsOnLoops ? observer.eventLoop : nil
                    return await withTaskExecutorPreference(loop) { [log] in
                        var log = log
                        while let marker = try? await observer.next() {
                            log.markers.append(marker)
                            log.arrivals.append(nanoseconds(ContinuousClock.now - origin))
                            board.update(index, marker: marker)
                        }
                        return log
                    }
                }
            }
            defer {
                closers.closeAll()
                group.cancelAll()
            }
            // The connect storm: every observer connected and holding its first inventory.
            let setupDeadline = ContinuousClock.now + .seconds(setupTimeoutSeconds)
            while board.readyObservers < variant.observers {
                if let failure = board.failed { throw PeerError("fan-out set-up failed: \(failure)") }
                guard ContinuousClock.now < setupDeadline else {
                    throw PeerError("only \(board.readyObservers) of \(variant.observers) observers connected in \(setupTimeoutSeconds) s")
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            let stormElapsed = ContinuousClock.now - origin
            let stormCPUSeconds = stormCPU?.elapsed()

            // The churn: one change every 1/R s, open loop.
            let changer = try await prepared.makeChanger()
            closers.add(changer.closer)
            var issued: [UInt64] = []
            var acknowledged: [UInt64] = []
            var markers: [UInt64] = []
            let churnCPU = pid.map { CPUMeter([$0]) }
            let clientCPU = CPUMeter([getpid()])
            let churnStart = ContinuousClock.now
            do {
                for k in 0..<sizes.fanoutChanges {
                    try await Task.sleep(until: churnStart + .seconds(Double(k) / sizes.fanoutRate))
                    let sent = ContinuousClock.now
                    let (marker, ack) = try await changer.change(k)
                    issued.append(nanoseconds(sent - origin))
                    acknowledged.append(nanoseconds(ack - origin))
                    markers.append(marker)
                }
            } catch {
                await changer.close()
                throw error
            }
            let finalMarker = markers.last ?? 0
            let drainDeadline = ContinuousClock.now + .seconds(sizes.fanoutDrainSeconds)
            while board.behind(finalMarker) > 0 && ContinuousClock.now < drainDeadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            let churnCPUSeconds = churnCPU?.elapsed()
            let clientCPUSeconds = clientCPU.elapsed()
            await changer.close()
            closers.closeAll()
            var logs: [ObserverLog] = []
            for try await log in group { logs.append(log) }

            let storm = stormResult(variant: variant, system: system, logs: logs, elapsed: stormElapsed, cpuSeconds: stormCPUSeconds)
            let fanout = fanoutResult(variant: variant, system: system, logs: logs, markers: markers, issued: issued,
                                      acknowledged: acknowledged, origin: origin, churnStart: churnStart, cpuSeconds: churnCPUSeconds,
                                      clientCPUSeconds: clientCPUSeconds)
            return [storm, fanout]
        }
    }

    private static func stormResult(variant: FanoutVariant, system: System, logs: [ObserverLog], elapsed: Duration,
                                    cpuSeconds: Double?) -> WorkloadResult {
        var latencies = Samples()
        for log in logs { latencies.record(nanoseconds: log.connectNanoseconds) }
        return WorkloadResult(
            workload: "connect storm (\(variant.observers) observers, \(variant.workers) workers, \(variant.deltas ? "deltas" : "snapshots"))",
            system: system.rawValue, operations: logs.count, elapsed: elapsed, latencies: latencies,
            serverCPUMicrosPerOp: cpuSeconds.map { $0 * 1e6 / Double(max(logs.count, 1)) },
            notes: [("op", "connect + first inventory")])
    }

    private static func fanoutResult(variant: FanoutVariant, system: System, logs: [ObserverLog], markers: [UInt64],
                                     issued: [UInt64], acknowledged: [UInt64], origin: ContinuousClock.Instant,
                                     churnStart: ContinuousClock.Instant, cpuSeconds: Double?,
                                     clientCPUSeconds: Double?) -> WorkloadResult {
        // The arrival of change k at the last observer: for each observer, the first message whose
        // marker reached change k's (an observer may skip a revision: latest wins).
        var lastArrival = [UInt64](repeating: 0, count: markers.count)
        var missing = [Int](repeating: 0, count: markers.count)
        var deliveries = 0
        var lastDelivery: UInt64 = 0
        for log in logs {
            deliveries += log.markers.count
            if let last = log.arrivals.last { lastDelivery = max(lastDelivery, last) }
            var position = 0
            for (k, marker) in markers.enumerated() {
                while position < log.markers.count && log.markers[position] < marker { position += 1 }
                if position < log.markers.count {
                    lastArrival[k] = max(lastArrival[k], log.arrivals[position])
                } else {
                    missing[k] += 1
                }
            }
        }
        var fromAck = Samples()
        var fromIssue = Samples()
        var missed = 0
        for k in markers.indices {
            if missing[k] > 0 {
                missed += 1
                continue
            }
            fromAck.record(nanoseconds: lastArrival[k] > acknowledged[k] ? lastArrival[k] - acknowledged[k] : 0)
            fromIssue.record(nanoseconds: lastArrival[k] > issued[k] ? lastArrival[k] - issued[k] : 0)
        }
        let churnBegan = nanoseconds(churnStart - origin)
        let span = Double(max(lastDelivery, churnBegan + 1) - churnBegan) / 1e9
        let issueSummary = fromIssue.summaryMs
        var notes: [(String, String)] = [("latency", "acknowledgement → last observer")]
        if missed > 0 { notes.append(("missed", "\(missed) of \(markers.count) changes did not reach every observer")) }
        return WorkloadResult(
            workload: variant.name, system: system.rawValue, operations: markers.count,
            elapsed: .nanoseconds(Int64((acknowledged.last ?? churnBegan) - min(churnBegan, acknowledged.last ?? churnBegan))),
            latencies: fromAck,
            serverCPUMicrosPerOp: cpuSeconds.map { $0 * 1e6 / Double(max(markers.count, 1)) },
            metrics: [Metric("deliveries/s", Double(deliveries) / max(span, 1e-9)),
                      Metric("issue→last p99 ms", issueSummary.p99)]
                + (clientCPUSeconds.map { [Metric("client CPU µs/change", $0 * 1e6 / Double(max(markers.count, 1)))] } ?? []),
            notes: notes)
    }
}

/// Nanoseconds of a non-negative duration.
func nanoseconds(_ duration: Duration) -> UInt64 {
    let (seconds, attoseconds) = duration.components
    guard seconds >= 0, attoseconds >= 0 else { return 0 }
    return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
}
