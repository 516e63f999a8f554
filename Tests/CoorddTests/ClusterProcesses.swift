import CoordClient
import CoordTestKit
import Foundation
import PostgresKit
import StreamCore
import Synchronization
import Testing
import Transport

/// Several real `coordd` processes on one test database, each in a slot with a fixed node id
/// (`node-0`, `node-1`, …), one cluster secret, and a client per running daemon. A slot's daemon can be
/// killed, stopped and started again (same node id, a new port: its default advertise URL is the port it
/// bound). Which daemon owns a store is read from PostgreSQL, never assumed.
final class ClusterProcesses: Sendable {
    /// A running daemon of a slot and its client.
    struct Member: Sendable {
        let daemon: DaemonProcess
        let client: CoordClient
        let provider: WebSocketProvider
        let port: Int
    }

    let db: TestDatabase
    let scratch: TemporaryDirectory
    let count: Int
    /// `--ownership-ttl` as given (`3s`), and in milliseconds.
    let ttl: String
    let ttlMs: Int
    private let secretPath: String
    private let members: Mutex<[Member?]>
    /// Every process started here, also the ones that ended: ``stopAll()`` kills whichever still runs.
    private let started = Mutex<[DaemonProcess]>([])
    private let starts = Atomic<Int>(0)
    private let shutDownStarted = Atomic<Bool>(false)
    private let pool: PostgresPool
    /// The clients' own event loop: their load (and their redials of killed daemons) stays off the loops
    /// the other network tests share, whose servers would otherwise answer late.
    private let loops: EventLoopGroup

    /// One attempt per call, so a call to a daemon that was just killed fails at once and the caller
    /// moves on to another daemon.
    static let clientLimits: WebSocketClientLimits = {
        var limits = WebSocketClientLimits()
        limits.maxCallAttempts = 1
        limits.handshakeTimeoutMs = 5_000
        return limits
    }()

    static func nodeID(_ slot: Int) -> String { "node-\(slot)" }

    /// Starts `count` daemons on a new database, one after another.
    static func start(_ label: String, count: Int = 3, ttlMs: Int) async throws -> ClusterProcesses {
        let db = try await TestPostgres.database(label)
        let scratch = try TemporaryDirectory(prefix: "coordd-cluster-\(label)")
        let cluster = try ClusterProcesses(db: db, scratch: scratch, count: count, ttlMs: ttlMs)
        do {
            for slot in 0..<count { try await cluster.start(slot) }
        } catch {
            await cluster.shutDown()
            throw error
        }
        return cluster
    }

    private init(db: TestDatabase, scratch: TemporaryDirectory, count: Int, ttlMs: Int) throws {
        self.db = db
        self.scratch = scratch
        self.count = count
        self.ttlMs = ttlMs
        ttl = "\(ttlMs)ms"
        secretPath = scratch.path + "/cluster-secret"
        let secret = (0..<48).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! }
        try String(secret).write(toFile: secretPath, atomically: true, encoding: .utf8)
        members = Mutex(Array(repeating: nil, count: count))
        pool = PostgresPool(settings: PostgresSettings(url: db.url), size: 1)
        loops = try EventLoopGroup(loopCount: 1)
    }

    /// Starts `slot`'s daemon (again), waits for its listener and makes its client.
    func start(_ slot: Int) async throws {
        let n = starts.add(1, ordering: .relaxed).newValue
        let daemon = try DaemonProcess(
            arguments: ["--listen", "127.0.0.1:0", "--storage", "postgres", "--postgres-pool", "4",
                        "--cluster-node-id", Self.nodeID(slot), "--ownership-ttl", ttl, "--cluster-secret-file", secretPath],
            logPath: scratch.path + "/\(Self.nodeID(slot)).\(n).log", environment: ["COORDD_POSTGRES_URL": db.url])
        started.withLock { $0.append(daemon) }
        let port = try DaemonShutdownTests.port(try await daemon.listeningAddress(seconds: 60))
        let provider = try WebSocketProvider(url: "ws://127.0.0.1:\(port)", group: loops, limits: Self.clientLimits)
        let member = Member(daemon: daemon, client: CoordClient(provider: provider), provider: provider, port: port)
        members.withLock { $0[slot] = member }
    }

    /// The running member of `slot`, nil while it is down.
    func member(_ slot: Int) -> Member? { members.withLock { $0[slot] } }

    /// The client of `slot`'s daemon, nil while it is down.
    func client(_ slot: Int) -> CoordClient? { member(slot)?.client }

    /// Takes `slot` down: its client is closed, then `signal` is sent and the exit awaited.
    @discardableResult
    func stop(_ slot: Int, signal: Int32) async throws -> (status: Int32, reason: DaemonProcess.TerminationReason) {
        let taken = members.withLock { s -> Member? in
            let member = s[slot]
            s[slot] = nil
            return member
        }
        guard let member = taken else {
            throw DaemonProcessError("slot \(slot) is not running")
        }
        if member.daemon.isRunning { member.daemon.signal(signal) }
        let exit = try await member.daemon.waitForExit(seconds: 30)
        await member.provider.close()
        return (exit.status, exit.reason)
    }

    /// The node that owns `store` now (an unexpired row, on PostgreSQL's clock), and its epoch.
    func owner(of store: WireUUID = .defaultStore) async throws -> (node: String, epoch: Int64)? {
        try await pool.run { s throws(StreamsError) -> (node: String, epoch: Int64)? in
            let rows = try s.query(
                "SELECT owner_node, epoch FROM coordd_store_owner WHERE store_id = $1 AND expires_at > clock_timestamp()",
                [.uuid(store)])
            guard rows.count == 1, let node = try rows.string(0, 0), let epoch = try rows.int64(0, 1) else { return nil }
            return (node, epoch)
        }
    }

    /// The slot of the running daemon that owns `store`, once there is one (bounded by `seconds`).
    func ownerSlot(of store: WireUUID = .defaultStore, seconds: Double = 30) async -> (slot: Int, epoch: Int64)? {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if let found = await runningOwner(of: store) { return found }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    private func runningOwner(of store: WireUUID) async -> (slot: Int, epoch: Int64)? {
        guard let owner = try? await owner(of: store) else { return nil }
        for slot in 0..<count where Self.nodeID(slot) == owner.node && member(slot) != nil {
            return (slot, owner.epoch)
        }
        return nil
    }

    /// The live node ids `slot`'s daemon lists in its `/readyz` detail (`cluster node=…` lines).
    func liveNodes(seenBy slot: Int) async -> Set<String> {
        guard let port = member(slot)?.port, let body = try? await httpGet(port: port, path: "/readyz").body else { return [] }
        return Set(body.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("cluster node=") else { return nil }
            return line.split(separator: " ")[1].dropFirst("node=".count).description
        })
    }

    /// Waits (bounded) until every running daemon lists every running daemon as live.
    func waitUntilEveryoneSeesEveryone(seconds: Double = 30) async -> Bool {
        await eventually(seconds: seconds) { await self.everyoneSeesEveryone() }
    }

    private func everyoneSeesEveryone() async -> Bool {
        let running = (0..<count).filter { member($0) != nil }
        let expected = Set(running.map(Self.nodeID))
        for slot in running {
            let seen = await liveNodes(seenBy: slot)
            if !expected.isSubset(of: seen) { return false }
        }
        return true
    }

    /// `body` on a running daemon's client, tried again (up to 40 times, 250 ms apart, moving from daemon
    /// to daemon) while it fails transiently: ownership may still be moving.
    func settled<T: Sendable>(_ body: (CoordClient) async throws -> T) async throws -> T {
        for attempt in 0..<40 {
            if let client = client(attempt % count) {
                do {
                    return try await body(client)
                } catch let error as StreamsError where error.code == .transient {
                    // tried again below
                }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        guard let client = client(0) ?? client(1) ?? client(2) else { throw DaemonProcessError("no daemon runs") }
        return try await body(client)
    }

    /// The tail of every log of `slot`'s daemons, for failure messages.
    func logs(_ slot: Int, tail: Int = 2_000) -> String {
        started.withLock { $0 }.filter { $0.logPath.contains("/\(Self.nodeID(slot)).") }
            .map { "--- \($0.logPath)\n\($0.logText.suffix(tail))" }.joined(separator: "\n")
    }

    /// Kills every process that still runs (for `defer`, also after a failure).
    func stopAll() {
        for daemon in started.withLock({ $0 }) { daemon.stop() }
    }

    /// Stops every running daemon with SIGTERM, closes the clients, drops the database and removes the logs.
    func shutDown() async {
        guard !shutDownStarted.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for slot in 0..<count where member(slot) != nil {
            _ = try? await stop(slot, signal: SIGTERM)
        }
        stopAll()
        // Joining the loop's thread blocks: not on a thread of the concurrency pool.
        let loops = self.loops
        try? await Posix.runBlocking(name: "cluster-test-loops-stop") { loops.shutdownGracefully(graceMs: 0) }
        await pool.close()
        await db.drop()
        scratch.remove()
    }
}
