import CoordTestKit
import Coordinator
import CoordClient
import Foundation
import PostgresKit
import StreamCore
import Testing
import Transport

/// `--storage postgres` options, and a daemon started on them: it connects, prepares the schema, is ready
/// and serves stores from PostgreSQL, across restarts; never showing the password.
struct PostgresConfigurationTests {
    func parse(_ arguments: [String], _ environment: [String: String] = [:]) throws(DaemonConfigurationError) -> DaemonConfiguration {
        guard case .run(let configuration) = try DaemonConfiguration.parse(arguments: arguments, environment: environment) else {
            throw DaemonConfigurationError(setting: nil, "not a run")
        }
        return configuration
    }

    @Test func flagsAndEnvironmentSetThePostgresSettings() throws {
        let c = try parse(["--storage", "postgres", "--postgres-pool", "3", "--postgres-statement-timeout", "5s",
                           "--postgres-password-file", "/run/secrets/pg"],
                          ["COORDD_POSTGRES_URL": "postgresql://coordd:hunter2@db:5432/coordd?sslmode=verify-full"])
        #expect(c.storage == .postgres)
        #expect(c.postgresURL == "postgresql://coordd:hunter2@db:5432/coordd?sslmode=verify-full")
        #expect(c.postgresPoolSize == 3)
        #expect(c.postgresStatementTimeoutMs == 5_000)
        #expect(c.postgresPasswordFile == "/run/secrets/pg")
        let logged = c.logFields.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        #expect(logged.contains("postgres=postgresql://coordd:***@db:5432/coordd?sslmode=verify-full"))
        #expect(!logged.contains("hunter2"))
    }

    @Test(arguments: [
        (["--storage", "postgres"], "postgres storage needs --postgres-url"),
        (["--postgres-url", "postgresql://h/db"], "applies only with --storage postgres"),
        (["--storage", "postgres", "--postgres-url", "postgresql://h/db", "--postgres-pool", "0"], "from 1 to 100"),
        (["--storage", "postgres", "--postgres-url", "postgresql://h/db", "--postgres-statement-timeout", "2h"], "at most 1h"),
        (["--storage", "sqlite"], "must be file, memory or postgres"),
    ])
    func badPostgresSettingsAreRefused(arguments: [String], message: String) {
        do {
            _ = try parse(arguments)
            Issue.record("accepted \(arguments)")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }
}

@Suite(.enabled(if: TestPostgres.available, Comment(rawValue: TestPostgres.skipNotice)))
struct PostgresDaemonTests {
    static func configuration(url: String, passwordFile: String? = nil) -> DaemonConfiguration {
        var configuration = DaemonConfiguration()
        configuration.listen = ListenAddress(host: "127.0.0.1", port: 0)
        configuration.storage = .postgres
        configuration.postgresURL = url
        configuration.postgresPasswordFile = passwordFile
        configuration.postgresPoolSize = 2
        configuration.shutdownGraceMs = 2_000
        return configuration
    }

    static func readyz(_ daemon: Daemon) -> (Int, String) {
        let response = daemon.endpoints.respond(to: HTTPRequestHead(method: "GET", target: "/readyz"))
        return (response?.status ?? 0, String(decoding: response?.body ?? [], as: UTF8.self))
    }

    @Test func startsPreparesTheSchemaIsReadyAndServesStores() async throws {
        let db = try await TestPostgres.database("daemon")
        defer { Task { await db.drop() } }
        let scratch = try TemporaryDirectory(prefix: "coordd-pg-daemon")
        defer { scratch.remove() }
        let passwordFile = scratch.path + "/password"
        try (TestPostgres.password + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let lines = LineCollector()
        let declared = WireUUID.random()
        var configuration = Self.configuration(url: db.urlWithoutPassword, passwordFile: passwordFile)
        configuration.declaredStores = [declared]
        let daemon = try await Daemon.start(configuration, logger: Logger(level: .debug, sink: lines.sink), loopCount: 1)
        let (status, body) = Self.readyz(daemon)
        #expect(status == 200, "\(body)")
        #expect(lines.all.contains { $0.contains("msg=\"postgres schema ready\"") })
        #expect(!lines.all.contains { $0.contains(TestPostgres.password) })
        let node = try await daemon.nodes.node(for: .defaultStore)
        #expect(node.store.storageKind == "postgres")
        await daemon.shutdown()
        let pool = PostgresPool(settings: PostgresSettings(url: db.url), size: 1)
        #expect(try await PostgresSchema.installedVersion(on: pool) == PostgresSchema.version)
        let stores = try await pool.run { s throws(StreamsError) in
            try [declared, WireUUID.defaultStore].map { id throws(StreamsError) in try PostgresStoreSQL(store: id).exists(on: s) }
        }
        #expect(stores == [true, true], "the declared store and the default store are in coordd_stores")
        await pool.close()
    }

    /// Entries, a lease and its fence outlive the daemon: a client produces and takes a lease over the
    /// network, the daemon stops and a new one starts on the same database, and everything is there.
    @Test func entriesAndLeasesSurviveARestart() async throws {
        let db = try await TestPostgres.database("restart")
        defer { Task { await db.drop() } }
        let configuration = Self.configuration(url: db.url)
        var daemon = try await Daemon.start(configuration, logger: Logger(sink: { _ in }), loopCount: 1)
        var provider = try WebSocketProvider(url: "ws://127.0.0.1:\(daemon.localAddress.port)", group: TestNetwork.group)
        var client = CoordClient(provider: provider, store: .defaultStore)
        let records = (1...25).map { Record(sequence: UInt64($0), payload: Array("entry-\($0)".utf8)) }
        let statuses = try await client.produce(space: "orders", segment: "eu", records: records)
        #expect(statuses.last?.lastSequence == 25)
        #expect(try await client.acquire(key: "partition/7", holder: "first", ttl: .seconds(60)).fence == 1)
        #expect(try await client.release(key: "partition/7", holder: "first").ok)
        let granted = try await client.acquire(key: "partition/7", holder: "worker-a", ttl: .seconds(60))
        #expect(granted.ok && granted.fence == 2)
        try await client.produce(space: "orders", segment: "eu", records: [Record(sequence: 26, payload: [1])],
                                 fence: Fence(key: "partition/7", token: 2))
        await provider.close()
        await daemon.shutdown()

        daemon = try await Daemon.start(configuration, logger: Logger(sink: { _ in }), loopCount: 1)
        provider = try WebSocketProvider(url: "ws://127.0.0.1:\(daemon.localAddress.port)", group: TestNetwork.group)
        client = CoordClient(provider: provider, store: .defaultStore)
        var read: [Entry] = []
        for try await entry in client.consumeSegment(ConsumeSegment(space: "orders", segment: "eu")) {
            read.append(entry)
            if read.count == 26 { break }
        }
        #expect(read.map(\.sequence) == Array(1...26))
        #expect(read.first?.payload == Array("entry-1".utf8))
        let leases = try await client.leases(prefix: "partition/")
        #expect(leases.map(\.holder) == ["worker-a"] && leases.map(\.fence) == [2], "the lease and its fence are back")
        let other = try await client.acquire(key: "partition/7", holder: "worker-b", ttl: .seconds(60))
        #expect(!other.ok, "the restored lease is still held")
        await #expect(throws: StreamsError.self, "a stale fence is refused after the restart") {
            try await client.produce(space: "orders", segment: "eu", records: [Record(sequence: 27, payload: [2])],
                                     fence: Fence(key: "partition/7", token: 1))
        }
        #expect(try await client.release(key: "partition/7", holder: "worker-a").ok)
        let next = try await client.acquire(key: "partition/7", holder: "worker-b", ttl: .seconds(60))
        #expect(next.ok && next.fence == 3, "fences go on above every one granted before the restart")
        await provider.close()
        await daemon.shutdown()
    }

    @Test func aNewerSchemaStopsTheStartWithAClearMessage() async throws {
        let db = try await TestPostgres.database("newer")
        defer { Task { await db.drop() } }
        let pool = PostgresPool(settings: PostgresSettings(url: db.url), size: 1)
        try await PostgresSchema.prepare(on: pool)
        try await pool.run { s throws(StreamsError) in try s.execute("UPDATE coordd_schema SET version = 7") }
        await pool.close()
        do {
            let daemon = try await Daemon.start(Self.configuration(url: db.url), logger: Logger(sink: { _ in }), loopCount: 1)
            await daemon.shutdown()
            Issue.record("a newer schema must stop the start")
        } catch {
            #expect(error.message.contains("schema version 7, newer than this coordd knows"))
            #expect(error.exitStatus == 1)
        }
    }

    @Test func anUnreachableServerLeavesTheDaemonRunningAndNotReadyWithTheReason() async throws {
        // Port 1 of loopback: privileged, so nothing of a test's listens there, and a connection is refused.
        let port = 1
        let url = "postgresql://coordd:s3cret-\(port)@127.0.0.1:\(port)/coordd?connect_timeout=2"
        let lines = LineCollector()
        let daemon = try await Daemon.start(Self.configuration(url: url), logger: Logger(sink: lines.sink), loopCount: 1)
        let (status, body) = Self.readyz(daemon)
        #expect(status == 503)
        #expect(body.contains("postgres storage: cannot reach postgresql://coordd:***@127.0.0.1:\(port)/coordd"))
        #expect(!body.contains("s3cret"))
        #expect(!lines.all.contains { $0.contains("s3cret") })
        await daemon.shutdown()
    }
}
