import Foundation
import PostgresKit
import StreamCore
import Synchronization

/// What `--storage postgres` has reached, for `/readyz` and the log: the connection and the schema.
///
/// At start it connects and creates or verifies the schema. A schema newer than this build knows stops
/// the start; a server that cannot be reached does not: the daemon starts not ready, saying why, and
/// tries again every ``retryIntervalMs`` until the server answers. The store backend over this schema is
/// not part of this build, so even a reachable server with a current schema leaves the daemon not
/// ready, and streams for a store end with a transient `store_unavailable` saying so.
public final class PostgresStorageStatus: Sendable {
    /// How long between connection attempts while PostgreSQL cannot be reached.
    public static let retryIntervalMs: Int64 = 2_000
    /// What streams are told while the backend is missing.
    public static let backendMissing = "postgres storage: the store backend is not available in this build"

    /// The connections.
    public let pool: PostgresPool
    private let reason: Mutex<String>
    private let retry = Mutex<Task<Void, Never>?>(nil)

    private init(pool: PostgresPool, reason: String) {
        self.pool = pool
        self.reason = Mutex(reason)
    }

    /// Why the daemon is not ready (always set while the backend is missing).
    public var notReadyReason: String? { reason.withLock { $0 } }

    /// Connects and prepares the schema for `--storage postgres`; nil for the other storages.
    public static func start(_ configuration: DaemonConfiguration, logger: Logger) async throws(DaemonStartError) -> PostgresStorageStatus? {
        guard configuration.storage == .postgres, let url = configuration.postgresURL else { return nil }
        var password: String?
        if let file = configuration.postgresPasswordFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw DaemonStartError(.configuration, "cannot read the PostgreSQL password file \(file)")
            }
            // One line; the line break an editor adds is not part of the password.
            password = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        }
        let settings = PostgresSettings(url: url, password: password, statementTimeoutMs: configuration.postgresStatementTimeoutMs)
        let status = PostgresStorageStatus(pool: PostgresPool(settings: settings, size: configuration.postgresPoolSize),
                                           reason: "postgres storage: connecting to \(settings.redactedURL)")
        if try await status.attempt(logger: logger, atStart: true) == false {
            status.retry.withLock { $0 = Task { await status.retryUntilReachable(logger: logger) } }
        }
        return status
    }

    /// One try at connecting and preparing the schema; true when it is settled (prepared, or refused for
    /// good), false when it should be tried again.
    private func attempt(logger: Logger, atStart: Bool) async throws(DaemonStartError) -> Bool {
        let url = pool.settings.redactedURL
        do {
            let before = try await PostgresSchema.prepare(on: pool)
            logger.info("postgres schema ready", ["postgres": url, "version": PostgresSchema.version,
                                                  "created": before == 0 ? "yes" : "no"])
            reason.withLock {
                $0 = "\(Self.backendMissing) (connected to \(url), schema version \(PostgresSchema.version))"
            }
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

    private func retryUntilReachable(logger: Logger) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(Self.retryIntervalMs))
            if Task.isCancelled { return }
            if (try? await attempt(logger: logger, atStart: false)) ?? true { return }
        }
    }

    /// Stops retrying and closes the connections.
    public func close() async {
        retry.withLock { $0 }?.cancel()
        await pool.close()
    }
}
