import CoordTestKit
import Dispatch
import PostgresKit
import StreamCore
import Testing

/// A server restart under the pool: what is in flight fails with the transient `storage_error`, what
/// comes after succeeds on new connections, with nothing done by hand.
@Suite(.enabled(if: TestPostgres.binaries != nil || TestPostgres.available && TestPostgres.externalURL == nil,
                Comment(rawValue: "needs PostgreSQL's binaries to restart a server of its own")))
struct PostgresReconnectTests {
    @Test func requestsInFlightFailTransientlyAndLaterOnesSucceedAfterARestart() async throws {
        let server = try await TestPostgresServer.start()
        defer { Task { await server.stop() } }
        let pool = PostgresPool(settings: PostgresSettings(url: server.url), size: 2)
        for _ in 0..<4 {
            let one = try await pool.run { s throws(StreamsError) in try s.query("SELECT 1::int8").int64(0, 0) }
            #expect(one == 1)
        }
        // A request in flight while the server goes down (fast shutdown ends its session).
        let started = DispatchSemaphore(value: 0)
        let inFlight = Task {
            try await pool.run { s throws(StreamsError) in
                started.signal()
                try s.execute("SELECT pg_sleep(20)")
            }
        }
        started.wait()
        #expect(await eventually { server.pid != nil })
        await server.stop()
        do {
            try await inFlight.value
            Issue.record("the request in flight should have failed")
        } catch let error as StreamsError {
            #expect(error.code == .transient)
            #expect(error.name == "storage_error")
        }
        // While it is down: transient, naming the server without a password.
        do {
            try await pool.run { s throws(StreamsError) in try s.execute("SELECT 1") }
            Issue.record("the server is down")
        } catch {
            #expect(error.code == .transient)
            #expect(error.message.contains("cannot connect"))
            #expect(!error.message.contains(TestPostgres.password))
        }
        try await server.startProcess()
        // Both connections of the pool serve again; each reconnected by itself.
        for _ in 0..<6 {
            let two = try await pool.run { s throws(StreamsError) in try s.query("SELECT 2::int8").int64(0, 0) }
            #expect(two == 2)
        }
        await pool.close()
    }
}
