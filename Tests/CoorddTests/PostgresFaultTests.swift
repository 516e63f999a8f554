import CoordClient
import CoordTestKit
import Foundation
import StreamCore
import Synchronization
import Testing
import Transport

/// The real `coordd` on `--storage postgres` under produce + lease load, through the two faults an
/// operator meets: PostgreSQL restarted (fast shutdown, then started again) while coordd keeps running,
/// and coordd killed with SIGKILL and started again on the same database. Either way every acknowledged
/// entry and grant is there afterwards, and fences granted after the fault are above every one before.
@Suite(.serialized, .enabled(if: TestPostgres.binaries != nil && TestPostgres.externalURL == nil,
                             Comment(rawValue: "needs PostgreSQL's binaries to stop and start a server of its own")))
struct PostgresFaultTests {
    /// Produces in 10-record chunks to one segment and acquires a new key per request, from two tasks,
    /// recording what was acknowledged and every failure, until stopped.
    final class Load: Sendable {
        /// The highest sequence acknowledged.
        let acknowledgedSequence = Atomic<UInt64>(0)
        /// Every grant acknowledged: key → fence.
        let grants = Mutex<[String: UInt64]>([:])
        /// Failures seen, by their code and name.
        let failures = Mutex<[String]>([])
        /// Successes since ``markFault()`` (produces, grants).
        let producedSinceMark = Atomic<Int>(0)
        let grantedSinceMark = Atomic<Int>(0)
        /// The highest fence granted before ``markFault()``.
        let fenceAtMark = Atomic<UInt64>(0)
        /// The lowest fence granted after ``markFault()``.
        let lowestFenceAfterMark = Atomic<UInt64>(.max)
        let marked = Atomic<Bool>(false)
        private let stopped = Atomic<Bool>(false)
        /// The leaser's keys are this prefix and a number.
        let keyPrefix: String
        /// Requests each task makes at most: the test stops them long before.
        static let maxRequests = 100_000
        /// The pause after a failed request, so a store that is down is not asked in a hot loop.
        static let retryPause = Duration.milliseconds(50)

        init(keyPrefix: String = "partition-") {
            self.keyPrefix = keyPrefix
        }

        func stop() { stopped.store(true, ordering: .releasing) }
        var isStopped: Bool { stopped.load(ordering: .acquiring) }

        /// From now on successes count as after the fault, and their fences must be above every earlier one.
        func markFault() {
            fenceAtMark.store(grants.withLock { $0.values.max() ?? 0 }, ordering: .releasing)
            producedSinceMark.store(0, ordering: .releasing)
            grantedSinceMark.store(0, ordering: .releasing)
            marked.store(true, ordering: .releasing)
        }

        func failed(_ error: StreamsError) {
            failures.withLock { $0.append("\(error.code == .transient ? "transient" : "permanent") \(error.name): \(error.message)") }
        }

        /// The producer and the leaser, each in a task.
        func start(_ client: CoordClient) -> [Task<Void, Never>] {
            [Task { await self.produce(client) }, Task { await self.acquire(client) }]
        }

        private func produce(_ client: CoordClient) async {
            var next = acknowledgedSequence.load(ordering: .acquiring) + 1
            for _ in 0..<Self.maxRequests where !isStopped {
                let records = (0..<10).map { Record(sequence: next + UInt64($0), payload: Array("entry-\(next + UInt64($0))".utf8)) }
                do throws(StreamsError) {
                    let statuses = try await client.produce(space: "orders", segment: "a", records: records)
                    guard let last = statuses.last?.lastSequence else { continue }
                    acknowledgedSequence.store(last, ordering: .releasing)
                    next = last + 1
                    if marked.load(ordering: .acquiring) { _ = producedSinceMark.wrappingAdd(1, ordering: .relaxed) }
                } catch {
                    failed(error)
                    try? await Task.sleep(for: Self.retryPause)
                    // A chunk whose commit was cut off may have committed: go on after what the segment holds.
                    if let head = try? await client.peek(space: "orders", segment: "a") { next = head.sequence + 1 }
                }
            }
        }

        private func acquire(_ client: CoordClient) async {
            for n in 0..<Self.maxRequests where !isStopped {
                let key = "\(keyPrefix)\(n)"
                do throws(StreamsError) {
                    let result = try await client.acquire(key: key, holder: "holder-\(n)", ttl: .seconds(300))
                    guard result.ok, let fence = result.fence else { continue }
                    grants.withLock { $0[key] = fence }
                    if marked.load(ordering: .acquiring) {
                        _ = grantedSinceMark.wrappingAdd(1, ordering: .relaxed)
                        _ = lowestFenceAfterMark.min(fence, ordering: .relaxed)
                    }
                } catch {
                    failed(error)
                    try? await Task.sleep(for: Self.retryPause)
                }
            }
        }

        /// Waits (bounded) until 30 entries and 10 grants were acknowledged.
        func warmedUp(seconds: Double) async -> Bool {
            await eventually(seconds: seconds) {
                acknowledgedSequence.load(ordering: .acquiring) >= 30 && grants.withLock { $0.count } >= 10
            }
        }

        /// Stops the load and waits for its tasks.
        func stop(_ tasks: [Task<Void, Never>]) async {
            stop()
            for task in tasks { await task.value }
        }

        /// Waits (bounded) until both tasks succeeded `count` times since the mark.
        func resumed(count: Int, seconds: Double) async -> Bool {
            await eventually(seconds: seconds) {
                producedSinceMark.load(ordering: .acquiring) >= count && grantedSinceMark.load(ordering: .acquiring) >= count
            }
        }
    }

    /// A daemon on `db` as node `node`, with `arguments` besides, and a client of it. One node id for every
    /// start of a test: a restarted daemon takes its stores over at once (its port, and so its default id,
    /// changes from start to start here).
    static func start(_ db: TestDatabase, log: String, node: String = "coordd-fault-test", arguments: [String] = []) async throws
        -> (DaemonProcess, CoordClient, WebSocketProvider)
    {
        let daemon = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--storage", "postgres", "--postgres-pool", "4",
                                                   "--cluster-node-id", node] + arguments,
                                       logPath: log, environment: ["COORDD_POSTGRES_URL": db.url])
        do {
            let port = try DaemonShutdownTests.port(try await daemon.listeningAddress(seconds: 60))
            let (client, provider) = try DaemonShutdownTests.client(port: port)
            return (daemon, client, provider)
        } catch {
            daemon.stop()
            throw error
        }
    }

    /// A daemon on `db` with a ``Load`` running against it, once 30 entries and 10 grants were acknowledged.
    static func startUnderLoad(_ db: TestDatabase, log: String) async throws
        -> (DaemonProcess, CoordClient, WebSocketProvider, Load, [Task<Void, Never>])
    {
        let (daemon, client, provider) = try await start(db, log: log)
        let load = Load()
        let tasks = load.start(client)
        guard await load.warmedUp(seconds: 60) else {
            await load.stop(tasks)
            await provider.close()
            daemon.stop()
            throw DaemonProcessError("the load did not get going within 60 s; log:\n\(daemon.logText.suffix(3_000))")
        }
        return (daemon, client, provider, load, tasks)
    }

    /// Every acknowledged entry reads back, contiguous from 1; every acknowledged grant is held with its
    /// fence; a new grant's fence is above every one granted.
    static func checkNothingAcknowledgedIsLost(_ load: Load, client: CoordClient) async throws {
        let acknowledged = load.acknowledgedSequence.load(ordering: .acquiring)
        let entries = try await retryingTransient {
            var entries: [Entry] = []
            for try await entry in client.consumeSegment(ConsumeSegment(space: "orders", segment: "a")) {
                entries.append(entry)
                if entries.count >= 1_000_000 { break }
            }
            return entries
        }
        for entry in entries { #expect(entry.payload == Array("entry-\(entry.sequence)".utf8)) }
        let sequences = entries.map(\.sequence)
        #expect(sequences.count >= Int(acknowledged), "acknowledged \(acknowledged), read back \(sequences.count)")
        #expect(sequences == (0..<sequences.count).map { UInt64($0) + 1 }, "contiguous from 1")

        let grants = load.grants.withLock { $0 }
        let leases = try await retryingTransient { () async throws(StreamsError) in try await client.leases(prefix: "partition-") }
        let held = Dictionary(uniqueKeysWithValues: leases.map { ($0.key, $0) })
        for (key, fence) in grants {
            #expect(held[key]?.fence == fence, "lease \(key) granted with fence \(fence): \(String(describing: held[key]))")
        }
        let fresh = try await retryingTransient { () async throws(StreamsError) in
            try await client.acquire(key: "after-the-fault", holder: "h", ttl: .seconds(5))
        }
        #expect(fresh.ok && (fresh.fence ?? 0) > (grants.values.max() ?? 0), "fences keep rising")
    }

    @Test(.timeLimit(.minutes(4)))
    func postgresRestartedUnderLoadFailsInFlightRequestsTransientlyAndServiceResumesByItself() async throws {
        let server = try await TestPostgresServer.start()
        let db = try await server.database("restart")
        let scratch = try TemporaryDirectory(prefix: "coordd-pgfault")
        defer { scratch.remove() }
        let (daemon, client, provider, load, tasks) = try await Self.startUnderLoad(db, log: scratch.path + "/coordd.log")
        defer { daemon.stop() }

        // Fast shutdown: PostgreSQL ends every session, so transactions in flight fail.
        await server.stop(signal: SIGINT)
        load.markFault()
        #expect(await eventually(seconds: 30) { load.failures.withLock { $0.count } >= 2 }, "requests fail while it is down")
        try await server.startProcess()
        // Each request tries the store once; the first one after PostgreSQL is back opens it again.
        let resumed = await load.resumed(count: 5, seconds: 90)
        await load.stop(tasks)
        #expect(resumed, "produce and lease requests succeed again without restarting coordd; log:\n\(daemon.logText.suffix(3_000))")

        let failures = load.failures.withLock { $0 }
        #expect(!failures.isEmpty)
        let permanent = failures.filter { !$0.hasPrefix("transient ") }
        #expect(permanent.isEmpty, "every failure is transient: \(permanent.prefix(5))")
        #expect(load.lowestFenceAfterMark.load(ordering: .acquiring) > load.fenceAtMark.load(ordering: .acquiring),
                "fences granted after the restart are above every one before")
        #expect(daemon.logText.contains("store writes stopped"), "the store was reopened after its writes stopped")
        try await Self.checkNothingAcknowledgedIsLost(load, client: client)

        await provider.close()
        daemon.signal(SIGTERM)
        _ = try await daemon.waitForExit(seconds: 30)
        await db.drop()
        await server.stop()
    }

    @Test(.timeLimit(.minutes(3)))
    func sigkillOfCoorddUnderLoadLosesNoAcknowledgedEntryOrGrant() async throws {
        let db = try await TestPostgres.database("sigkill")
        defer { Task { await db.drop() } }
        let scratch = try TemporaryDirectory(prefix: "coordd-pgkill")
        defer { scratch.remove() }
        let (first, _, provider, load, tasks) = try await Self.startUnderLoad(db, log: scratch.path + "/first.log")
        defer { first.stop() }

        first.signal(SIGKILL)
        let exit = try await first.waitForExit(seconds: 15)
        #expect(exit.reason == .uncaughtSignal)
        await load.stop(tasks)
        await provider.close()
        load.markFault()

        let (second, again, againProvider) = try await Self.start(db, log: scratch.path + "/second.log")
        defer { second.stop() }
        try await Self.checkNothingAcknowledgedIsLost(load, client: again)
        // Load again on the restarted daemon: grants go on above every fence granted before the kill.
        let more = Load(keyPrefix: "after-kill-")
        more.acknowledgedSequence.store(try await again.peek(space: "orders", segment: "a").sequence, ordering: .releasing)
        let fenceBefore = load.grants.withLock { $0.values.max() ?? 0 }
        let moreTasks = more.start(again)
        more.markFault()
        let resumed = await more.resumed(count: 5, seconds: 60)
        await more.stop(moreTasks)
        #expect(resumed)
        #expect(more.lowestFenceAfterMark.load(ordering: .acquiring) > fenceBefore, "fences keep rising across the kill")
        #expect(more.failures.withLock { $0 }.isEmpty)
        await againProvider.close()
        second.signal(SIGTERM)
        _ = try await second.waitForExit(seconds: 30)
    }
}
