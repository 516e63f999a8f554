import CoordTestKit
import Dispatch
import Foundation
import PostgresKit
import StreamCore
import Synchronization
import Testing

/// The client layer against a real PostgreSQL: parameters, transactions, the pool's bounds, the
/// statement timeout, error mapping and passwords.
@Suite(.enabled(if: TestPostgres.available, Comment(rawValue: TestPostgres.skipNotice)))
struct PostgresPoolTests {
    @Test func parametersRoundTripInBinary() async throws {
        let db = try await TestPostgres.database("params")
        defer { Task { await db.drop() } }
        let pool = PostgresPool(settings: PostgresSettings(url: db.url), size: 2)
        let payload: [UInt8] = [0, 1, 2, 0xFF, 0x7F, 0x80] + Array(repeating: 0x5C, count: 1_000)
        let uuid = WireUUID.random()
        let row = try await pool.run { s throws(StreamsError) in
            let rows = try s.query("SELECT $1::bigint, $2::text, $3::bytea, $4::boolean, $5::uuid, $6::text, $7::bytea, 42::int4, -7::int2",
                                   [.int64(-5_000_000_000), .text("héllo 'quoted'"), .bytes(payload), .bool(true), .uuid(uuid), .null,
                                    .bytes([])])
            return (try rows.int64(0, 0), try rows.string(0, 1), try rows.bytes(0, 2), try rows.bool(0, 3), try rows.uuid(0, 4),
                    rows.isNull(0, 5), try rows.bytes(0, 6), try rows.int64(0, 7), try rows.int64(0, 8))
        }
        #expect(row.0 == -5_000_000_000)
        #expect(row.1 == "héllo 'quoted'")
        #expect(row.2 == payload)
        #expect(row.3 == true)
        #expect(row.4 == uuid)
        #expect(row.5)
        #expect(row.6 == [])
        #expect(row.7 == 42)
        #expect(row.8 == -7)
        await pool.close()
    }

    @Test func transactionCommitsOrRollsBackWhole() async throws {
        let db = try await TestPostgres.database("trx")
        defer { Task { await db.drop() } }
        let pool = PostgresPool(settings: PostgresSettings(url: db.url), size: 1)
        try await pool.run { s throws(StreamsError) in try s.execute("CREATE TABLE t (k bigint PRIMARY KEY)") }
        try await pool.transaction { s throws(StreamsError) in
            try s.query("INSERT INTO t VALUES ($1)", [.int64(1)])
            try s.query("INSERT INTO t VALUES ($1)", [.int64(2)])
        }
        await #expect(throws: StreamsError.self) {
            try await pool.transaction { s throws(StreamsError) in
                try s.query("INSERT INTO t VALUES ($1)", [.int64(3)])
                try s.query("INSERT INTO t VALUES ($1)", [.int64(1)])  // duplicate: the whole transaction goes
            }
        }
        let count = try await pool.run { s throws(StreamsError) in try s.query("SELECT count(*) FROM t").int64(0, 0) }
        #expect(count == 2)
        await pool.close()
    }

    @Test func constraintViolationIsPermanentWithItsSQLState() async throws {
        let db = try await TestPostgres.database("errs")
        defer { Task { await db.drop() } }
        let pool = PostgresPool(settings: PostgresSettings(url: db.url), size: 1)
        do {
            try await pool.run { s throws(StreamsError) in try s.execute("SELECT * FROM no_such_table") }
            Issue.record("expected an error")
        } catch {
            #expect(error.name == "storage_error")
            #expect(error.code == .permanent)
            #expect(error.message.contains("42P01"))
        }
        await pool.close()
    }

    @Test func statementTimeoutCancelsAHangingQueryAsTransient() async throws {
        let db = try await TestPostgres.database("timeout")
        defer { Task { await db.drop() } }
        let pool = PostgresPool(settings: PostgresSettings(url: db.url, statementTimeoutMs: 200), size: 1)
        do {
            try await pool.run { s throws(StreamsError) in try s.execute("SELECT pg_sleep(30)") }
            Issue.record("expected the statement timeout")
        } catch {
            #expect(error.code == .transient)
            #expect(error.name == "storage_error")
            #expect(error.message.contains("statement timeout"))
        }
        // The connection stays usable.
        let one = try await pool.run { s throws(StreamsError) in try s.query("SELECT 1::int8").int64(0, 0) }
        #expect(one == 1)
        await pool.close()
    }

    @Test func waitingRequestsAreBoundedWithAClearError() async throws {
        let db = try await TestPostgres.database("bound")
        defer { Task { await db.drop() } }
        let pool = PostgresPool(settings: PostgresSettings(url: db.url), size: 1, maxWaiting: 2)
        // One request holds the only connection until released; two wait; the fourth is refused at once.
        let release = DispatchSemaphore(value: 0)
        let holding = Atomic<Bool>(false)
        let holder = Task {
            try await pool.run { s throws(StreamsError) in
                holding.store(true, ordering: .releasing)
                release.wait()
                try s.execute("SELECT 1")
            }
        }
        #expect(await eventually { holding.load(ordering: .acquiring) })
        var waiting: [Task<Void, any Error>] = []
        for expected in 1...2 {
            waiting.append(Task { try await pool.run { s throws(StreamsError) in try s.execute("SELECT 1") } })
            #expect(await eventually { pool.waiting == expected })
        }
        do {
            try await pool.run { s throws(StreamsError) in try s.execute("SELECT 1") }
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == .transient)
            #expect(error.message.contains("waiting for one of 1 connections"))
        }
        release.signal()
        try await holder.value
        for task in waiting { try await task.value }
        await pool.close()
        await #expect(throws: StreamsError.shuttingDown.with(message: "postgres pool is closed")) {
            try await pool.run { s throws(StreamsError) in try s.execute("SELECT 1") }
        }
    }

    @Test func passwordComesFromSettingsAndNeverAppearsInErrors() async throws {
        let db = try await TestPostgres.database("pw")
        defer { Task { await db.drop() } }
        guard db.urlWithoutPassword != db.url else { return }  // an external URL without a password: nothing to test
        let good = PostgresPool(settings: PostgresSettings(url: db.urlWithoutPassword, password: TestPostgres.password), size: 1)
        let one = try await good.run { s throws(StreamsError) in try s.query("SELECT 1::int8").int64(0, 0) }
        #expect(one == 1)
        await good.close()
        let wrong = "wrong-secret-\(UInt32.random(in: 0...UInt32.max))"
        let bad = PostgresPool(settings: PostgresSettings(url: db.url.replacingOccurrences(of: TestPostgres.password, with: wrong)),
                               size: 1)
        do {
            try await bad.run { s throws(StreamsError) in try s.execute("SELECT 1") }
            Issue.record("expected an authentication failure")
        } catch {
            #expect(error.code == .transient)
            #expect(error.message.contains("password authentication failed"))
            #expect(!error.message.contains(wrong))
            #expect(error.message.contains(":***@"))
        }
        await bad.close()
    }

    @Test(arguments: [
        ("postgresql://u:secret@h:5432/db?sslmode=require", "postgresql://u:***@h:5432/db?sslmode=require"),
        ("postgres://u@h/db?password=secret&sslmode=verify-full", "postgres://u@h/db?password=***&sslmode=verify-full"),
        ("postgresql://h/db", "postgresql://h/db"),
        ("host=h password='se cret' dbname=d", "host=h password=*** dbname=d"),
        ("host=h password = secret", "host=h password=***"),
    ])
    func urlsAreRedacted(url: String, shown: String) {
        #expect(PostgresURL.redacted(url) == shown)
        #expect(!PostgresSettings(url: url, password: "other").description.contains("secret"))
    }
}
