import CoordTestKit
import PostgresKit
import StreamCore
import Testing

/// The schema is created at start, found again on the next start, and a newer one is refused.
@Suite(.enabled(if: TestPostgres.available, Comment(rawValue: TestPostgres.skipNotice)))
struct PostgresSchemaTests {
    @Test func createdOnceAndFoundAgain() async throws {
        let db = try await TestPostgres.database("schema")
        defer { Task { await db.drop() } }
        let pool = PostgresPool(settings: PostgresSettings(url: db.url), size: 3)
        #expect(try await PostgresSchema.installedVersion(on: pool) == 0)
        // Several daemons starting at once: each finishes with the schema in place.
        try await withThrowingTaskGroup(of: Int64.self) { group in
            for _ in 0..<3 { group.addTask { try await PostgresSchema.prepare(on: pool) } }
            var found: [Int64] = []
            for try await version in group { found.append(version) }
            #expect(found.sorted() == [0, PostgresSchema.version, PostgresSchema.version])
        }
        #expect(try await PostgresSchema.prepare(on: pool) == PostgresSchema.version)
        #expect(try await PostgresSchema.installedVersion(on: pool) == PostgresSchema.version)
        await pool.close()
    }

    @Test func newerSchemaIsRefusedWithAClearMessage() async throws {
        let db = try await TestPostgres.database("newer")
        defer { Task { await db.drop() } }
        let pool = PostgresPool(settings: PostgresSettings(url: db.url), size: 1)
        try await PostgresSchema.prepare(on: pool)
        try await pool.run { s throws(StreamsError) in try s.execute("UPDATE coordd_schema SET version = 99") }
        do {
            try await PostgresSchema.prepare(on: pool)
            Issue.record("a newer schema must be refused")
        } catch {
            #expect(error.code == .permanent)
            #expect(error.name == "schema_too_new")
            #expect(error.message.contains("schema version 99, newer than this coordd knows (\(PostgresSchema.version))"))
        }
        await pool.close()
    }
}
