import PostgresKit
import StreamCore

/// PostgreSQL stores: a store exists when its UUID is in `coordd_stores`; each opens a
/// ``PostgresStore`` on the daemon's one pool, once this daemon took it over (``StoreOwnerships``).
/// Until the schema is prepared (``PostgresStorageStatus``) every request is refused with a transient
/// `store_unavailable` saying why.
public final class PostgresStoreCatalog: StoreCatalog {
    /// The connections and whether the schema is ready.
    public let status: PostgresStorageStatus
    /// The stores this daemon owns, and the take-over that opening one starts with.
    public let ownerships: StoreOwnerships

    /// A catalog over `status`'s connections, opening stores through `ownerships`.
    public init(status: PostgresStorageStatus, ownerships: StoreOwnerships) {
        self.status = status
        self.ownerships = ownerships
    }

    public func contains(_ store: WireUUID) async throws(StreamsError) -> Bool {
        try ready()
        let sql = PostgresStoreSQL(store: store)
        return try await unavailableWhenFailing { () async throws(StreamsError) in
            try await status.pool.run { s throws(StreamsError) in try sql.exists(on: s) }
        }
    }

    public func create(_ store: WireUUID) async throws(StreamsError) -> Bool {
        try ready()
        let sql = PostgresStoreSQL(store: store)
        return try await unavailableWhenFailing { () async throws(StreamsError) in
            try await status.pool.run { s throws(StreamsError) in try sql.create(on: s) }
        }
    }

    public func open(_ store: WireUUID) async throws(StreamsError) -> any StreamStore {
        try ready()
        return try await ownerships.open(store)
    }

    /// Its stores live in PostgreSQL: an idle one may be closed and opened again.
    public var keepsContentsWhenClosed: Bool { true }

    private func ready() throws(StreamsError) {
        if let reason = status.notReadyReason { throw .storeUnavailable(because: reason) }
    }

    /// Runs `body`; a failure to reach PostgreSQL becomes the store's unavailability (transient).
    private func unavailableWhenFailing<T>(_ body: () async throws(StreamsError) -> T) async throws(StreamsError) -> T {
        do {
            return try await body()
        } catch where error.name == "storage_error" {
            throw .storeUnavailable(because: error.message)
        }
    }
}
