import Foundation
import Glibc
import PostgresKit
import StreamCore

/// A real PostgreSQL for tests: the server `COORDD_TEST_POSTGRES_URL` names, or one this process starts
/// (initdb in a temporary directory, run as the unprivileged user `coordd-test` when the tests run as
/// root, on a free port of 127.0.0.1) and stops by its PID when the process exits.
///
/// Each test takes a database of its own (``database()``), so tests run in parallel. Where PostgreSQL is
/// missing the tests skip with a notice (``available``), except in CI (`COORDD_CI=1`), where they run
/// and fail.
public enum TestPostgres {
    /// The password of the servers started here (password authentication over TCP, as in production).
    public static let password = "coordd-test-secret"

    /// The directory of `initdb`, `pg_ctl` and `postgres`, or nil when PostgreSQL is not installed.
    public static let binaries: String? = {
        var candidates = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map(String.init)
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        candidates += versions.sorted(by: >).map { "/usr/lib/postgresql/\($0)/bin" }
        return candidates.first { dir in
            ["initdb", "pg_ctl", "postgres"].allSatisfy { FileManager.default.isExecutableFile(atPath: "\(dir)/\($0)") }
        }.map { dir in
            // /usr/local/bin/initdb is usually a link into /usr/lib/postgresql/N/bin; use the real directory.
            let resolved = (try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/initdb")) ?? ""
            return resolved.hasPrefix("/") ? (resolved as NSString).deletingLastPathComponent : dir
        }
    }()

    /// `COORDD_TEST_POSTGRES_URL`, when set: a server (and role allowed to create databases) to use.
    public static let externalURL: String? = {
        let value = ProcessInfo.processInfo.environment["COORDD_TEST_POSTGRES_URL"] ?? ""
        return value.isEmpty ? nil : value
    }()

    /// Whether PostgreSQL tests run here: a server is given or can be started, or this is CI.
    public static let available: Bool = externalURL != nil || binaries != nil || ProcessInfo.processInfo.environment["COORDD_CI"] == "1"

    /// The notice a skipped suite prints.
    public static let skipNotice =
        "PostgreSQL is not installed here (apt-get install postgresql) and COORDD_TEST_POSTGRES_URL is not set; CI runs these"

    /// The server every test shares: started once per process.
    private static let shared = Task<TestPostgresServer, any Error> {
        if let externalURL { return TestPostgresServer(external: externalURL) }
        return try await TestPostgresServer.start()
    }

    /// The shared server's administrative URL (with its password).
    public static func adminURL() async throws -> String {
        try await shared.value.url
    }

    /// A new, empty database on the shared server, for one test.
    public static func database(_ label: String = "t") async throws -> TestDatabase {
        try await shared.value.database(label)
    }
}

/// A database made for one test; ``drop()`` removes it.
public struct TestDatabase: Sendable {
    /// Its name.
    public let name: String
    /// A URL that reaches it, with the password.
    public let url: String
    /// The same URL without the password (give ``TestPostgres/password`` separately).
    public let urlWithoutPassword: String
    let server: TestPostgresServer

    /// Drops the database (connections to it are ended first).
    public func drop() async {
        try? await server.admin { s throws(StreamsError) in
            try s.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }
}

/// One PostgreSQL server: started here (``start()``) or given by URL.
public final class TestPostgresServer: Sendable {
    /// The administrative URL (superuser, database `postgres`), with the password.
    public let url: String
    /// Host and port, for URLs to other databases.
    public let host: String
    /// The port.
    public let port: Int
    /// The data directory when this process started the server.
    public let directory: String?
    private let pool: PostgresPool

    init(external: String) {
        url = external
        host = ""
        port = 0
        directory = nil
        pool = PostgresPool(settings: PostgresSettings(url: external), size: 1)
    }

    private init(port: Int, directory: String) {
        host = "127.0.0.1"
        self.port = port
        self.directory = directory
        url = "postgresql://postgres:\(TestPostgres.password)@127.0.0.1:\(port)/postgres"
        pool = PostgresPool(settings: PostgresSettings(url: url), size: 1)
    }

    /// Runs `body` on the administrative connection.
    func admin<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws(StreamsError) -> T) async throws -> T {
        try await pool.run(body)
    }

    /// A new database; its URL is this server's with the database name replaced.
    public func database(_ label: String) async throws -> TestDatabase {
        let safe = label.lowercased().filter { $0.isLetter || $0.isNumber }.prefix(20)
        let name = "coordd_\(safe)_\(UInt32.random(in: 0...UInt32.max))"
        try await admin { s throws(StreamsError) in try s.execute("CREATE DATABASE \(name)") }
        let withDatabase = Self.replacingDatabase(in: url, with: name)
        return TestDatabase(name: name, url: withDatabase, urlWithoutPassword: PostgresURL.redacted(withDatabase)
            .replacingOccurrences(of: ":***@", with: "@"), server: self)
    }

    /// `postgresql://u:p@h:1/db?x` → the same with `name` as the database.
    static func replacingDatabase(in url: String, with name: String) -> String {
        guard let scheme = url.range(of: "://") else { return url + " dbname=\(name)" }
        let rest = url[scheme.upperBound...]
        let query = rest.firstIndex(of: "?").map { String(rest[$0...]) } ?? ""
        let beforeQuery = rest.firstIndex(of: "?").map { rest[..<$0] } ?? rest
        let authority = beforeQuery.firstIndex(of: "/").map { beforeQuery[..<$0] } ?? beforeQuery
        return String(url[..<scheme.upperBound]) + authority + "/" + name + query
    }

    // MARK: Starting and stopping a server of our own

    /// The unprivileged user the server runs as when the tests run as root (PostgreSQL refuses root).
    static let user = "coordd-test"
    /// Ports tried before giving up on starting a server.
    static let maxPortAttempts = 5

    /// initdb in a new temporary directory, then start on a free port of 127.0.0.1. Stopped by PID when
    /// the process exits.
    public static func start() async throws -> TestPostgresServer {
        guard let bin = TestPostgres.binaries else { throw TestPostgresFailure(TestPostgres.skipNotice) }
        let root = try TemporaryDirectory(prefix: "coordd-pg")
        let data = root.path + "/data"
        let passwordFile = root.path + "/pwfile"
        try TestPostgres.password.write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let owner = root.path
        try await onBlockingThread {
            if getuid() == 0 {
                try ensureUser()
                try run("/bin/chown", ["-R", user, owner])
            }
            try runAsServerUser(bin + "/initdb", [
                "-D", data, "-U", "postgres", "--pwfile", passwordFile, "--auth-local=trust", "--auth-host=scram-sha-256",
                "-E", "UTF8", "--locale=C", "--no-sync",
            ])
        }
        // A random port of the unassigned range; one that is taken fails the start at once, and another is tried.
        var failure: (any Error)?
        for _ in 0..<maxPortAttempts {
            let server = TestPostgresServer(port: Int.random(in: 20_000..<60_000), directory: root.path)
            do {
                try await server.startProcess()
                Registry.remember(server)
                return server
            } catch {
                failure = error
            }
        }
        throw failure ?? TestPostgresFailure("cannot start PostgreSQL")
    }

    /// Starts the server process on its directory (again, after ``stop(mode:)``).
    public func startProcess() async throws {
        guard let directory, let bin = TestPostgres.binaries else { return }
        let port = port
        // pg_ctl -w waits for the server to accept connections: seconds on a loaded machine.
        try await onBlockingThread {
            try Self.runAsServerUser(bin + "/pg_ctl", [
                "-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "60", "start",
                "-o", "-h 127.0.0.1 -p \(port) -k \(directory) -c max_connections=200 -c shared_buffers=32MB",
            ])
        }
    }

    /// The postmaster's PID, from `postmaster.pid`, while it runs.
    public var pid: pid_t? {
        guard let directory, let text = try? String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n").first else { return nil }
        return pid_t(first)
    }

    /// Stops the server by its PID: `SIGINT` is PostgreSQL's fast shutdown (sessions are ended, as a
    /// restart does), `SIGQUIT` its immediate one. Waits up to 30 s for it to exit.
    public func stop(signal: Int32 = SIGINT) async {
        guard let pid else { return }
        kill(pid, signal)
        for _ in 0..<600 where kill(pid, 0) == 0 {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Stops and deletes the server; used at exit for the shared one.
    func destroy() {
        if let pid {
            kill(pid, SIGINT)
            for _ in 0..<600 where kill(pid, 0) == 0 { usleep(50_000) }
        }
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }

    static func ensureUser() throws {
        if getpwnam(user) != nil { return }
        try run("/usr/sbin/useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user])
    }

    static func runAsServerUser(_ program: String, _ arguments: [String]) throws {
        if getuid() == 0 {
            try run("/usr/sbin/runuser", ["-u", user, "--", program] + arguments)
        } else {
            try run(program, arguments)
        }
    }

    /// Runs `program` and waits for it (``ChildProcess``: posix_spawn and waitpid, because `pg_ctl start`
    /// leaves the server holding whatever pipe it was given); its output is quoted when it fails.
    static func run(_ program: String, _ arguments: [String]) throws {
        let outcome = try ChildProcess.runBlocking(program, arguments)
        guard outcome.status == 0 else {
            throw TestPostgresFailure(
                "\(program) \(arguments.joined(separator: " ")) failed (status \(outcome.status)): \(outcome.out)\(outcome.err)")
        }
    }

    /// The servers this process started, stopped when it exits.
    enum Registry {
        nonisolated(unsafe) static var servers: [TestPostgresServer] = []
        static let lock = NSLock()
        static func remember(_ server: TestPostgresServer) {
            lock.lock()
            defer { lock.unlock() }
            if servers.isEmpty { atexit { Registry.stopAll() } }
            servers.append(server)
        }
        static func stopAll() {
            lock.lock()
            let all = servers
            servers = []
            lock.unlock()
            all.forEach { $0.destroy() }
        }
    }
}

/// A PostgreSQL test server that could not be started or used.
public struct TestPostgresFailure: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
