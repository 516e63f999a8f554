import Foundation
import PostgresKit
import StreamCore
import Synchronization

/// What `--storage postgres` has reached, for `/readyz`, the log and the store catalog: the connections
/// and the schema.
///
/// At start it connects and creates or verifies the schema. A schema newer than this build knows stops
/// the start; a server that cannot be reached does not: the daemon starts not ready, saying why, and
/// tries again every ``retryIntervalMs`` until the server answers. Once the schema is prepared the daemon
/// is ready and stores open; before, streams for a store end with a transient `store_unavailable` that
/// gives the same reason.
public final class PostgresStorageStatus: Sendable {
    /// How long between connection attempts while PostgreSQL cannot be reached.
    public static let retryIntervalMs: Int64 = 2_000

    /// The connections.
    public let pool: PostgresPool
    /// Why the daemon is not ready; nil once the schema is prepared.
    private let reason: Mutex<String?>
    private let retry = Mutex<Task<Void, Never>?>(nil)
    /// The clock the retries wait on.
    private let clock: any MonotonicClock = SystemMonotonicClock()

    private init(pool: PostgresPool, reason: String) {
        self.pool = pool
        self.reason = Mutex(reason)
    }

    /// Why the daemon is not ready, or nil once PostgreSQL is reached and its schema prepared.
    public var notReadyReason: String? { reason.withLock { $0 } }

    /// The connections for `--storage postgres` (made on first use; nothing is reached yet); nil for the
    /// other storages. Fails when the password file cannot be read.
    public static func make(_ configuration: DaemonConfiguration) throws(DaemonStartError) -> PostgresStorageStatus {
        guard let url = configuration.postgresURL else {
            throw DaemonStartError(.configuration, "postgres storage needs --postgres-url")
        }
        var password: String?
        if let file = configuration.postgresPasswordFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw DaemonStartError(.configuration, "cannot read the PostgreSQL password file \(file)")
            }
            // One line; the line break an editor adds is not part of the password.
            password = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        }
        // A transaction left idle for an ownership TTL belongs to a daemon that is paused or gone, whose
        // stores another daemon may take over: PostgreSQL ends it, so its row locks do not hold the take-over.
        let settings = PostgresSettings(url: url, password: password, statementTimeoutMs: configuration.postgresStatementTimeoutMs,
                                        idleInTransactionTimeoutMs: configuration.ownershipTTLMs)
        return PostgresStorageStatus(pool: PostgresPool(settings: settings, size: configuration.postgresPoolSize),
                                     reason: "postgres storage: connecting to \(settings.redactedURL)")
    }

    /// Connects and prepares the schema; when PostgreSQL cannot be reached, goes on trying in the
    /// background. `whenReady` runs once the schema is prepared (now, or on a later try).
    public func start(logger: Logger, whenReady: @escaping @Sendable () async -> Void) async throws(DaemonStartError) {
        if try await attempt(logger: logger, atStart: true) {
            if notReadyReason == nil { await whenReady() }
            return
        }
        retry.withLock { $0 = Task { await self.retryUntilReachable(logger: logger, whenReady: whenReady) } }
    }

    /// One try at connecting and preparing the schema; true when it is settled (prepared, or refused for
    /// good), false when it should be tried again.
    private func attempt(logger: Logger, atStart: Bool) async throws(DaemonStartError) -> Bool {
        let url = pool.settings.redactedURL
        do {
            let before = try await PostgresSchema.prepare(on: pool)
            logger.info("postgres schema ready", ["postgres": url, "version": PostgresSchema.version,
                                                  "created": before == 0 ? "yes" : before < PostgresSchema.version ? "upgraded" : "no"])
            reason.withLock { $0 = nil }
            return true
        } catch where error.name == "schema_too_new" {
            if atStart {
                await pool.close()
                throw DaemonStartError(.environment, error.message)
            }
            logger.error("postgres schema refused", ["postgres": url, "error": error.message])
            reason.withLock { $0 = error.message }
            return true
        } catch {
            logger.warn("postgres unreachable", ["postgres": url, "error": error.message])
            reason.withLock { $0 = "postgres storage: cannot reach \(url): \(error.message)" }
            return false
        }
    }

    private func retryUntilReachable(logger: Logger, whenReady: @escaping @Sendable () async -> Void) async {
        while !Task.isCancelled {
            do { try await clock.sleep(untilMs: clock.nowMs() + Self.retryIntervalMs) } catch { return }
            guard (try? await attempt(logger: logger, atStart: false)) ?? true else { continue }
            if notReadyReason == nil { await whenReady() }
            return
        }
    }

    /// Stops retrying and closes the connections.
    public func close() async {
        retry.withLock { $0 }?.cancel()
        await pool.close()
    }
}
