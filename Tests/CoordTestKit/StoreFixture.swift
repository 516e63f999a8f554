import PostgresKit
import StreamCore
import Synchronization

/// The store implementations every store test runs against (streamkit's configurations loop, §8).
public enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case memory
    case file
    case postgres

    /// Every kind that can run here: PostgreSQL only where a server is given or can be started (and
    /// always in CI, where a missing one fails), see ``TestPostgres/available``.
    public static var allCases: [StoreKind] {
        TestPostgres.available ? [.memory, .file, .postgres] : [.memory, .file]
    }

    public var description: String { rawValue }

    /// True for the kinds whose contents outlive a close.
    public var isDurable: Bool {
        switch self {
        case .memory: false
        case .file, .postgres: true
        }
    }
}

/// A store of one kind with a manual clock and, for file stores, its own temporary directory; for
/// PostgreSQL stores, a database of its own (made on the first open).
public struct StoreFixture: Sendable {
    /// Which store.
    public let kind: StoreKind
    /// The store's wall clock.
    public let clock: ManualWallClock
    /// Limits to open the store with.
    public let limits: StoreLimits
    private let directory: TemporaryDirectory
    private let database: FixtureDatabase

    /// Creates the fixture (and its directory).
    public init(_ kind: StoreKind, limits: StoreLimits = StoreLimits(), clock: ManualWallClock = ManualWallClock()) throws {
        self.kind = kind
        self.limits = limits
        self.clock = clock
        directory = try TemporaryDirectory(prefix: "coordd-store")
        database = FixtureDatabase()
    }

    /// The same stores (same directory, database and clock), opened with `limits` from now on: a daemon
    /// of another build over the files an earlier one wrote.
    public func reopening(with limits: StoreLimits) -> StoreFixture {
        StoreFixture(kind: kind, clock: clock, limits: limits, directory: directory, database: database)
    }

    private init(kind: StoreKind, clock: ManualWallClock, limits: StoreLimits, directory: TemporaryDirectory,
                 database: FixtureDatabase) {
        self.kind = kind
        self.clock = clock
        self.limits = limits
        self.directory = directory
        self.database = database
    }

    /// The store's directory (file stores).
    public var path: String { directory.path }

    /// Opens the store named `name` (each name has its own directory, or store UUID); for durable kinds,
    /// opening again after `close()` reads back what was written.
    public func open(name: String = "store") async throws -> any StreamStore {
        try await open(name: name, clock: clock)
    }

    /// Opens the store named `name` on another wall clock (the system's, for tests of real time).
    public func open(name: String = "store", clock: any WallClock) async throws -> any StreamStore {
        switch kind {
        case .memory: return MemoryStore(limits: limits, clock: clock)
        case .file: return try FileStore(directory: "\(path)/\(name)", limits: limits, clock: clock)
        case .postgres:
            let pool = try await database.pool()
            let owner = try await FixtureDatabase.takeOver(FixtureDatabase.storeID(name), on: pool)
            return try await PostgresStore.open(owner: owner, pool: pool, limits: limits, clock: clock)
        }
    }

    /// The store as its next owner sees it: a durable store closed and opened again, a memory store the
    /// same one (its contents live only as long as it does).
    public func reopen(_ store: any StreamStore, name: String = "store") async throws -> any StreamStore {
        guard kind.isDurable else { return store }
        await store.close()
        return try await open(name: name)
    }

    /// Removes the directory, and the database with its connections (in the background: nothing waits
    /// for a database of a finished test).
    public func remove() {
        directory.remove()
        database.drop()
    }
}

/// The database of one PostgreSQL fixture and the pool its stores share, made on first use.
public final class FixtureDatabase: Sendable {
    private struct Made: Sendable {
        var database: TestDatabase
        var pool: PostgresPool
    }

    private let made = Mutex<Task<Made, any Error>?>(nil)
    /// Connections of a fixture's pool: a writer and a reader or two.
    static let poolSize = 3

    /// The pool, over a new database with the schema prepared.
    func pool() async throws -> PostgresPool {
        let task = made.withLock { made in
            if let made { return made }
            let task = Task<Made, any Error> {
                let database = try await TestPostgres.database("store")
                let pool = PostgresPool(settings: PostgresSettings(url: database.url), size: Self.poolSize)
                try await PostgresSchema.prepare(on: pool)
                return Made(database: database, pool: pool)
            }
            made = task
            return task
        }
        return try await task.value.pool
    }

    /// Closes the pool and drops the database, if one was made.
    func drop() {
        guard let task = made.withLock({ $0 }) else { return }
        Task {
            guard let made = try? await task.value else { return }
            await made.pool.close()
            await made.database.drop()
        }
    }

    /// The node id a fixture's stores are owned by.
    public static let node = "store-fixture"

    /// Takes `store` over as the fixture's node (always possible: the fixture is its only owner).
    public static func takeOver(_ store: WireUUID, on pool: PostgresPool, node: String = node) async throws -> OwnerEpoch {
        let sql = StoreOwnershipSQL(node: node, ttlMs: 60_000)
        switch try await pool.transaction({ s throws(StreamsError) in try sql.takeOver(store, on: s) }) {
        case .owned(let owner): return owner
        case .ownedElsewhere(let other): throw other.refusal(of: store)
        }
    }

    /// A store UUID for a fixture's store name: its UTF-8 bytes folded into 16 (the names a test uses
    /// differ, and each fixture has a database of its own).
    static func storeID(_ name: String) -> WireUUID {
        if let id = WireUUID(name) { return id }
        var bytes = [UInt8](repeating: 0, count: 16)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for (i, byte) in name.utf8.enumerated() {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            bytes[i % 16] ^= byte
        }
        for i in 0..<8 { bytes[8 + i] ^= UInt8(truncatingIfNeeded: hash >> (8 * UInt64(i))) }
        return WireUUID(bytes: bytes) ?? .random()
    }
}
