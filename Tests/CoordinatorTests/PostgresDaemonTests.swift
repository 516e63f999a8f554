import CoordTestKit
import Coordinator
import Foundation
import PostgresKit
import StreamCore
import Testing
import Transport

/// `--storage postgres` options, and a daemon started on them: it connects, prepares the schema and
/// says honestly on `/readyz` that the store backend is missing; never showing the password.
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

    @Test func startsPreparesTheSchemaAndIsNotReadyWithoutTheStoreBackend() async throws {
        let db = try await TestPostgres.database("daemon")
        defer { Task { await db.drop() } }
        let scratch = try TemporaryDirectory(prefix: "coordd-pg-daemon")
        defer { scratch.remove() }
        let passwordFile = scratch.path + "/password"
        try (TestPostgres.password + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let lines = LineCollector()
        let daemon = try await Daemon.start(Self.configuration(url: db.urlWithoutPassword, passwordFile: passwordFile),
                                            logger: Logger(level: .debug, sink: lines.sink), loopCount: 1)
        let (status, body) = Self.readyz(daemon)
        #expect(status == 503)
        #expect(body.contains(PostgresStorageStatus.backendMissing))
        #expect(body.contains("schema version \(PostgresSchema.version)"))
        #expect(lines.all.contains { $0.contains("msg=\"postgres schema ready\"") })
        #expect(!lines.all.contains { $0.contains(TestPostgres.password) })
        // A stream for a store is told the same, as a transient error.
        do {
            _ = try await daemon.nodes.node(for: .defaultStore)
            Issue.record("no store can open without the backend")
        } catch {
            #expect(error.code == .transient)
            #expect(error.message.contains(PostgresStorageStatus.backendMissing))
        }
        await daemon.shutdown()
        let pool = PostgresPool(settings: PostgresSettings(url: db.url), size: 1)
        #expect(try await PostgresSchema.installedVersion(on: pool) == PostgresSchema.version)
        await pool.close()
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
